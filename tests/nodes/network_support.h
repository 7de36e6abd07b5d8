// Shared pieces of the network tests: time and link shorthands, a sending
// application, and the small topologies they use.
#pragma once

#include <cstdint>

#include "emulator/engine.h"
#include "emulator/link_params.h"
#include "nodes/host.h"
#include "nodes/network.h"

namespace shakedown::testing {

inline TimePoint t(Duration d) { return TimePoint::zero() + d; }

inline LinkParams delay(Duration d) {
  LinkParams p;
  p.delay.delay = d;
  return p;
}

// Once connected: sends `bytes`, then shuts its side down.
class Sender final : public Application {
 public:
  explicit Sender(std::uint64_t bytes) : bytes_(bytes) {}
  void on_event(Host& host, tcp::ConnId conn, const tcp::Event& e) override {
    if (e.kind == tcp::EventKind::state_changed && e.to == tcp::State::established) {
      host.tcp().connection(conn).send(bytes_);
      host.tcp().connection(conn).shutdown(e.time);
      host.tcp().touched(e.time, conn);
    }
  }

 private:
  std::uint64_t bytes_;
};

// `count` connections from one host to another's port, opened at `when`.
inline void connect_at(Engine& engine, Network& net, TimePoint when, std::uint32_t from, std::uint32_t to,
                       std::uint16_t port, int count = 1) {
  engine.at(when, [&engine, &net, from, to, port, count] {
    for (int i = 0; i < count; ++i) net.host(from).tcp().connect(engine.now(), net.address(to), port);
    net.host(from).service();
  });
}

// client -- router -- server, `one_way` per link.
struct Line {
  std::uint32_t client, router, server;
  std::uint32_t access;  // the client's link
};
inline Line build_line(Network& net, Duration one_way, const tcp::Config& config = {}) {
  Line l;
  l.client = net.add_host("client", config);
  l.router = net.add_router("r");
  l.server = net.add_host("server", config);
  l.access = net.add_link(l.client, l.router, delay(one_way));
  net.add_link(l.router, l.server, delay(one_way));
  return l;
}

// h1 -- r1, then two branches r1 -> r2 -> r4 and r1 -> r3 -> r4, then r4 -- h2. Each
// branch's two links have the given delay; the other links 1 ms. `r3_branch_first`
// adds the r3 branch's links before r2's (to show that ties do not follow the order
// links were added in).
struct Diamond {
  std::uint32_t h1, r1, r2, r3, r4, h2;
  std::uint32_t via_r2, via_r3;  // the links leaving r1 into each branch
};
inline Diamond build_diamond(Network& net, Duration r2_branch, Duration r3_branch, bool r3_branch_first = false) {
  Diamond d;
  d.h1 = net.add_host("h1");
  d.r1 = net.add_router("r1");
  d.r2 = net.add_router("r2");
  d.r3 = net.add_router("r3");
  d.r4 = net.add_router("r4");
  d.h2 = net.add_host("h2");
  net.add_link(d.h1, d.r1, delay(1_ms));
  auto r2_side = [&] {
    d.via_r2 = net.add_link(d.r1, d.r2, delay(r2_branch));
    net.add_link(d.r2, d.r4, delay(r2_branch));
  };
  auto r3_side = [&] {
    d.via_r3 = net.add_link(d.r1, d.r3, delay(r3_branch));
    net.add_link(d.r3, d.r4, delay(r3_branch));
  };
  if (r3_branch_first) {
    r3_side();
    r2_side();
  } else {
    r2_side();
    r3_side();
  }
  net.add_link(d.r4, d.h2, delay(1_ms));
  return d;
}

}  // namespace shakedown::testing
