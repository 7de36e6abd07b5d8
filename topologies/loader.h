// Loads a topology file (YAML) into its canonical form (topology.proto): groups and
// ranges expanded, wildcards resolved, defaults applied, units converted. Every error
// names the file, line, column and key, says what was expected, and suggests the
// nearest valid key for a typo. docs/topology-format.md is the reference.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "topologies/topology.pb.h"

namespace shakedown::topology {

// "FILE:LINE:COL: KEY: what was wrong" (line and column 1-based).
class LoadError : public std::runtime_error {
 public:
  LoadError(std::string file, int line, int column, std::string key, const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& key() const { return key_; }
  // The message without the location.
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string key_;
  std::string message_;
};

// The largest number of nodes and links a file may expand to: a range beyond them is a
// typo more often than an experiment (a file raises them with `limits:`).
inline constexpr std::size_t kMaxNodes = 2'000'000;
inline constexpr std::size_t kMaxLinks = 4'000'000;
inline constexpr std::uint32_t kMaxConnectionsPerClient = 200'000'000;
// A topology file is at most this large (SHAKEDOWN_MAX_FILE_BYTES raises it), and holds
// at most this many YAML values once its aliases are expanded.
inline constexpr std::uint64_t kMaxFileBytes = 64ull << 20;
// A run without `run: {until}` stops at this simulated time at the latest, and no time
// in a file may be later than its horizon (the larger of this and `until`); `until`
// goes up to kMaxHorizonNs (about three years), which keeps every sum of times a run
// makes far from the 64-bit limit.
inline constexpr std::int64_t kDefaultHorizonNs = 1'000'000ll * 1'000'000'000;
inline constexpr std::int64_t kMaxHorizonNs = 100'000'000ll * 1'000'000'000;
// A listener's queues when a workload says nothing (Linux's somaxconn and
// tcp_max_syn_backlog).
inline constexpr std::uint32_t kDefaultBacklog = 4096, kDefaultSynBacklog = 1024;
inline constexpr std::uint64_t kMaxYamlValues = 8'000'000;
// The ranks a distributed run may have (and a `partition:` may name).
inline constexpr std::uint32_t kMaxRanks = 65536;
std::uint64_t max_file_bytes();
// The text of a file, refused with a located error when it is a folder, cannot be read
// (with the reason), or is past max_file_bytes().
std::string read_topology_file(const std::string& path);

// Names of nodes, groups, workloads and experiments: they become folder and file names
// (the run folder, a host's capture), so a letter first, then letters, digits, '_',
// '-' or '.', and at most kMaxNameLength characters.
inline constexpr std::size_t kMaxNameLength = 128;
bool valid_name(std::string_view name);

Topology load_file(const std::string& path);
Topology load_string(std::string_view text, const std::string& file_name = "<input>");

}  // namespace shakedown::topology
