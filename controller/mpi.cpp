#include "controller/mpi.h"

#include "emulator/bytes.h"

#include <mpi.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace shakedown::controller {

namespace {

// A failed MPI call is a failed run: say which, and let the caller end it.
void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw std::runtime_error(fmt::format("MPI {} failed: {}", what, std::string(text, static_cast<std::size_t>(length))));
}

int env_int(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? 0 : std::atoi(v);
}

using bytes::put;
using bytes::take;

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// When this process last got SIGCONT (monotonic ns; 0: never): mpirun sends it to every
// process as it begins ending a job, whatever the cause (MpiWait).
std::atomic<std::int64_t> g_continued_ns{0};
static_assert(std::atomic<std::int64_t>::is_always_lock_free);  // set in a signal handler
extern "C" void on_sigcont(int) { g_continued_ns.store(monotonic_ns(), std::memory_order_relaxed); }

}  // namespace

// Every collective is started (MPI_Ixxx) and waited for here, so that a process being
// stopped does not wait for ever on one that is gone (Mpi::give_up_when_stopped).
class MpiWait {
 public:
  static void wait(const Mpi& mpi, MPI_Request& request, const char* what) {
    const std::int64_t began = monotonic_ns();
    const std::int64_t grace = seconds_ns(Mpi::kEndingGraceSeconds);
    std::int64_t stop_seen = 0;
    for (;;) {
      int done = 0;
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), what);
      if (done != 0) return;
      const std::int64_t now = monotonic_ns();
      // A SIGCONT counts when it came during this wait or just before it (the process
      // was finishing its window): an older one was a resume after Ctrl-Z.
      const std::int64_t continued = g_continued_ns.load(std::memory_order_relaxed);
      if (continued != 0 && continued >= began - 2 * grace && now - std::max(continued, began) > grace)
        give_up(mpi, what, "the launcher began ending the run");
      if (mpi.stopping_ == nullptr || !mpi.stopping_()) continue;
      if (stop_seen == 0) stop_seen = now;
      if (now - stop_seen > seconds_ns(Mpi::kStopGraceSeconds)) give_up(mpi, what, "this process was asked to stop");
    }
  }

 private:
  static std::int64_t seconds_ns(double s) { return static_cast<std::int64_t>(s * 1e9); }
  [[noreturn]] static void give_up(const Mpi& mpi, const char* what, const char* since) {
    mpi.lost_ = true;
    throw PeerLost(fmt::format("another process of the run stopped answering: the {} waited for it after {}", what,
                               since));
  }
};

namespace {
// Starts a collective (`start` is given the request to fill: MPI_Ixxx's last argument)
// and waits for it (MpiWait).
template <typename Start>
void collective(const Mpi& mpi, const char* what, Start start) {
  MPI_Request request;
  check(start(&request), what);
  MpiWait::wait(mpi, request, what);
}

template <typename T>
void all_reduce(const Mpi& mpi, std::vector<T>& values, MPI_Datatype type, MPI_Op op) {
  collective(mpi, "reduction", [&](MPI_Request* r) {
    return MPI_Iallreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), type, op, MPI_COMM_WORLD, r);
  });
}
}  // namespace

int Mpi::launched_size() {
  // Open MPI's mpirun; PMIx and PMI launchers (srun, hydra).
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"})
    if (const int n = env_int(name); n > 0) return n;
  return 1;
}

Mpi::Mpi(int* argc, char*** argv) {
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_SINGLE, &provided), "init");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  struct sigaction sa {};
  sa.sa_handler = on_sigcont;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCONT, &sa, nullptr);
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "size");
  char name[MPI_MAX_PROCESSOR_NAME];
  int length = 0;
  MPI_Get_processor_name(name, &length);
  host_.assign(name, static_cast<std::size_t>(length));
  std::vector<std::uint64_t> sizes;
  const std::string all = gather(host_, &sizes);
  if (rank_ == 0) {
    std::size_t at = 0;
    for (const std::uint64_t n : sizes) {
      hosts_.push_back(all.substr(at, n));
      at += n;
    }
  }
}

Mpi::~Mpi() {
  if (!lost_) MPI_Finalize();
}

void Mpi::abort(int code) const {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

void Mpi::broadcast(std::string& bytes) const {
  std::uint64_t size = bytes.size();
  collective(*this, "broadcast", [&](MPI_Request* r) { return MPI_Ibcast(&size, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, r); });
  bytes.resize(size);
  for (std::uint64_t at = 0; at < size; at += kPieceBytes) {
    const auto n = static_cast<int>(std::min<std::uint64_t>(kPieceBytes, size - at));
    collective(*this, "broadcast",
               [&](MPI_Request* r) { return MPI_Ibcast(bytes.data() + at, n, MPI_BYTE, 0, MPI_COMM_WORLD, r); });
  }
}

std::string Mpi::gather(const std::string& mine, std::vector<std::uint64_t>* sizes) const {
  std::string out;
  gather(mine, out, sizes);
  return out;
}

void Mpi::gather(const std::string& mine, std::string& out, std::vector<std::uint64_t>* sizes) const {
  std::vector<std::uint64_t> all(static_cast<std::size_t>(size_));
  std::uint64_t n = mine.size();
  collective(*this, "gather", [&](MPI_Request* r) {
    return MPI_Igather(&n, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, r);
  });
  std::vector<std::uint64_t> largest_of{n};
  all_reduce(*this, largest_of, MPI_UINT64_T, MPI_MAX);
  const std::uint64_t largest = largest_of[0];
  std::vector<std::uint64_t> offsets(all.size());
  std::uint64_t total = 0;
  if (rank_ == 0) {
    for (std::size_t r = 0; r < all.size(); ++r) {
      offsets[r] = total;
      total += all[r];
    }
  }
  out.resize(total);  // reusing what `out` holds: fresh pages are dear
  std::vector<int> counts(all.size()), displs(all.size());
  if (largest <= kPieceBytes && total <= static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    // One piece: straight into place.
    for (std::size_t r = 0; r < all.size() && rank_ == 0; ++r) {
      counts[r] = static_cast<int>(all[r]);
      displs[r] = static_cast<int>(offsets[r]);
    }
    collective(*this, "gather", [&](MPI_Request* r) {
      return MPI_Igatherv(mine.data(), static_cast<int>(n), MPI_BYTE, out.data(), counts.data(), displs.data(),
                          MPI_BYTE, 0, MPI_COMM_WORLD, r);
    });
  } else {
    // In pieces: at most kPieceBytes from each rank at a time.
    std::string piece_in;
    for (std::uint64_t at = 0; at < largest; at += kPieceBytes) {
      const auto mine_n = static_cast<int>(at < n ? std::min<std::uint64_t>(kPieceBytes, n - at) : 0);
      int received = 0;
      if (rank_ == 0) {
        for (std::size_t r = 0; r < all.size(); ++r) {
          counts[r] = static_cast<int>(at < all[r] ? std::min<std::uint64_t>(kPieceBytes, all[r] - at) : 0);
          displs[r] = received;
          received += counts[r];
        }
        piece_in.resize(static_cast<std::size_t>(received));
      }
      collective(*this, "gather", [&](MPI_Request* r) {
        return MPI_Igatherv(mine.data() + std::min<std::uint64_t>(at, n), mine_n, MPI_BYTE, piece_in.data(),
                            counts.data(), displs.data(), MPI_BYTE, 0, MPI_COMM_WORLD, r);
      });
      if (rank_ == 0)
        for (std::size_t r = 0; r < all.size(); ++r)
          if (counts[r] > 0)
            std::memcpy(out.data() + offsets[r] + at, piece_in.data() + displs[r], static_cast<std::size_t>(counts[r]));
    }
  }
  if (sizes != nullptr) *sizes = std::move(all);
}

void Mpi::sum(std::vector<std::uint64_t>& values) const { all_reduce(*this, values, MPI_UINT64_T, MPI_SUM); }

void Mpi::min(std::vector<std::int64_t>& values) const { all_reduce(*this, values, MPI_INT64_T, MPI_MIN); }

void Mpi::max(std::vector<std::int64_t>& values) const { all_reduce(*this, values, MPI_INT64_T, MPI_MAX); }

Exchange::Round MpiExchange::round(const std::vector<std::string>& outgoing, TimePoint earliest_here, bool stop_here) {
  const auto began = std::chrono::steady_clock::now();
  const auto ranks = static_cast<std::size_t>(mpi_.size());
  // To each rank: the length of the crossings, the crossings, and (to rank 0) the
  // attached bytes.
  to_.resize(ranks);
  for (std::size_t r = 0; r < ranks; ++r) {
    std::string& t = to_[r];
    t.clear();
    const std::string_view crossings = r < outgoing.size() ? std::string_view(outgoing[r]) : std::string_view();
    if (crossings.empty() && (r != 0 || attached_.empty())) continue;  // nothing: no bytes at all
    put(t, static_cast<std::uint64_t>(crossings.size()));
    t += crossings;
  }
  if (!attached_.empty()) to_[0] += attached_;
  attached_.clear();

  // One collective agrees on everything but the bytes: every rank's earliest next
  // event, wish to stop and sizes for every rank, gathered everywhere. A window with
  // nothing to move ends there.
  const std::size_t row = 2 + ranks;
  std::vector<std::int64_t> mine(row), all(row * ranks);
  mine[0] = earliest_here.ns();
  mine[1] = stop_here ? 1 : 0;
  for (std::size_t r = 0; r < ranks; ++r) mine[2 + r] = static_cast<std::int64_t>(to_[r].size());
  collective(mpi_, "window's exchange", [&](MPI_Request* r) {
    return MPI_Iallgather(mine.data(), static_cast<int>(row), MPI_INT64_T, all.data(), static_cast<int>(row),
                          MPI_INT64_T, MPI_COMM_WORLD, r);
  });
  const auto me = static_cast<std::size_t>(mpi_.rank());
  std::int64_t agreed_earliest = TimePoint::max().ns();
  bool agreed_stop = false;
  std::uint64_t largest = 0;
  std::vector<std::uint64_t> out_sizes(ranks), in_sizes(ranks);
  for (std::size_t r = 0; r < ranks; ++r) {
    const std::int64_t* x = all.data() + r * row;
    agreed_earliest = std::min(agreed_earliest, x[0]);
    agreed_stop = agreed_stop || x[1] != 0;
    for (std::size_t to = 0; to < ranks; ++to) largest = std::max(largest, static_cast<std::uint64_t>(x[2 + to]));
    in_sizes[r] = static_cast<std::uint64_t>(x[2 + me]);
    out_sizes[r] = to_[r].size();
  }
  const std::uint64_t pieces = (largest + Mpi::kPieceBytes - 1) / Mpi::kPieceBytes;

  std::vector<std::uint64_t> in_offsets(ranks);
  std::uint64_t total = 0;
  for (std::size_t r = 0; r < ranks; ++r) {
    in_offsets[r] = total;
    total += in_sizes[r];
  }
  if (recv_.size() < total) recv_.resize(total);
  std::vector<int> scounts(ranks), sdispls(ranks), rcounts(ranks), rdispls(ranks);
  for (std::uint64_t piece = 0; piece < pieces; ++piece) {
    const std::uint64_t at = piece * Mpi::kPieceBytes;
    send_.clear();
    int s = 0;
    for (std::size_t r = 0; r < ranks; ++r) {
      scounts[r] = static_cast<int>(at < out_sizes[r] ? std::min<std::uint64_t>(Mpi::kPieceBytes, out_sizes[r] - at) : 0);
      sdispls[r] = s;
      if (scounts[r] > 0) send_.append(to_[r], at, static_cast<std::size_t>(scounts[r]));
      s += scounts[r];
      rcounts[r] = static_cast<int>(at < in_sizes[r] ? std::min<std::uint64_t>(Mpi::kPieceBytes, in_sizes[r] - at) : 0);
    }
    int r_total = 0;
    for (std::size_t r = 0; r < ranks; ++r) {
      rdispls[r] = r_total;
      r_total += rcounts[r];
    }
    if (pieces == 1 && total <= static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
      // One piece (the usual case): straight into place.
      for (std::size_t r = 0; r < ranks; ++r) rdispls[r] = static_cast<int>(in_offsets[r]);
      collective(mpi_, "window's exchange", [&](MPI_Request* r) {
        return MPI_Ialltoallv(send_.data(), scounts.data(), sdispls.data(), MPI_BYTE, recv_.data(), rcounts.data(),
                              rdispls.data(), MPI_BYTE, MPI_COMM_WORLD, r);
      });
      break;
    }
    if (piece_.size() < static_cast<std::size_t>(r_total)) piece_.resize(static_cast<std::size_t>(r_total));
    collective(mpi_, "window's exchange", [&](MPI_Request* r) {
      return MPI_Ialltoallv(send_.data(), scounts.data(), sdispls.data(), MPI_BYTE, piece_.data(), rcounts.data(),
                            rdispls.data(), MPI_BYTE, MPI_COMM_WORLD, r);
    });
    for (std::size_t r = 0; r < ranks; ++r)
      if (rcounts[r] > 0)
        std::memcpy(recv_.data() + in_offsets[r] + at, piece_.data() + rdispls[r], static_cast<std::size_t>(rcounts[r]));
  }

  Round round;
  round.earliest = TimePoint::from_ns(agreed_earliest);
  round.stop = agreed_stop;
  gathered_.clear();
  gathered_sizes_.assign(ranks, 0);
  round.incoming.assign(ranks, std::string_view());
  for (std::size_t r = 0; r < ranks; ++r) {
    if (in_sizes[r] == 0) continue;
    const char* p = recv_.data() + in_offsets[r];
    const auto crossings = take<std::uint64_t>(p);
    round.incoming[r] = std::string_view(p, crossings);
    const std::uint64_t rest = in_sizes[r] - sizeof(std::uint64_t) - crossings;
    gathered_.append(p + crossings, rest);
    gathered_sizes_[r] = rest;
  }
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  return round;
}

}  // namespace shakedown::controller
