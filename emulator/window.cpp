#include "emulator/window.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace shakedown {

WindowedRun::WindowedRun(Engine& engine, Exchange& exchange, Duration lookahead,
                         std::function<void(const Crossing&)> hand_over)
    : engine_(engine), exchange_(exchange), lookahead_(lookahead), hand_over_(std::move(hand_over)) {
  if (lookahead_ <= Duration::zero())
    throw std::invalid_argument("a distributed run needs a lookahead of more than zero");
}

void WindowedRun::send(Crossing c) {
  ++stats_.sent;
  outgoing_.push_back(std::move(c));
}

void WindowedRun::schedule(Crossing c) {
  if (c.at < engine_.now())
    throw std::logic_error("a crossing arrived in its receiver's past: the lookahead was wrong");
  ++stats_.received;
  const TimePoint at = c.at;
  const Scheduler::Key key = c.key;
  engine_.at_keyed(at, key, [this, c = std::move(c)] { hand_over_(c); });
}

std::uint64_t WindowedRun::run_until(TimePoint limit) {
  std::uint64_t windows = 0;
  for (;;) {
    // What the last window sent, and when anything happens next, anywhere.
    Exchange::Round r = exchange_.round(std::move(outgoing_), engine_.next_event_time());
    outgoing_.clear();
    for (Crossing& c : r.incoming) schedule(std::move(c));
    if (r.earliest == TimePoint::max() || r.earliest > limit) break;
    // Everything earlier than the window's end: nothing sent in it arrives before.
    const TimePoint end = r.earliest + lookahead_;
    engine_.run_until(std::min(end - Duration::nanoseconds(1), limit));
    ++windows;
  }
  if (limit != TimePoint::max()) engine_.run_until(limit);
  stats_.windows += windows;
  return windows;
}

}  // namespace shakedown
