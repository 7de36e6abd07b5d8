#include "emulator/realtime.h"

#include <algorithm>
#include <bit>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace shakedown {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::size_t LatenessHistogram::bucket(std::int64_t ns) {
  if (ns < kSteps) return static_cast<std::size_t>(std::max<std::int64_t>(ns, 0));
  const auto v = static_cast<std::uint64_t>(ns);
  const int top = std::bit_width(v) - 1;       // 2^top <= v
  const int shift = top - std::countr_zero(static_cast<unsigned>(kSteps));  // keep 5 bits below the top one
  const auto step = static_cast<std::size_t>((v >> shift) & (kSteps - 1));
  return static_cast<std::size_t>(shift + 1) * kSteps + step;
}

std::int64_t LatenessHistogram::upper(std::size_t b) {
  if (b < static_cast<std::size_t>(kSteps)) return static_cast<std::int64_t>(b);
  const auto shift = static_cast<int>(b / kSteps) - 1;
  const auto step = static_cast<std::uint64_t>(b % kSteps);
  const std::uint64_t low = (static_cast<std::uint64_t>(kSteps) + step) << shift;
  return static_cast<std::int64_t>(low + ((std::uint64_t{1} << shift) - 1));
}

void LatenessHistogram::add(Duration late) {
  ++buckets_[bucket(late.ns())];
  ++count_;
  max_ = std::max(max_, late);
}

Duration LatenessHistogram::percentile(double fraction) const {
  if (count_ == 0) return Duration::zero();
  const auto want = static_cast<std::uint64_t>(std::max(1.0, fraction * static_cast<double>(count_) + 0.5));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= want) return std::min(Duration::nanoseconds(upper(b)), max_);
  }
  return max_;
}

struct RealtimeDriver::Loop {
  asio::io_context io;
  asio::steady_timer timer{io};
  struct Watch {
    std::unique_ptr<asio::posix::stream_descriptor> descriptor;
    std::function<void()> on_readable;
  };
  std::vector<Watch> watches;
  Duration tick_every = Duration::milliseconds(100);
  std::function<bool()> keep_going;
  Clock::time_point started;
  TimePoint virtual_start;
  Clock::time_point last_tick;

  TimePoint virtual_now() const {
    return virtual_start +
           Duration::nanoseconds(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started).count());
  }
  Clock::time_point wall_of(TimePoint t) const {
    return started + std::chrono::nanoseconds((t - virtual_start).ns());
  }
  ~Loop() {
    // The descriptors belong to whoever registered them.
    for (Watch& w : watches) w.descriptor->release();
  }
};

RealtimeDriver::RealtimeDriver(Engine& engine, Duration behind)
    : engine_(engine), behind_(behind), loop_(std::make_unique<Loop>()) {}

RealtimeDriver::~RealtimeDriver() = default;

void RealtimeDriver::watch(int fd, std::function<void()> on_readable) {
  loop_->watches.push_back({std::make_unique<asio::posix::stream_descriptor>(loop_->io, fd), std::move(on_readable)});
}

void RealtimeDriver::on_tick(Duration every, std::function<bool()> keep_going) {
  loop_->tick_every = every;
  loop_->keep_going = std::move(keep_going);
}

void RealtimeDriver::run_due(TimePoint limit, bool advance) {
  Loop& l = *loop_;
  const TimePoint due = std::min(l.virtual_now(), limit);
  // One event at a time: each one's lateness is the clock's time as it starts.
  while (!engine_.stopped() && engine_.events_pending() > 0 && engine_.next_event_time() <= due) {
    const TimePoint t = engine_.next_event_time();
    const Duration late = l.virtual_now() - t;
    histogram_.add(late);
    if (late > behind_) {
      ++behind_count_;
      last_behind_ = Clock::now();
    }
    engine_.run_slice(t, 1);
  }
  // Time moves on to the clock's while something is still to come (events, or the
  // packets of real devices); a run that has nothing left and would stop when idle
  // ends at its last event, as in virtual time.
  if (!engine_.stopped() && (advance || !stop_when_idle_ || engine_.events_pending() > 0)) engine_.run_until(due);
}

RealtimeDriver::Ended RealtimeDriver::run(TimePoint limit, bool stop_when_idle) {
  Loop& l = *loop_;
  l.started = Clock::now();
  l.last_tick = l.started;
  l.virtual_start = engine_.now();
  stop_when_idle_ = stop_when_idle;
  std::optional<Ended> ended;
  const auto finish = [&](Ended e) {
    if (!ended) ended = e;
    l.io.stop();
  };
  // Runs what is due, then decides: stop, or sleep until the next event or tick.
  std::function<void()> step = [&] {
    run_due(limit, false);
    if (engine_.stopped()) return finish(Ended::kStopped);
    if (l.virtual_now() >= limit) return finish(Ended::kLimit);
    const bool idle = engine_.events_pending() == 0;
    if (idle && stop_when_idle) return finish(Ended::kIdle);
    const Clock::time_point now = Clock::now();
    if (l.keep_going && now - l.last_tick >= std::chrono::nanoseconds(l.tick_every.ns())) {
      l.last_tick = now;
      if (!l.keep_going()) return finish(Ended::kStopped);
    }
    TimePoint next = limit;
    if (!idle) next = std::min(next, engine_.next_event_time());
    Clock::time_point wake = l.wall_of(next);
    if (l.keep_going) wake = std::min(wake, l.last_tick + std::chrono::nanoseconds(l.tick_every.ns()));
    l.timer.expires_at(wake);
    l.timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) step();
    });
  };
  std::function<void(Loop::Watch&)> wait_for = [&](Loop::Watch& w) {
    w.descriptor->async_wait(asio::posix::descriptor_base::wait_read, [&](const boost::system::error_code& ec) {
      if (ec || ended) return;
      run_due(limit, true);
      w.on_readable();
      wait_for(w);
      l.timer.cancel();  // what arrived may have made an earlier event: decide again
      step();
    });
  };
  for (Loop::Watch& w : l.watches) wait_for(w);
  step();
  if (!ended) l.io.run();
  l.io.restart();
  return ended.value_or(Ended::kStopped);
}

Lateness RealtimeDriver::lateness() const {
  Lateness out;
  out.events = histogram_.count();
  out.behind = behind_count_;
  out.threshold = behind_;
  out.p50 = histogram_.percentile(0.5);
  out.p99 = histogram_.percentile(0.99);
  out.max = histogram_.max();
  return out;
}

bool RealtimeDriver::behind_lately() const {
  return behind_count_ > 0 && Clock::now() - last_behind_ < std::chrono::seconds(1);
}

}  // namespace shakedown
