#include "emulator/engine.h"

namespace shakedown {

std::uint64_t Engine::run_until(TimePoint limit) {
  stop_requested_ = false;
  std::uint64_t ran = 0;
  while (!stop_requested_ && !scheduler_.empty() && scheduler_.next_time() <= limit) {
    Scheduler::Fired event = scheduler_.pop();
    now_ = event.time;
    scheduler_.set_running(event.owner);
    event.run();
    scheduler_.set_running(owners::kNone);
    ++ran;
  }
  events_executed_ += ran;
  if (!stop_requested_ && limit != TimePoint::max() && now_ < limit) now_ = limit;
  return ran;
}

std::uint64_t Engine::run_slice(TimePoint limit, std::uint64_t max_events) {
  stop_requested_ = false;
  std::uint64_t ran = 0;
  while (ran < max_events && !stop_requested_ && !scheduler_.empty() && scheduler_.next_time() <= limit) {
    Scheduler::Fired event = scheduler_.pop();
    now_ = event.time;
    scheduler_.set_running(event.owner);
    event.run();
    scheduler_.set_running(owners::kNone);
    ++ran;
  }
  events_executed_ += ran;
  // Stopped by the limit with events beyond it: time reaches the limit. Out of events:
  // time stays at the last one, the end of what happened.
  const bool beyond = !scheduler_.empty() && scheduler_.next_time() > limit;
  if (beyond && !stop_requested_ && limit != TimePoint::max() && now_ < limit) now_ = limit;
  return ran;
}

}  // namespace shakedown
