// `shakedown compare RUN_A RUN_B`: two runs of one file side by side — typically the
// same file on shakedown's engine and on ns-3's (docs/ns3.md) — from their folders.
// Connections are paired by what both engines share: the server's port, the client
// host, and the order in which that client started them (ports and ISNs are each
// engine's own).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shakedown::controller {

struct CompareOptions {
  std::string a, b;       // run folders
  std::string html;       // non-empty: also a self-contained page there
  std::size_t top = 10;   // connections listed by how much they differ
};

struct ConnectionDifference {
  std::uint64_t id_a = 0, id_b = 0;
  std::string client, server;  // host names, "server:80" with the port
  std::int64_t handshake_a = -1, handshake_b = -1, teardown_a = -1, teardown_b = -1;  // ns, -1 never
  std::string outcome_a, outcome_b;
  // How much they differ: an outcome that differs first, then the larger of the
  // handshake's and the teardown's differences.
  bool outcome_differs() const { return outcome_a != outcome_b; }
  std::int64_t size() const;
};

struct Comparison {
  std::string name_a, name_b;  // "shakedown", "ns3": the engine each ran on
  std::vector<ConnectionDifference> pairs;  // every paired connection, largest difference first
  std::size_t only_a = 0, only_b = 0;       // connections with no partner
  std::size_t handshake_equal = 0, teardown_equal = 0, outcome_equal = 0;
  std::string table;  // the side-by-side figures of the two summaries, as text
};

// Reads both folders; throws std::runtime_error naming the file when one is not a run's.
Comparison compare_runs(const std::string& a, const std::string& b);

// The report as text (what the command prints) and as a page with the two ladders of
// the connection that differs most.
std::string compare_text(const Comparison& c, std::size_t top);
std::string compare_html(const Comparison& c, const CompareOptions& o);

// The command: prints the report, writes the page; exit codes as cli.h's.
int compare(const CompareOptions& o);

}  // namespace shakedown::controller
