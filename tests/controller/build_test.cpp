// From the canonical form to a network: the loader's defaults are exactly the C++
// defaults, and a file builds the same network as the same topology built in C++.
#include "controller/build.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "topologies/loader.h"
#include "topologies/settings.h"

namespace shakedown::controller {
namespace {

constexpr const char* kStar = R"(name: star
seed: 3
defaults:
  tcp: {msl: 1s}
hosts:
  client[1..3]: {}
  server: {}
routers: [r]
links:
  - {ends: ["client[*]", r], delay: 5ms, loss: 1%}
  - {ends: [r, server], delay: 5ms, loss: 1%}
workload:
  - {app: request-response, from: client*, to: server:80, connections: 4, start: {uniform: [0s, 1s]},
     request: 1KB, response: 20KB, repetitions: 3, think: 10ms}
)";

TEST(Build, TheLoadersDefaultsAreTheCodes) {
  const auto t = topology::load_string("hosts: [a]\n");
  const tcp::Config c = tcp_config(t.nodes(0).tcp()), d;
  EXPECT_EQ(c.initial_rto, d.initial_rto);
  EXPECT_EQ(c.min_rto, d.min_rto);
  EXPECT_EQ(c.max_rto, d.max_rto);
  EXPECT_EQ(c.syn_retries, d.syn_retries);
  EXPECT_EQ(c.synack_retries, d.synack_retries);
  EXPECT_EQ(c.data_retries, d.data_retries);
  EXPECT_EQ(c.msl, d.msl);
  EXPECT_EQ(c.fin_wait_2_timeout, d.fin_wait_2_timeout);
  EXPECT_EQ(c.mss, d.mss);
  EXPECT_EQ(c.receive_buffer, d.receive_buffer);
  EXPECT_EQ(c.initial_window, d.initial_window);
  EXPECT_EQ(c.congestion, d.congestion);
  EXPECT_EQ(c.dupack_threshold, d.dupack_threshold);
  EXPECT_EQ(c.sack, d.sack);
  EXPECT_EQ(c.timestamps, d.timestamps);
  EXPECT_EQ(c.window_scaling, d.window_scaling);
  EXPECT_EQ(c.application_reads, d.application_reads);
  EXPECT_EQ(c.keepalive, d.keepalive);
  EXPECT_EQ(c.keepalive_time, d.keepalive_time);
  EXPECT_EQ(c.keepalive_interval, d.keepalive_interval);
  EXPECT_EQ(c.keepalive_probes, d.keepalive_probes);
  EXPECT_EQ(c.nagle, d.nagle);
  EXPECT_EQ(c.delayed_ack, d.delayed_ack);
  EXPECT_EQ(c.two_way_handshake, d.two_way_handshake);
  EXPECT_EQ(c.syn_loss_window_after, d.syn_loss_window_after);
  EXPECT_EQ(c.strict_paws, d.strict_paws);
  const auto strict = topology::load_string("hosts: [a]\ndefaults: {tcp: {strict_paws: true, syn_loss_window_after: 1}}\n");
  EXPECT_TRUE(tcp_config(strict.nodes(0).tcp()).strict_paws);
  EXPECT_EQ(tcp_config(strict.nodes(0).tcp()).syn_loss_window_after, 1);

  const auto l = topology::load_string("hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n");
  const LinkParams p = link_params(l.links(0).forward()), q;
  EXPECT_EQ(p.queue_packets, q.queue_packets);
  EXPECT_EQ(p.mtu, q.mtu);
  EXPECT_EQ(p.reorder.gap, q.reorder.gap);
  EXPECT_EQ(p.rate, q.rate);
  EXPECT_EQ(p.delay.delay, q.delay.delay);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(p.loss));
}

TEST(Build, EveryNetemKeyReachesTheLink) {
  const auto t = topology::load_string(R"(hosts: [a, b]
links:
  - {ends: [a, b], loss: {p13: 2%, p14: 1%}, duplicate: {probability: 1%, correlation: 25%},
     corrupt: {probability: 2%, correlation: 50%}, rate: 10Mbps, packet_overhead: -14, cell_size: 48,
     cell_overhead: 5, up: false}
)");
  const LinkParams p = link_params(t.links(0).forward());
  ASSERT_TRUE(std::holds_alternative<FourStateLoss>(p.loss));
  const auto& f = std::get<FourStateLoss>(p.loss);
  EXPECT_EQ(f.p13, Probability::from_fraction(0.02));
  EXPECT_EQ(f.p31, Probability::from_fraction(0.98));
  EXPECT_EQ(f.p14, Probability::from_fraction(0.01));
  EXPECT_EQ(f.p23, Probability::from_fraction(1.0));
  EXPECT_EQ(p.duplicate, Probability::from_fraction(0.01));
  EXPECT_EQ(p.duplicate_correlation, Probability::from_fraction(0.25));
  EXPECT_EQ(p.corrupt, Probability::from_fraction(0.02));
  EXPECT_EQ(p.corrupt_correlation, Probability::from_fraction(0.5));
  EXPECT_EQ(p.packet_overhead, -14);
  EXPECT_EQ(p.cell_size, 48u);
  EXPECT_EQ(p.cell_overhead, 5);
  EXPECT_FALSE(p.up);
}

// The same star by hand: the same addresses, the same routes, the same packets.
TEST(Build, AFileRunsExactlyAsTheSameTopologyBuiltInCode) {
  Engine e1;
  PacketPool p1;
  Built from_file(e1, p1, topology::load_string(kStar));
  e1.run_until(TimePoint::zero() + Duration::seconds(600));

  Engine e2;
  PacketPool p2;
  Network net(e2, p2, 3);
  tcp::Config cfg;
  cfg.msl = Duration::seconds(1);
  LinkParams lp;
  lp.delay.delay = Duration::milliseconds(5);
  lp.loss = RandomLoss{Probability::from_fraction(0.01), {}};
  apps::Workload w;
  w.name = "workload1";
  w.app = apps::AppKind::request_response;
  for (int i = 0; i < 3; ++i) w.clients.push_back(net.add_host(fmt::format("client{}", i + 1), cfg));
  w.server = net.add_host("server", cfg);
  const auto r = net.add_router("r");
  for (auto c : w.clients) net.add_link(c, r, lp);
  net.add_link(r, w.server, lp);
  net.build();
  w.connections = 4;
  w.start.kind = apps::StartSchedule::Kind::uniform;
  w.start.to = TimePoint::zero() + Duration::seconds(1);
  w.request = 1000;
  w.response = 20000;
  w.repetitions = 3;
  w.think = Duration::milliseconds(10);
  apps::Workloads loads(e2, net, 3);
  loads.add(w);
  e2.run_until(TimePoint::zero() + Duration::seconds(600));

  EXPECT_EQ(e1.events_executed(), e2.events_executed());
  for (std::uint32_t n = 0; n < 4; ++n) {
    EXPECT_EQ(from_file.network.address(n), net.address(n));
    EXPECT_EQ(from_file.network.host(n).stats().packets_sent, net.host(n).stats().packets_sent) << n;
    EXPECT_EQ(from_file.network.host(n).stats().payload_bytes_verified, net.host(n).stats().payload_bytes_verified);
  }
  const auto a = from_file.workloads.stats(0), b = loads.stats(0);
  EXPECT_EQ(a.completed, 12u);
  EXPECT_EQ(b.completed, 12u);
  EXPECT_EQ(a.client_bytes_received, b.client_bytes_received);
  EXPECT_EQ(from_file.workloads.start_times(0), loads.start_times(0));
}

}  // namespace
}  // namespace shakedown::controller

namespace shakedown::controller {
namespace {

// client -- r -- server, 5 ms per link, one connection at 0 s, plus `extra`.
std::string line_with(const std::string& extra, const std::string& tcp = "{}") {
  return "defaults:\n  link: {delay: 5ms}\n  tcp: " + tcp +
         "\nhosts: [client, server]\nrouters: [r]\nlinks:\n  - {ends: [client, r]}\n  - {ends: [r, server]}\n" + extra;
}

struct FileRun {
  explicit FileRun(const std::string& yaml) : built(engine, pool, topology::load_string(yaml, "t.yaml")) {}
  std::uint64_t connected_at(Duration d) {
    engine.run_until(TimePoint::zero() + d);
    return built.workloads.stats(0).connected;
  }
  Engine engine;
  PacketPool pool;
  Built built;
};

const char* kConnect = "workload:\n  - {app: connect, from: client, to: server:80, close: never}\n";

TEST(Faults, ALinkDownForAWhileDelaysTheHandshakeToTheThirdSyn) {
  FileRun r(line_with(std::string(kConnect) + "faults:\n  - {at: 0s, link: [client, r], down: 2500ms}\n"));
  EXPECT_EQ(r.connected_at(Duration::milliseconds(3019)), 0u);
  EXPECT_EQ(r.connected_at(Duration::milliseconds(3020)), 1u);
}

TEST(Faults, ALinkThatStartsDownIsBroughtUpBySet) {
  // SYNs at 0, 1 s and 3 s; the link comes up at 2.5 s, so the third gets through.
  FileRun r("defaults:\n  link: {delay: 5ms}\nhosts: [client, server]\nrouters: [r]\nlinks:\n"
            "  - {ends: [client, r], up: false}\n  - {ends: [r, server]}\n" +
            std::string(kConnect) + "faults:\n  - {at: 2500ms, link: [client, r], set: {up: true}}\n");
  EXPECT_EQ(r.connected_at(Duration::milliseconds(3019)), 0u);
  EXPECT_EQ(r.connected_at(Duration::milliseconds(3020)), 1u);
}

TEST(Faults, APartitionHealsAfterItsTime) {
  FileRun r(line_with(std::string(kConnect) + "faults:\n  - {at: 0s, partition: [server], for: 2500ms}\n"));
  EXPECT_EQ(r.connected_at(Duration::milliseconds(3019)), 0u);
  EXPECT_EQ(r.connected_at(Duration::milliseconds(3020)), 1u);
}

TEST(Faults, SetChangesOneDirectionOrBoth) {
  // Both directions of r -- server at 50 ms: RTT 5+50+50+5 = 110 ms.
  FileRun both(line_with(std::string(kConnect) + "faults:\n  - {at: 0s, link: [r, server], set: {delay: 50ms}}\n"));
  EXPECT_EQ(both.connected_at(Duration::milliseconds(109)), 0u);
  EXPECT_EQ(both.connected_at(Duration::milliseconds(110)), 1u);
  // Only from server to r ("forward" from the first end named): 5+5+50+5 = 65 ms.
  FileRun one(line_with(std::string(kConnect) +
                    "faults:\n  - {at: 0s, link: [server, r], direction: forward, set: {delay: 50ms}}\n"));
  EXPECT_EQ(one.connected_at(Duration::milliseconds(64)), 0u);
  EXPECT_EQ(one.connected_at(Duration::milliseconds(65)), 1u);
}

TEST(Faults, ACrashAndItsRestart) {
  FileRun r(line_with(std::string(kConnect) + "faults:\n  - {at: 1s, crash: server, restart: 1s}\n"));
  const std::uint32_t server = 1;
  r.engine.run_until(TimePoint::zero() + Duration::milliseconds(999));
  EXPECT_TRUE(r.built.network.host(server).up());
  r.engine.run_until(TimePoint::zero() + Duration::milliseconds(1500));
  EXPECT_FALSE(r.built.network.host(server).up());
  r.engine.run_until(TimePoint::zero() + Duration::milliseconds(2000));
  EXPECT_TRUE(r.built.network.host(server).up());
}

// The textbook's old duplicate SYN, from a file: the first SYN held 90 s in the
// network, long after its connection is over.
class OldDuplicateSyn : public ::testing::TestWithParam<bool> {};

TEST_P(OldDuplicateSyn, FromAFile) {
  const bool two_way = GetParam();
  FileRun r(line_with("workload:\n  - {app: bulk, bytes: 1000B, from: client, to: server:80}\n"
                  "faults:\n  - {match: {link: [client, r], flags: SYN}, delay: 90s}\n",
                  two_way ? "{two_way_handshake: true}" : "{}"));
  r.engine.run_until(TimePoint::zero() + Duration::seconds(89));
  EXPECT_EQ(r.built.workloads.stats(0).completed, 1u) << "the retried SYN connected and the exchange completed";
  EXPECT_EQ(r.built.network.host(1).tcp().connections(), 0u);
  r.engine.run_until(TimePoint::zero() + Duration::seconds(100));
  // Three-way: the client answers the old SYN's SYN-ACK with RST and the server frees
  // the half-open connection. Two-way: the server holds a connection nobody will use.
  EXPECT_EQ(r.built.network.host(1).tcp().connections(), two_way ? 1u : 0u);
  EXPECT_EQ(r.built.network.host(0).tcp().stats().rst_sent_no_connection, two_way ? 0u : 1u);
}

INSTANTIATE_TEST_SUITE_P(Handshakes, OldDuplicateSyn, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "TwoWay" : "ThreeWay"; });

TEST(Faults, TheNthMatchingDataSegmentIsDropped) {
  FileRun r(line_with("workload:\n  - {app: bulk, bytes: 100KB, from: client, to: server:80}\n"
                  "faults:\n  - {match: {link: [client, r], payload: true, nth: 3}, drop: true}\n"));
  r.engine.run_until(TimePoint::zero() + Duration::seconds(200));
  EXPECT_EQ(r.built.network.link(0).direction(0).stats().drops(DropReason::fault), 1u);
  EXPECT_EQ(r.built.workloads.stats(0).completed, 1u);
  EXPECT_EQ(r.built.workloads.stats(0).server_bytes_received, 100'000u);
}

}  // namespace
}  // namespace shakedown::controller

namespace shakedown::controller {
namespace {

// A generated fat-tree with ECMP carries traffic across pods to completion, and a
// generated star with a hand-written server is issue 9's reference shape.
TEST(Generated, FatTreeWithEcmpAndAStarCarryTheirWorkloads) {
  Engine engine;
  PacketPool pool;
  Built ft(engine, pool, topology::load_string(R"(ecmp: true
defaults: {tcp: {msl: 1s}}
generate:
  - fat_tree: {k: 4}
    link: {delay: 1ms, rate: 100Mbps}
workload:
  - {app: bulk, bytes: 50KB, from: "host[1..8]", to: "host16:80", connections: 2}
)"));
  engine.run_until(TimePoint::zero() + Duration::seconds(30));
  EXPECT_EQ(ft.workloads.stats(0).completed, 16u);
  EXPECT_EQ(ft.workloads.stats(0).server_bytes_received, 16u * 50'000);

  Engine e2;
  PacketPool p2;
  Built star(e2, p2, topology::load_string(R"(defaults: {link: {delay: 10ms, rate: 1Gbps, loss: 1%}}
hosts: [server]
generate:
  - star: {hub: r, hosts: client, count: 20}
links:
  - {ends: [r, server]}
workload:
  - {app: bulk, bytes: 10KB, from: client*, to: server, connections: 5, start: {uniform: [0s, 1s]}}
)"));
  e2.run_until(TimePoint::zero() + Duration::seconds(120));
  EXPECT_EQ(star.workloads.stats(0).completed, 100u);
  EXPECT_EQ(star.workloads.stats(0).server_bytes_received, 100u * 10'000);
}

}  // namespace
}  // namespace shakedown::controller

namespace shakedown::controller {
namespace {

// A value of the row's kind that is not its default (and passes the file's checks).
std::string other_value(const topology::settings::Setting& s) {
  using K = topology::settings::Kind;
  switch (s.kind) {
    case K::duration:
      return "1234ms";
    case K::whole:
    case K::byte_count:
      return std::to_string(std::to_string(s.max) == s.fallback ? s.min : s.max);
    case K::size:
      return "100000B";
    case K::boolean:
      return s.fallback == "true" ? "false" : "true";
    case K::percent:
    case K::structured:
      return "3%";
    case K::rate:
      return "10Mbps";
    case K::choice:
      return s.key == "isn" ? "clock" : s.key == "congestion" ? "newreno" : "paretonormal";
  }
  return {};
}

// Each setting declared once (topologies/settings.h): every row of the TCP table, set
// in a file to something other than its default, changes the tcp::Config the network
// is built with — so no row is left unmapped in build.cpp.
TEST(Build, EveryTcpSettingReachesTheConfig) {
  const tcp::Config base = tcp_config(topology::load_string("hosts: [a]\n").nodes(0).tcp());
  for (const auto& s : topology::settings::tcp()) {
    const std::string file = fmt::format("hosts:\n  a: {{tcp: {{{}: {}}}}}\n", s.key, other_value(s));
    const tcp::Config c = tcp_config(topology::load_string(file).nodes(0).tcp());
    EXPECT_FALSE(c == base) << s.key << " does not reach tcp::Config (" << file << ")";
  }
}

TEST(Build, EveryLinkSettingReachesTheLink) {
  const auto link = [](const std::string& keys) {
    return link_params(
        topology::load_string(fmt::format("hosts: [a, b]\nlinks:\n  - {{ends: [a, b], {}}}\n", keys)).links(0).forward());
  };
  const LinkParams base = link("delay: 5s");
  for (const auto& s : topology::settings::link()) {
    const std::string keys = s.key == "delay" ? fmt::format("delay: {}", other_value(s))
                                              : fmt::format("delay: 5s, {}: {}", s.key, other_value(s));
    EXPECT_FALSE(link(keys) == base) << s.key << " does not reach LinkParams (" << keys << ")";
  }
}

// The proto's enums and the C++ enums they are cast to line up (build.cpp casts them).
TEST(Build, TheTablesDefaultsAreTheCodesDefaults) {
  EXPECT_EQ(tcp_config(topology::settings::default_tcp()), tcp::Config{});
  EXPECT_EQ(link_params(topology::settings::default_direction()), LinkParams{});
}

}  // namespace
}  // namespace shakedown::controller

namespace shakedown::controller {
namespace {

// A canonical form the network refuses (edited by hand past validate) says which piece.
TEST(Build, WhatTheNetworkRefusesSaysWhichPieceOfTheTopology) {
  topology::Topology t = topology::load_string("hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [b, r]}\n");
  auto* extra = t.add_links();  // a second link for host a
  extra->set_a(0);
  extra->set_b(1);
  *extra->mutable_forward() = t.links(0).forward();
  *extra->mutable_backward() = t.links(0).backward();
  Engine engine;
  PacketPool pool;
  try {
    Built built(engine, pool, t);
    ADD_FAILURE() << "built a host with two links";
  } catch (const BuildError& e) {
    EXPECT_EQ(e.where(), "links[2] (0 - 1)");
    EXPECT_EQ(std::string(e.what()), "links[2] (0 - 1): host 'a' already has a link");
  }
}

}  // namespace
}  // namespace shakedown::controller
