// The MPI side of a distributed run (docs/distributed.md): the processes mpirun or
// srun started, and the few collective operations a run makes between them. MPI is
// initialised only when the process was started by a launcher (Open MPI's mpirun, or a
// PMI/PMIx launcher such as srun) with more than one process: the same binary started
// alone never touches MPI.
//
// Every operation here is collective (every rank calls it, in the same order), and no
// message is unbounded: what a window or a trace sends goes in pieces of at most
// kPieceBytes per destination.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "emulator/window.h"

namespace shakedown::controller {

// Another process stopped answering while this one was being stopped (the launcher
// ending the job because a process died, or Ctrl-C): the collective it waits for will
// never complete. Thrown by every collective below (Mpi::give_up_when_stopped).
class PeerLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Mpi {
 public:
  static constexpr std::size_t kPieceBytes = std::size_t{32} << 20;
  // How long a collective still waits for the other processes once the launcher is
  // ending the job (SIGCONT: mpirun sends it to every process at once when one dies,
  // then SIGTERM and SIGKILL a second apart), and once this process is asked to stop
  // (SIGTERM, SIGINT: srun's way, or a user's): every live process finishes its window
  // and comes to the exchange well within either.
  static constexpr double kEndingGraceSeconds = 0.5;
  static constexpr double kStopGraceSeconds = 5.0;

  // How many processes the launcher started, from its environment; 1 when none did.
  static int launched_size();
  // Initialises MPI (errors are returned, not fatal, so that a failed operation ends
  // the run with a message rather than an abort without one).
  Mpi(int* argc, char*** argv);
  ~Mpi();
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // The machine this rank runs on.
  const std::string& host() const { return host_; }
  // Every rank's machine, on rank 0 (gathered once, at the start).
  const std::vector<std::string>& hosts() const { return hosts_; }

  // Rank 0's bytes, on every rank.
  void broadcast(std::string& bytes) const;
  // Every rank's bytes, concatenated in rank order, on rank 0 (empty elsewhere);
  // `sizes` receives each rank's share.
  std::string gather(const std::string& mine, std::vector<std::uint64_t>* sizes) const;
  // The same into `out`, whose memory is reused (on rank 0; emptied elsewhere).
  void gather(const std::string& mine, std::string& out, std::vector<std::uint64_t>* sizes) const;
  // Element-wise sums, minima, maxima over every rank, on every rank.
  void sum(std::vector<std::uint64_t>& values) const;
  void min(std::vector<std::int64_t>& values) const;
  void max(std::vector<std::int64_t>& values) const;
  // Ends every process of the run now, with this exit code (after a message).
  [[noreturn]] void abort(int code) const;

  // A collective that has not completed kEndingGraceSeconds after a SIGCONT (which
  // the process got while waiting, or just before), or kStopGraceSeconds after
  // `stopping()` became true (SIGTERM or SIGINT reached this process), throws PeerLost
  // instead of waiting for ever, so that rank 0 can still write what it has. A SIGCONT
  // that resumes a stopped run (Ctrl-Z, fg) reaches every process at once, and the
  // collective completes within the grace unless a window then takes longer than that.
  // Without `stopping`, only SIGCONT counts.
  void give_up_when_stopped(bool (*stopping)()) { stopping_ = stopping; }
  // Whether a collective gave up: MPI is then left as it is (no MPI_Finalize, which
  // would wait for the lost process too).
  bool lost() const { return lost_; }

 private:
  friend class MpiWait;  // mpi.cpp: waits for a collective, or gives up
  bool (*stopping_)() = nullptr;
  mutable bool lost_ = false;
  int rank_ = 0, size_ = 1;
  std::string host_;
  std::vector<std::string> hosts_;
};

// The windows' exchange over MPI: one all-gather agrees on every rank's earliest next
// event (crossings in flight counted), any wish to stop, and the sizes of what goes
// where; then, only when anything goes anywhere, the bytes (all-to-all, in pieces of
// at most kPieceBytes per destination). Each round can carry bytes for rank 0 besides
// the crossings — the traces of the window before (trace_stream.h) — so that they need
// no collective of their own.
class MpiExchange final : public Exchange {
 public:
  explicit MpiExchange(const Mpi& mpi) : mpi_(mpi) {}
  Round round(const std::vector<std::string>& outgoing, TimePoint earliest_here, bool stop_here) override;
  std::uint32_t part() const override { return static_cast<std::uint32_t>(mpi_.rank()); }
  std::uint32_t parts() const override { return static_cast<std::uint32_t>(mpi_.size()); }

  // Bytes for rank 0 that go with the next round.
  void attach(std::string bytes) { attached_ = std::move(bytes); }
  // On rank 0 after a round: every rank's attached bytes, concatenated by rank, and
  // each rank's share.
  const std::string& gathered() const { return gathered_; }
  const std::vector<std::uint64_t>& gathered_sizes() const { return gathered_sizes_; }

  // Wall-clock seconds spent in rounds: waiting for the slowest rank, and moving bytes.
  double seconds() const { return seconds_; }

 private:
  const Mpi& mpi_;
  std::string attached_, gathered_;
  std::vector<std::uint64_t> gathered_sizes_;
  std::vector<std::string> to_;
  std::string send_, recv_, piece_;  // reused: they grow to the busiest window, never shrink
  double seconds_ = 0;
};

}  // namespace shakedown::controller
