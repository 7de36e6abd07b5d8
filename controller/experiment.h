// shakedown as a library, for C++ test suites: describe a topology (a file, YAML text,
// or the TopologyBuilder), run it in the test's own process, and look at the results
// — connections, events, the summary, the expectations. controller/testing.h adds
// GoogleTest matchers. docs/library.md is the guide.
//
//   auto results = shakedown::Experiment::from_file("lossy.yaml").seed(7).run();
//   EXPECT_EQ(results.exit_code(), 0);
//   EXPECT_THAT(results.connection(1), shakedown::testing::Completed());
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/event_log.h"
#include "controller/expectations.h"
#include "emulator/time.h"
#include "topologies/assembler.h"
#include "topologies/topology.pb.h"

namespace shakedown {

// One connection of a finished run: a row of connections.csv (docs/traces.md), made
// from the run's connection table (not read back from the file).
struct ConnectionRecord {
  std::uint64_t id = 0;
  std::string outcome;  // completed, reset, refused, timed_out, crashed, open
  std::string client, server;  // host names
  std::string client_address, server_address;  // "198.18.0.1:32768"
  std::optional<Duration> handshake, teardown;
  // Any column by name; nullopt when the field is empty (it did not happen).
  std::optional<std::int64_t> number(const std::string& column) const;
  std::optional<Duration> time(const std::string& column) const;  // a *_ns column
  std::map<std::string, std::string> columns;
};

// One line of events.jsonl, from the run's events in memory.
struct TraceEvent {
  std::int64_t t_ns = 0;
  std::string host;
  std::optional<std::uint64_t> conn;
  std::string ev;       // state, send, recv, retransmit, ...
  nlohmann::json line;  // every field
};

class Results {
 public:
  // 0 done, 1 an expectation failed, 2 bad input, 3 the run failed.
  int exit_code() const { return exit_code_; }
  // What the run wrote to its standard error: the reason for a 2 or a 3.
  const std::string& errors() const { return errors_; }
  const std::string& dir() const { return dir_; }
  const std::vector<ConnectionRecord>& connections() const { return connections_; }
  // Throws std::out_of_range for an id the run does not have.
  const ConnectionRecord& connection(std::uint64_t id) const;
  // The first connection from host `client` to `server` (by name), then the next ones.
  std::vector<const ConnectionRecord*> connections_between(const std::string& client, const std::string& server) const;
  const nlohmann::json& summary() const { return summary_; }
  const std::vector<controller::ExpectationResult>& expectations() const { return expectations_; }
  // Events of one kind (all when empty), of one connection (all when nullopt), in order.
  std::vector<TraceEvent> events(std::string_view ev = {}, std::optional<std::uint64_t> conn = std::nullopt) const;
  // A side's state (0 client, 1 server) at a time, from the state events: "TIME_WAIT".
  std::string state_at(std::uint64_t conn, int side, Duration t) const;

 private:
  friend class Experiment;
  int exit_code_ = 0;
  std::string errors_;
  std::string dir_;
  std::vector<ConnectionRecord> connections_;
  nlohmann::json summary_;
  std::vector<controller::ExpectationResult> expectations_;
  std::vector<controller::TraceRecord> events_;
  std::shared_ptr<const controller::TraceNames> names_;
  std::vector<TraceEvent> read_events_;  // a run across processes: events.jsonl, read back
  std::shared_ptr<void> temporary_;  // removes dir_ with the last copy, when it was temporary
};

class Experiment {
 public:
  // Throws topology::LoadError (file:line:col: key: message) for a malformed topology.
  static Experiment from_file(const std::string& path);
  static Experiment from_yaml(std::string_view yaml, const std::string& name = "<inline>");
  explicit Experiment(topology::Topology topology) : topology_(std::move(topology)) {}

  Experiment& seed(std::uint64_t seed);
  Experiment& until(Duration t);
  Experiment& events(std::string kinds);  // as run --events (default all)
  Experiment& captures(std::string what);  // as run --pcap (default none)
  // Where the files go (default: a fresh temporary folder, removed when the last copy
  // of the Results goes).
  Experiment& out(std::string dir);
  // Across this many processes (`shakedown run --ranks N`, docs/distributed.md); 0, the
  // default, runs in this process. The results are the same as from one process (the
  // files byte for byte); they are read back from the run's folder. It needs the
  // shakedown program: $SHAKEDOWN_BIN, else `shakedown` on the PATH, and mpirun.
  Experiment& ranks(std::uint32_t n);
  // "shakedown" (the default), or "ns3": the same topology on ns-3's TCP (docs/ns3.md),
  // in this process; a topology ns-3 cannot express gives exit_code() 2 and errors()
  // lists each feature and where it is.
  Experiment& engine(std::string name);
  topology::Topology& topology() { return topology_; }

  // Runs in this process and thread; deterministic like `shakedown run`.
  Results run() const;

 private:
  topology::Topology topology_;
  std::optional<std::uint64_t> seed_;
  std::optional<Duration> until_;
  std::string events_ = "all";
  std::string captures_ = "none";
  std::string out_;
  std::uint32_t ranks_ = 0;
  std::string engine_ = "shakedown";
  Results run_across_processes(const std::string& dir) const;
};

// A topology in code, with every default and check of the file format: the builder
// assembles the canonical form with the loader's own pieces (topologies/assembler.h),
// so that a topology built here and the same one written by hand are the same
// canonical topology.
class TopologyBuilder {
 public:
  struct Link {
    Duration delay = Duration::zero();
    Duration jitter = Duration::zero();
    double loss_percent = 0;
    std::string rate;  // "100Mbps"; empty: unlimited
    std::string more;  // any other keys of a link, as in the file: "queue: 100, reorder: 5%"
  };
  struct Workload {
    std::string app = "connect";  // connect, bulk, request-response, echo, stream
    std::string from;             // a host or group reference: client, client*
    std::string to;               // a host
    std::uint16_t port = 80;
    std::uint32_t connections = 1;
    std::string close = "client";
    std::string more;  // "bytes: 10KB, start: {uniform: [0s, 1s]}"
  };

  explicit TopologyBuilder(std::string name = "experiment");
  TopologyBuilder& seed(std::uint64_t seed);
  // TCP settings for every host, as the file's defaults.tcp: "min_rto: 200ms, sack: false".
  TopologyBuilder& tcp(std::string settings);
  TopologyBuilder& host(const std::string& name);
  // "client[1..100]": a group, as in the file.
  TopologyBuilder& hosts(const std::string& range);
  TopologyBuilder& router(const std::string& name);
  TopologyBuilder& link(const std::string& a, const std::string& b, const Link& settings);
  TopologyBuilder& workload(const Workload& w);
  // A targeted packet fault, as in the file: "{match: {link: [client, r], flags: SYN}, delay: 30s}".
  TopologyBuilder& fault(std::string fault);
  TopologyBuilder& expect(std::string expectation);

  // The file format's text the calls describe (to save or show the topology; build()
  // does not read it).
  std::string yaml() const;
  // Throws topology::LoadError if it is not a valid topology.
  topology::Topology build() const;
  Experiment experiment() const { return Experiment(build()); }

 private:
  topology::Assembler assembler_;
  struct Text {
    std::string name;
    std::optional<std::uint64_t> seed;
    std::string tcp;
    std::vector<std::string> hosts, routers, links, workloads, faults, expect;
  } yaml_;
};

}  // namespace shakedown
