// Conservative synchronisation of the parts of a distributed run, in windows (the
// scheme of ns-3's distributed simulator and OMNeT++'s null-message-free mode): every
// part runs its events earlier than the window's end — the earliest next event of all
// parts plus the lookahead, the least time anything sent from one part to another takes
// to arrive — then the parts exchange what crossed between them, and agree on the
// earliest next event, which skips idle time. Nothing sent in a window can arrive
// within it, so no part ever receives something in its past.
//
// What crosses is a Crossing: bytes for a receiver on another part, to be handed over
// at a time, with the key (scheduler.h) the sending part gave the hand-over — so that
// the receiving part runs it exactly where one process would have.
// How crossings travel is an Exchange's business (MPI between processes; threads in the
// tests); the engine knows neither.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/engine.h"
#include "emulator/time.h"

namespace shakedown {

struct Crossing {
  std::uint32_t part = 0;  // the part it goes to
  TimePoint at;            // when it is handed over there
  // The hand-over's place among equal-time events: its owner, and the source and count
  // the sending part gave it (Engine::next_key), as one process would have.
  Scheduler::Key key;
  std::uint32_t receiver = 0;  // which receiver of that part (a link's far end, say)
  std::uint8_t tag = 0;        // the sender's own byte (a packet's flags, say)
  // Sending: copied by WindowedRun::send. Receiving: valid while hand_over runs.
  std::span<const std::uint8_t> bytes;
};

// One round of the exchange: every part gives the crossings it made in the window,
// written as bytes for each part (WindowedRun's own format: the exchange only moves
// them), the time of its earliest pending event (crossings in flight included) and
// whether it wants the run to stop (Ctrl-C), and gets the bytes every part wrote for
// it, by sending part, the earliest pending time of all parts, and whether any part
// wants to stop. A collective call: every part makes it, once per window.
class Exchange {
 public:
  virtual ~Exchange() = default;
  struct Round {
    // By sending part; valid until the next round.
    std::vector<std::string_view> incoming;
    TimePoint earliest = TimePoint::max();
    bool stop = false;
  };
  // `outgoing`: by receiving part (parts() of them).
  virtual Round round(const std::vector<std::string>& outgoing, TimePoint earliest_here, bool stop_here) = 0;
  virtual std::uint32_t part() const = 0;
  virtual std::uint32_t parts() const = 0;
};

class WindowedRun {
 public:
  // `hand_over` receives each incoming crossing as it arrives — at the end of the
  // window it was sent in, before its time — and schedules what happens at its time
  // (with its key).
  WindowedRun(Engine& engine, Exchange& exchange, Duration lookahead,
              std::function<void(Crossing&)> hand_over);

  // A component sends across: the crossing must not arrive before the window ends
  // (at >= now + lookahead), which the lookahead guarantees for a cut link. Its bytes
  // are copied out at once, into what goes to its part.
  void send(const Crossing& c);

  // One window: exchanges what the last one sent, agrees on the earliest next event,
  // and runs every event earlier than the window's end (and not after `limit`). False,
  // having run nothing, when no event is left anywhere up to `limit`, or when a part
  // asked to stop (`stop`, given by any part). Collective: every part calls it with the
  // same limit, until it returns false.
  bool step(TimePoint limit, bool stop = false);
  // Runs every part until no event is left anywhere, or until `limit`; returns the
  // windows run. Collective.
  std::uint64_t run_until(TimePoint limit);
  // Whether the last step ended because a part asked to stop.
  bool stopped() const { return stopped_; }

  struct Stats {
    std::uint64_t windows = 0, sent = 0, received = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  Engine& engine_;
  Exchange& exchange_;
  Duration lookahead_;
  std::function<void(Crossing&)> hand_over_;
  std::vector<std::string> outgoing_;  // by part
  TimePoint earliest_out_ = TimePoint::max();
  bool stopped_ = false;
  Stats stats_;
};

}  // namespace shakedown
