// `shakedown run`: load a topology file, build the network, run it in virtual time,
// and leave the traces in a folder (docs/traces.md). The CLI is a thin layer over
// this, and tests call it directly.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "controller/connection_table.h"
#include "controller/event_log.h"
#include "controller/expectations.h"
#include "topologies/topology.pb.h"

namespace shakedown::controller {

// What a run gives back to a caller in the same process (sweeps, the C++ API): the
// results as data, the same the files were written from.
struct RunReport {
  std::string dir;
  std::string name;
  std::vector<ExpectationResult> expectations;
  nlohmann::ordered_json summary;      // what summary.json holds
  std::vector<ConnectionRow> connections;  // the connection table, by id
  TraceNames names;                    // of nodes and link directions, for the two above
  std::vector<TraceRecord> events;     // with RunOptions::keep_events: every line of events.jsonl
};

struct RunOptions {
  std::string file;                    // YAML, or a canonical topology (.txtpb) a run left behind
  std::string out;                     // empty: a fresh folder named after the topology
  std::optional<std::uint64_t> seed;   // overrides the file's
  std::optional<std::int64_t> until_ns;  // stop time; default: when nothing is left to happen
  std::string events = "all";          // kinds written to events.jsonl (see recorder.h)
  std::string pcap = "auto";           // auto, hosts, links, none, or host names
  bool quiet = false;                  // no progress line, no summary
  bool json = false;                   // the summary as JSON on standard output
  bool progress = false;               // a progress line on standard error
  std::string command;                 // the command as typed, kept in command.txt
  // Install the Ctrl-C handler for the run. Callers running several at once install
  // it themselves (and every run still stops when it is pressed).
  bool handle_signals = true;
  RunReport* report = nullptr;         // filled in when given
  bool keep_events = false;            // the report holds the events as data too
  // Refuse a topology whose estimated memory (resources.h) is more than this machine
  // has available; false goes ahead anyway.
  bool check_memory = true;
  // Run this topology instead of loading `file` (which then only names it).
  const topology::Topology* topology = nullptr;
  // The processes of a distributed run (mpi.h), when mpirun or srun started more than
  // one: every rank calls run_experiment with the same options; rank 0 loads the file,
  // splits the network and writes the files; every rank returns the same exit code.
  const class Mpi* mpi = nullptr;
  // Paced by the wall clock (docs/realtime.md): events run when their time comes, and
  // how late each one ran goes into summary.json; `behind_ns` is how late an event may
  // be before the run counts as falling behind.
  bool realtime = false;
  std::int64_t behind_ns = 1'000'000;
  // "shakedown", or "ns3": the topology built as an ns-3 simulation with ns-3's TCP
  // (ns3_engine.h, docs/ns3.md), writing the same files.
  std::string engine = "shakedown";
};

// Runs and returns the exit code (cli.h). Errors go to `err` with what and where; the
// summary to `out`. Ctrl-C (SIGINT) during the run stops it at the next slice of
// events, and every file is written complete up to that moment.
int run_experiment(const RunOptions& options, std::FILE* out = stdout, std::FILE* err = stderr);

// A YAML topology file, or the canonical text form of one (.txtpb). Throws
// topology::LoadError.
topology::Topology load_topology(const std::string& path);

// For tests: as if Ctrl-C had been pressed.
void request_interrupt();

// Ctrl-C and SIGTERM set the flag every run checks, while one of these lives — and,
// once the flag is set, until the next one is made (a process that was asked to stop
// is not killed by a second press on its way out).
class InterruptHandler {
 public:
  struct Saved;
  InterruptHandler();
  ~InterruptHandler();
  InterruptHandler(const InterruptHandler&) = delete;
  InterruptHandler& operator=(const InterruptHandler&) = delete;
  static bool interrupted();

 private:
  std::unique_ptr<Saved> saved_;
};

}  // namespace shakedown::controller
