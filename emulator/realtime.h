// Real time: the same engine, paced by the wall clock (ARCHITECTURE, "Real time and
// real hosts"). A Boost.Asio io_context waits on one steady timer for the next event
// and on the descriptors of real devices; virtual time is the wall time since the
// driver started, one to one. Nothing the engine runs knows: an event runs when the
// clock reaches its time — or later, when the machine cannot keep up. Then it still
// runs at its own virtual time and in its own order (the run is the same run, only
// late), and the lateness is measured, never hidden.
//
// The driver decides when `now` is; between events it hands arriving packets to
// whoever watches a descriptor, at engine.now() equal to the wall clock's time (every
// event due by then having run).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "emulator/engine.h"
#include "emulator/time.h"

namespace shakedown {

// How late events ran: a log-linear histogram (32 steps per power of two, so a
// percentile is within 3% of the truth) that holds any number of events in fixed
// memory; the maximum is exact.
class LatenessHistogram {
 public:
  void add(Duration late);
  std::uint64_t count() const { return count_; }
  Duration max() const { return max_; }
  // The smallest lateness at or above which `fraction` of the events ran (0 when none).
  Duration percentile(double fraction) const;

 private:
  static constexpr int kSteps = 32;
  static std::size_t bucket(std::int64_t ns);
  static std::int64_t upper(std::size_t bucket);
  std::array<std::uint64_t, 64 * kSteps> buckets_{};
  std::uint64_t count_ = 0;
  Duration max_;
};

struct Lateness {
  std::uint64_t events = 0;  // events run (lateness is measured for each)
  std::uint64_t behind = 0;  // of those, later than the threshold
  Duration threshold;
  Duration p50;
  Duration p99;
  Duration max;
};

class RealtimeDriver {
 public:
  // `behind`: an event later than this counts as the run falling behind.
  RealtimeDriver(Engine& engine, Duration behind);
  ~RealtimeDriver();
  RealtimeDriver(const RealtimeDriver&) = delete;
  RealtimeDriver& operator=(const RealtimeDriver&) = delete;

  // Calls `on_readable` whenever `fd` (not owned) can be read, with every event due by
  // the wall clock run and engine.now() at the wall clock's time. Register before run().
  void watch(int fd, std::function<void()> on_readable);
  // Calls `keep_going` at least every `every` of wall time between events (progress,
  // Ctrl-C); returning false ends the run.
  void on_tick(Duration every, std::function<bool()> keep_going);

  enum class Ended { kLimit, kIdle, kStopped };
  // Runs until the clock reaches `limit` (then engine.now() is `limit`), until no event
  // is left if `stop_when_idle`, or until a tick or an event (Engine::stop) ends it.
  Ended run(TimePoint limit, bool stop_when_idle);

  Lateness lateness() const;
  // Whether an event ran later than the threshold within the last second of wall time.
  bool behind_lately() const;

 private:
  struct Loop;
  Engine& engine_;
  Duration behind_;
  LatenessHistogram histogram_;
  std::uint64_t behind_count_ = 0;
  bool stop_when_idle_ = true;
  std::chrono::steady_clock::time_point last_behind_{};
  std::unique_ptr<Loop> loop_;

  void run_due(TimePoint limit, bool advance);
};

}  // namespace shakedown
