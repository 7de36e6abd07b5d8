#include "emulator/window.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace shakedown {

WindowedRun::WindowedRun(Engine& engine, Exchange& exchange, Duration lookahead,
                         std::function<void(Crossing&)> hand_over)
    : engine_(engine), exchange_(exchange), lookahead_(lookahead), hand_over_(std::move(hand_over)) {
  if (lookahead_ <= Duration::zero())
    throw std::invalid_argument("a distributed run needs a lookahead of more than zero");
}

void WindowedRun::send(Crossing c) {
  ++stats_.sent;
  outgoing_.push_back(std::move(c));
}

bool WindowedRun::step(TimePoint limit, bool stop) {
  // What the last window sent, and when anything happens next, anywhere.
  Exchange::Round r = exchange_.round(std::move(outgoing_), engine_.next_event_time(), stop);
  outgoing_.clear();
  for (Crossing& c : r.incoming) {
    if (c.at < engine_.now())
      throw std::logic_error("a crossing arrived in its receiver's past: the lookahead was wrong");
    ++stats_.received;
    hand_over_(c);
  }
  stopped_ = r.stop;
  if (r.stop || r.earliest == TimePoint::max() || r.earliest > limit) return false;
  // Everything earlier than the window's end: nothing sent in it arrives before. The
  // end saturates: a lookahead of "for ever" (nothing is cut) is one window.
  const TimePoint end = r.earliest > TimePoint::max() - lookahead_ ? TimePoint::max() : r.earliest + lookahead_;
  engine_.run_until(std::min(end - Duration::nanoseconds(1), limit));
  ++stats_.windows;
  return true;
}

std::uint64_t WindowedRun::run_until(TimePoint limit) {
  const std::uint64_t before = stats_.windows;
  while (step(limit)) {
  }
  if (limit != TimePoint::max()) engine_.run_until(limit);
  return stats_.windows - before;
}

}  // namespace shakedown
