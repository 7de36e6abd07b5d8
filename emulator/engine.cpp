#include "emulator/engine.h"

namespace shakedown {

template <typename More>
std::uint64_t Engine::run_while(TimePoint limit, More more) {
  stop_requested_ = false;
  std::uint64_t ran = 0;
  while (more(ran) && !stop_requested_ && !scheduler_.empty() && scheduler_.next_time() <= limit) {
    Scheduler::Fired event = scheduler_.pop();
    now_ = event.time;
    last_event_ = event.time;
    running_key_ = event.key;
    if (event.key.owner >= owners::workload(0) && event.key.owner != owners::kNone) ++events_of_schedules_;
    running_step_ = 0;
    scheduler_.set_running(event.key.owner);
    event.run();
    scheduler_.set_running(owners::kNone);
    ++ran;
  }
  running_key_ = Scheduler::Key{};
  events_executed_ += ran;
  return ran;
}

std::uint64_t Engine::run_until(TimePoint limit) {
  const std::uint64_t ran = run_while(limit, [](std::uint64_t) { return true; });
  if (!stop_requested_ && limit != TimePoint::max() && now_ < limit) now_ = limit;
  return ran;
}

std::uint64_t Engine::run_slice(TimePoint limit, std::uint64_t max_events) {
  const std::uint64_t ran = run_while(limit, [max_events](std::uint64_t n) { return n < max_events; });
  // Stopped by the limit with events beyond it: time reaches the limit. Out of events:
  // time stays at the last one, the end of what happened.
  const bool beyond = !scheduler_.empty() && scheduler_.next_time() > limit;
  if (beyond && !stop_requested_ && limit != TimePoint::max() && now_ < limit) now_ = limit;
  return ran;
}

}  // namespace shakedown
