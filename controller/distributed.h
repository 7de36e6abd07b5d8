// This process's part of a distributed run (docs/distributed.md): which nodes it runs,
// the cut links it carries packets across, the windows, the traces it sends to rank 0
// and the counters it adds to everyone's.
//
// Every process builds the whole network from the same canonical form (the numbering,
// routes, random streams and faults are then the same everywhere, and the network's
// structure is small beside the connections), and runs only its own nodes: their
// events, the near ends of the links leaving them and the far ends of the links
// arriving. A cut link's near end hands each packet to MPI as it enters the delay line,
// with its arrival time and place in the line; the far end's process puts it in its
// own copy of the line, where it is handed over by the same event, with the same key,
// as in one process. Events that belong to no node — workloads' start schedules and
// faults — run in every process, each doing its own part.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/build.h"
#include "controller/mpi.h"
#include "controller/partition.h"
#include "controller/trace_stream.h"
#include "emulator/window.h"

namespace shakedown::controller {

class Distributed {
 public:
  static constexpr Duration kLongestWindow = Duration::nanoseconds(100'000'000);

  Distributed(const Mpi& mpi, Engine& engine, PacketPool& pool, const Partition& partition);

  const Mpi& mpi() const { return mpi_; }
  bool lead() const { return mpi_.rank() == 0; }
  // By node id: whether it runs here (Built's `here`).
  const std::vector<bool>& here() const { return here_; }

  // Connects the cut links of the built network to the other processes.
  void wire(Built& built, const topology::Topology& topology);
  // One window (WindowedRun::step), then the window's traces to rank 0, merged there
  // into `merger` (null elsewhere). False when the run is over everywhere.
  bool step(TimePoint limit, bool stop, TraceShipper& shipper, TraceMerger* merger);
  bool stopped() const { return window_->stopped(); }
  // The windows' length: the cut's lookahead, at most kLongestWindow.
  Duration window() const { return lookahead_; }
  // On rank 0: the events every rank had run by the last window's end (for the
  // progress line; the exact total, schedules counted once, is add_up's).
  std::uint64_t events_everywhere() const { return events_everywhere_; }

  // Every process's counters (links, routers, hosts, workloads) added up into rank 0's
  // network and workloads, and the events of the run: each process's, less those every
  // process ran (start schedules, faults) counted once. Returns the total events and
  // the time of the last event anywhere.
  struct Totals {
    std::uint64_t events = 0;
    TimePoint last_event;
  };
  Totals add_up(Built& built);
  // After a run recorded where its hosts run (LocalRecording): every process's sides
  // of its own hosts, `local`, replace what rank 0's recorder, `lead` (null elsewhere),
  // made of them, matched by each host's n-th connection; in pieces of about 4 MiB
  // from each process at a time. Collective. Throws
  // std::runtime_error should a process's count of a host's connections differ from
  // rank 0's (a fault of shakedown's, named, rather than a wrong table).
  void gather_sides(Recorder& local, Recorder* lead);
  // On rank 0 when another process was lost (no collective): the sides of its own
  // hosts, `local`, replace what `lead` made of them, as gather_sides would have.
  void keep_own_sides(Recorder& local, Recorder& lead) const;
  // Per rank, for timing.json and the closing line (rank 0; collective).
  nlohmann::ordered_json rank_stats(double wall_seconds);
  std::string rank_line(const nlohmann::ordered_json& ranks) const;

 private:
  const Mpi& mpi_;
  Engine& engine_;
  PacketPool& pool_;
  std::vector<std::uint32_t> rank_of_;
  std::vector<bool> here_;
  Duration lookahead_;
  MpiExchange exchange_;
  std::unique_ptr<WindowedRun> window_;
  std::vector<LinkDirection*> far_ends_;  // by link * 2 + direction, those arriving here
  std::uint64_t trace_bytes_ = 0, events_everywhere_ = 0;
  double trace_seconds_ = 0, run_seconds_ = 0;
};

}  // namespace shakedown::controller
