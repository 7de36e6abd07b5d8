#include "emulator/window.h"

#include "emulator/bytes.h"

#include <algorithm>
#include <cstring>
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

// A crossing as bytes: when, its key, its receiver, its tag, its length, its bytes.
using bytes::put;
using bytes::take;

void WindowedRun::send(const Crossing& c) {
  ++stats_.sent;
  if (outgoing_.size() != exchange_.parts()) outgoing_.resize(exchange_.parts());
  std::string& out = outgoing_.at(c.part);
  put(out, c.at.ns());
  put(out, c.key.owner);
  put(out, c.key.source);
  put(out, c.key.count);
  put(out, c.receiver);
  put(out, c.tag);
  put(out, static_cast<std::uint32_t>(c.bytes.size()));
  out.append(reinterpret_cast<const char*>(c.bytes.data()), c.bytes.size());
  earliest_out_ = std::min(earliest_out_, c.at);
}

bool WindowedRun::step(TimePoint limit, bool stop) {
  // What the last window sent, and when anything happens next, anywhere (what is in
  // flight included).
  if (outgoing_.size() != exchange_.parts()) outgoing_.resize(exchange_.parts());
  const Exchange::Round r = exchange_.round(outgoing_, std::min(engine_.next_event_time(), earliest_out_), stop);
  for (std::string& out : outgoing_) out.clear();
  earliest_out_ = TimePoint::max();
  Crossing c;
  c.part = exchange_.part();
  for (const std::string_view from : r.incoming) {
    const char* p = from.data();
    const char* const end = from.data() + from.size();
    while (p < end) {
      c.at = TimePoint::from_ns(take<std::int64_t>(p));
      c.key.owner = take<Owner>(p);
      c.key.source = take<Owner>(p);
      c.key.count = take<std::uint64_t>(p);
      c.receiver = take<std::uint32_t>(p);
      c.tag = take<std::uint8_t>(p);
      const auto n = take<std::uint32_t>(p);
      if (n > static_cast<std::size_t>(end - p)) throw std::logic_error("a crossing cut short in the exchange");
      c.bytes = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(p), n);
      p += n;
      if (c.at < engine_.now())
        throw std::logic_error("a crossing arrived in its receiver's past: the lookahead was wrong");
      ++stats_.received;
      hand_over_(c);
    }
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
