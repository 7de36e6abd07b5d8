// Tier-2 harness: two connections joined by an in-memory wire with a one-way delay,
// driven by the engine in virtual time. Tests script the wire: drop the n-th segment
// matching a predicate, or delay it.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "emulator/engine.h"
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

  // Runs a command on one side at time t, then services that side.
  void at(TimePoint t, int side, std::function<void(Connection&, TimePoint)> command) {
    engine.at(t, [this, side, command = std::move(command)] {
      command(conn_[side], engine.now());
      service(side);
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
    sent_.push_back({engine.now(), from, t, dropped});
    if (dropped) return;
    const int to = 1 - from;
    engine.after(one_way_ + extra, [this, to, t] {
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
