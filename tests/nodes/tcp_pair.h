// Tier-2 harness: two connections joined by an in-memory wire with a one-way delay,
// driven by the engine in virtual time. Tests script the wire: drop the n-th segment
// matching a predicate, or delay it.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "emulator/engine.h"
#include "emulator/random.h"
#include "nodes/tcp/connection.h"

namespace shakedown::tcp {
// Readable states in test failures.
inline void PrintTo(State s, std::ostream* os) { *os << to_string(s); }
}  // namespace shakedown::tcp

namespace shakedown::tcp::testing {

struct Sent {
  TimePoint time;
  int from;  // 0 = client, 1 = server
  Transmit segment;
  bool dropped;
};

struct Logged {
  int side;
  Event event;
};

class Pair {
 public:
  Pair(const Config& client_config, const Config& server_config, Duration one_way, std::uint32_t client_iss = 1000,
       std::uint32_t server_iss = 5000)
      : one_way_(one_way),
        conn_{Connection(client_config, 40000, 80, client_iss), Connection(server_config, 80, 40000, server_iss)} {}

  Connection& client() { return conn_[0]; }
  Connection& server() { return conn_[1]; }
  Connection& side(int i) { return conn_[i]; }
  Engine engine;

  // The server is listening: the first SYN that reaches it is accepted.
  void listen() { listening_ = true; }

  // Drops the `nth` (1-based) segment sent by `from` that `match` accepts.
  void drop(int from, std::function<bool(const Transmit&)> match, int nth = 1) {
    rules_.push_back({from, std::move(match), nth, 0, Duration::zero(), true});
  }
  // Delays that segment by `extra` on top of the wire's delay.
  void delay(int from, std::function<bool(const Transmit&)> match, Duration extra, int nth = 1) {
    rules_.push_back({from, std::move(match), nth, 0, extra, false});
  }

  // Random impairments on every segment in both directions: loss, duplication, and an
  // extra delay uniform in [0, max_extra) that reorders segments.
  void randomize(std::uint64_t seed, double loss, double duplicate, Duration max_extra) {
    rng_ = RandomStream(seed, "tcp-pair");
    loss_ = loss;
    duplicate_ = duplicate;
    max_extra_ = max_extra;
  }
  int random_drops() const { return random_drops_; }

  // Runs a command on one side at time t, then services that side.
  void at(TimePoint t, int side, std::function<void(Connection&, TimePoint)> command) {
    engine.at(t, [this, side, command = std::move(command)] {
      command(conn_[side], engine.now());
      service(side);
    });
  }

  // Runs a command once `side` has reached ESTABLISHED (or a later state), checking
  // from `earliest` on every 100 ms.
  void when_established(TimePoint earliest, int side, std::function<void(Connection&, TimePoint)> command) {
    engine.at(earliest, [this, side, command = std::move(command)]() mutable {
      if (synchronized(conn_[side].state())) {
        command(conn_[side], engine.now());
        service(side);
      } else if (conn_[side].state() != State::closed || side == 1) {
        when_established(engine.now() + Duration::milliseconds(100), side, std::move(command));
      }
    });
  }

  void run_until(TimePoint t) { engine.run_until(t); }

  const std::vector<Sent>& sent() const { return sent_; }
  const std::vector<Logged>& log() const { return log_; }

  // Times at which `side` entered state `s`.
  std::vector<TimePoint> entered(int side, State s) const {
    std::vector<TimePoint> out;
    for (const auto& l : log_)
      if (l.side == side && l.event.kind == EventKind::state_changed && l.event.to == s) out.push_back(l.event.time);
    return out;
  }
  std::vector<State> states(int side) const {
    std::vector<State> out;
    for (const auto& l : log_)
      if (l.side == side && l.event.kind == EventKind::state_changed) out.push_back(l.event.to);
    return out;
  }
  int count(int side, EventKind kind) const {
    int n = 0;
    for (const auto& l : log_) n += l.side == side && l.event.kind == kind;
    return n;
  }
  std::vector<TimePoint> sent_times(int from, std::function<bool(const Transmit&)> match) const {
    std::vector<TimePoint> out;
    for (const auto& s : sent_)
      if (s.from == from && match(s.segment)) out.push_back(s.time);
    return out;
  }

  void service(int side) {
    Connection& c = conn_[side];
    const TimePoint now = engine.now();
    while (auto t = c.poll_transmit(now)) transmit(side, *t);
    while (auto e = c.poll_event()) log_.push_back({side, *e});
    const TimePoint deadline = c.next_deadline();
    if (deadline != TimePoint::max() && deadline != armed_[side]) {
      armed_[side] = deadline;
      engine.at(deadline, [this, side, deadline] {
        if (armed_[side] != deadline) return;  // superseded
        armed_[side] = TimePoint::max();
        conn_[side].on_timeout(engine.now());
        service(side);
      });
    }
  }

 private:
  struct Rule {
    int from;
    std::function<bool(const Transmit&)> match;
    int nth;
    int seen;
    Duration extra;
    bool drop;
  };

  void transmit(int from, const Transmit& t) {
    Duration extra = Duration::zero();
    bool dropped = false;
    for (auto& r : rules_) {
      if (r.from != from || !r.match(t)) continue;
      if (++r.seen != r.nth) continue;
      if (r.drop) dropped = true;
      extra += r.extra;
    }
    int copies = 1;
    if (loss_ > 0 && rng_.uniform01() < loss_) {
      dropped = true;
      ++random_drops_;
    }
    if (duplicate_ > 0 && rng_.uniform01() < duplicate_) ++copies;
    sent_.push_back({engine.now(), from, t, dropped});
    if (dropped) return;
    for (int i = 0; i < copies; ++i) {
      Duration jitter = Duration::zero();
      if (max_extra_ > Duration::zero())
        jitter =
            Duration::nanoseconds(static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(max_extra_.ns()))));
      deliver(from, t, one_way_ + extra + jitter);
    }
  }

  void deliver(int from, const Transmit& t, Duration delay) {
    const int to = 1 - from;
    engine.after(delay, [this, to, t] {
      const TimePoint now = engine.now();
      if (to == 1 && listening_ && conn_[1].state() == State::closed && t.header.has(wire::tcp_flags::kSyn) &&
          !t.header.has(wire::tcp_flags::kAck)) {
        listening_ = false;
        conn_[1].accept(now, t.header);
      } else {
        conn_[to].on_segment(now, t.header, t.length);
      }
      service(to);
    });
  }

  Duration one_way_;
  Connection conn_[2];
  RandomStream rng_{0};
  double loss_ = 0;
  double duplicate_ = 0;
  Duration max_extra_ = Duration::zero();
  int random_drops_ = 0;
  bool listening_ = false;
  std::vector<Rule> rules_;
  std::vector<Sent> sent_;
  std::vector<Logged> log_;
  TimePoint armed_[2] = {TimePoint::max(), TimePoint::max()};
};

inline bool is_syn(const Transmit& t) { return t.kind == SegmentKind::syn; }
inline bool is_synack(const Transmit& t) { return t.kind == SegmentKind::syn_ack; }
inline bool is_fin(const Transmit& t) { return t.header.has(wire::tcp_flags::kFin); }
inline bool is_pure_ack(const Transmit& t) { return t.kind == SegmentKind::ack; }
inline bool is_data(const Transmit& t) { return t.length > 0; }
inline bool any(const Transmit&) { return true; }

}  // namespace shakedown::tcp::testing
