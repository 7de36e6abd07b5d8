// A connection's timers: a fixed table indexed by kind (STYLE rule 2). The host keeps
// one engine wake-up per connection, at next(): the earliest armed deadline.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "emulator/time.h"

namespace shakedown::tcp {

enum class Timer : std::uint8_t {
  retransmission,  // RFC 6298; also SYN and SYN-ACK retransmission
  delayed_ack,     // RFC 9293 3.8.6.3, RFC 1122 4.2.3.2
  persist,         // zero-window probes, RFC 9293 3.8.6.1
  keepalive,       // RFC 1122 4.2.3.6
  fin_wait_2,      // Linux tcp_fin_timeout: an orphaned FIN_WAIT_2 does not live forever
  time_wait,       // 2 MSL, RFC 9293 3.6.1
};
// Derived from the enum: the last kind is the count less one.
inline constexpr std::size_t kTimerCount = static_cast<std::size_t>(Timer::time_wait) + 1;

constexpr std::string_view to_string(Timer t) {
  switch (t) {
    case Timer::retransmission:
      return "retransmission";
    case Timer::delayed_ack:
      return "delayed_ack";
    case Timer::persist:
      return "persist";
    case Timer::keepalive:
      return "keepalive";
    case Timer::fin_wait_2:
      return "fin_wait_2";
    case Timer::time_wait:
      return "time_wait";
  }
  return "?";
}

class TimerTable {
 public:
  void set(Timer t, TimePoint at) { deadline_[index(t)] = at; }
  void cancel(Timer t) { deadline_[index(t)] = TimePoint::max(); }
  void cancel_all() { deadline_.fill(TimePoint::max()); }
  bool armed(Timer t) const { return deadline_[index(t)] != TimePoint::max(); }
  TimePoint deadline(Timer t) const { return deadline_[index(t)]; }

  // The earliest deadline, TimePoint::max() if none is armed.
  TimePoint next() const {
    TimePoint best = TimePoint::max();
    for (TimePoint d : deadline_)
      if (d < best) best = d;
    return best;
  }
  // The earliest timer due at `now`, disarmed and returned; false when none is due.
  // Ties go to the lower kind, so the order of firing is fixed.
  bool take_expired(TimePoint now, Timer& out) {
    std::size_t best = kTimerCount;
    for (std::size_t i = 0; i < kTimerCount; ++i)
      if (deadline_[i] <= now && (best == kTimerCount || deadline_[i] < deadline_[best])) best = i;
    if (best == kTimerCount) return false;
    deadline_[best] = TimePoint::max();
    out = static_cast<Timer>(best);
    return true;
  }

 private:
  static constexpr std::size_t index(Timer t) { return static_cast<std::size_t>(t); }
  std::array<TimePoint, kTimerCount> deadline_ = [] {
    std::array<TimePoint, kTimerCount> a{};
    a.fill(TimePoint::max());
    return a;
  }();
};

}  // namespace shakedown::tcp
