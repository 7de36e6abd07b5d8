#include "nodes/network.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "network_support.h"

namespace shakedown {
namespace {

using testing::build_diamond;
using testing::connect_at;
using testing::delay;
using testing::Sender;
using testing::t;

class TtlAtArrival final : public Observer {
 public:
  void on_packet(const PacketEvent& e) override {
    // Direction 0 runs from a link's first end to its second.
    if (e.kind == PacketEventKind::deliver && e.site.direction == 0) last_ttl[e.site.id] = e.packet.bytes()[8];
  }
  int last_ttl[16] = {};
};

TEST(NetworkBuilder, AChainOfRoutersCarriesATransfer) {
  Engine engine;
  PacketPool pool;
  TtlAtArrival probe;
  Network net(engine, pool, 1, &probe);
  const auto h1 = net.add_host("h1");
  const auto r1 = net.add_router("r1");
  const auto r2 = net.add_router("r2");
  const auto r3 = net.add_router("r3");
  const auto h2 = net.add_host("h2");
  net.add_link(h1, r1, delay(1_ms));
  net.add_link(r1, r2, delay(1_ms));
  net.add_link(r2, r3, delay(1_ms));
  const auto last = net.add_link(r3, h2, delay(1_ms));
  net.build();
  EXPECT_EQ(wire::to_string(net.address(h1)), "198.18.0.1");
  EXPECT_EQ(wire::to_string(net.address(h2)), "198.18.0.2");
  Sender app(100'000);
  net.host(h1).set_application(&app);
  net.host(h2).tcp().listen(80);
  connect_at(engine, net, t(0_ms), h1, h2, 80);
  engine.run_until(t(10_s));
  EXPECT_EQ(net.host(h2).stats().payload_bytes_verified, 100'000u);
  EXPECT_EQ(net.host(h2).stats().payload_bytes_wrong, 0u);
  EXPECT_EQ(probe.last_ttl[last], 61) << "three routers on the way to h2";
}

// A square: r1 -> r2 -> r4 costs 2 + 2 ms, r1 -> r3 -> r4 costs 1 + 1 ms.
TEST(NetworkBuilder, RoutesFollowTheShortestDelay) {
  Engine engine;
  PacketPool pool;
  Network net(engine, pool, 1);
  const auto d = build_diamond(net, 2_ms, 1_ms);
  net.build();
  Sender app(10'000);
  net.host(d.h1).set_application(&app);
  net.host(d.h2).tcp().listen(80);
  connect_at(engine, net, t(0_ms), d.h1, d.h2, 80);
  engine.run_until(t(5_s));
  EXPECT_EQ(net.host(d.h2).stats().payload_bytes_verified, 10'000u);
  EXPECT_GT(net.link(d.via_r3).direction(0).stats().enqueued_packets, 0u);
  EXPECT_EQ(net.link(d.via_r2).direction(0).stats().enqueued_packets, 0u);
}

TEST(NetworkBuilder, EqualCostTiesGoToTheLowerNodeId) {
  Engine engine;
  PacketPool pool;
  Network net(engine, pool, 1);
  // r2 has a lower id than r3 and wins the tie, though r3's links were added first.
  const auto d = build_diamond(net, 1_ms, 1_ms, /*r3_branch_first=*/true);
  net.build();
  ASSERT_TRUE(net.router(d.r1).routes().lookup(net.address(d.h2)));
  Sender app(1'000);
  net.host(d.h1).set_application(&app);
  net.host(d.h2).tcp().listen(80);
  connect_at(engine, net, t(0_ms), d.h1, d.h2, 80);
  engine.run_until(t(5_s));
  EXPECT_GT(net.link(d.via_r2).direction(0).stats().enqueued_packets, 0u);
  EXPECT_EQ(net.link(d.via_r3).direction(0).stats().enqueued_packets, 0u);
}

// Which link each flow (client port) used on its way out of r1.
class PathsByFlow final : public Observer {
 public:
  void on_packet(const PacketEvent& e) override {
    if (e.kind != PacketEventKind::enqueue || e.site.direction != 0 || !watch.contains(e.site.id)) return;
    const auto& b = e.packet.bytes();
    const auto port = static_cast<std::uint16_t>(b[20] << 8 | b[21]);
    links[port].insert(e.site.id);
  }
  std::set<std::uint32_t> watch;  // the links leaving r1 towards the two branches
  std::map<std::uint16_t, std::set<std::uint32_t>> links;
};

// The diamond again, equal costs, 40 connections: with ECMP both branches carry flows,
// every flow keeps to one branch, and the split is the same on every run.
TEST(NetworkBuilder, EcmpSpreadsFlowsAndKeepsEachOnOnePath) {
  auto run = [](bool ecmp) {
    Engine engine;
    PacketPool pool;
    PathsByFlow paths;
    Network net(engine, pool, 1, &paths);
    const auto d = build_diamond(net, 1_ms, 1_ms);
    net.build(ecmp);
    paths.watch = {d.via_r2, d.via_r3};
    Sender app(5'000);
    net.host(d.h1).set_application(&app);
    net.host(d.h2).tcp().listen(80);
    connect_at(engine, net, t(0_ms), d.h1, d.h2, 80, 40);
    engine.run_until(t(5_s));
    EXPECT_EQ(net.host(d.h2).stats().payload_bytes_verified, 40u * 5'000);
    std::map<std::uint32_t, int> flows_per_link;
    for (const auto& [port, used] : paths.links) {
      if (port == 80) continue;  // the server's packets travel the other way
      EXPECT_EQ(used.size(), 1u) << "flow " << port << " split across paths";
      for (auto l : used) ++flows_per_link[l];
    }
    return std::pair{flows_per_link[d.via_r2], flows_per_link[d.via_r3]};
  };
  const auto spread = run(true);
  EXPECT_GT(spread.first, 5);
  EXPECT_GT(spread.second, 5);
  EXPECT_EQ(spread.first + spread.second, 40);
  EXPECT_EQ(run(true), spread) << "deterministic";
  EXPECT_EQ(run(false), (std::pair{40, 0})) << "without ECMP, the lower node id";
}

TEST(NetworkBuilder, RejectsImpossibleLinks) {
  Engine engine;
  PacketPool pool;
  Network net(engine, pool, 1);
  const auto h = net.add_host("h");
  const auto r = net.add_router("r");
  EXPECT_THROW(net.add_link(h, h, LinkParams{}), std::invalid_argument);
  EXPECT_THROW(net.add_link(h, 7, LinkParams{}), std::invalid_argument);
  net.add_link(h, r, LinkParams{});
  EXPECT_THROW(net.add_link(h, r, LinkParams{}), std::invalid_argument) << "hosts have one link";
}

}  // namespace
}  // namespace shakedown
