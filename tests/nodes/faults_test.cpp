// Targeted faults through a whole network: the textbook's old duplicate SYN, made by
// holding the client's first SYN in the network.
#include "nodes/faults.h"

#include <gtest/gtest.h>

#include "network_support.h"
#include "nodes/network.h"

namespace shakedown {
namespace {

using testing::build_line;
using testing::t;

// Client: send a little once connected, then close. Server: close when the client
// does. Both count resets and what the server holds.
class App final : public Application {
 public:
  void on_event(Host& host, tcp::ConnId conn, const tcp::Event& e) override {
    auto& c = host.tcp().connection(conn);
    if (e.kind == tcp::EventKind::state_changed && e.to == tcp::State::established && client) {
      c.send(1000);
      c.close(e.time);
      host.tcp().touched(e.time, conn);
    }
    if (e.kind == tcp::EventKind::peer_closed && !client) {
      c.close(e.time);
      host.tcp().touched(e.time, conn);
    }
    if (e.kind == tcp::EventKind::reset) reset_at = e.time;
  }
  bool client = false;
  TimePoint reset_at = TimePoint::max();
};

class OldDuplicateSynOverTheNetwork : public ::testing::TestWithParam<bool> {};

TEST_P(OldDuplicateSynOverTheNetwork, HeldFirstSyn) {
  const bool two_way = GetParam();
  tcp::Config cfg;
  cfg.two_way_handshake = two_way;
  Engine engine;
  PacketPool pool;
  Network net(engine, pool, 1);
  const auto line = build_line(net, 5_ms, cfg);
  const auto client = line.client, server = line.server, access = line.access;
  net.build();
  // "Delay the first SYN by 90 s": past the connection it belonged to and the client's
  // TIME_WAIT, so that the client has no state for it when it arrives.
  PacketFault hold;
  hold.match = match_tcp(syn_only());
  hold.action = PacketFault::Action::delay;
  hold.delay = 90_s;
  net.link(access).direction(0).add_fault(hold);

  App client_app, server_app;
  client_app.client = true;
  net.host(client).set_application(&client_app);
  net.host(server).set_application(&server_app);
  net.host(server).tcp().listen(80);
  engine.at(t(0_ms), [&] {
    net.host(client).tcp().connect(engine.now(), net.address(server), 80);
    net.host(client).service();
  });
  engine.run_until(t(89_s));
  EXPECT_EQ(net.host(server).stats().payload_bytes_verified, 1000u) << "the retried SYN connected";
  EXPECT_EQ(net.host(server).tcp().connections(), 0u);
  EXPECT_EQ(net.host(client).tcp().connections(), 0u);
  engine.run_until(t(100_s));
  if (!two_way) {
    // The old SYN reaches the server at 90.010 s; its SYN-ACK reaches the client at
    // 90.020 s, the client's RST is back at 90.030 s and frees the half-open connection.
    EXPECT_EQ(net.host(server).tcp().connections(), 0u);
    EXPECT_EQ(server_app.reset_at, t(90_s) + 30_ms);
    EXPECT_EQ(net.host(client).tcp().stats().rst_sent_no_connection, 1u);
  } else {
    EXPECT_EQ(net.host(server).tcp().connections(), 1u) << "a connection no one will use";
    EXPECT_EQ(net.host(client).tcp().stats().rst_sent_no_connection, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Handshakes, OldDuplicateSynOverTheNetwork, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "TwoWay" : "ThreeWay"; });

TEST(TcpMatch, MatchesFlagsPortsAndAddresses) {
  PacketPool pool;
  auto make = [&](std::uint8_t flags, std::uint16_t dport, std::size_t payload) {
    wire::TcpHeader h;
    h.src_port = 40000;
    h.dst_port = dport;
    h.flags = flags;
    const std::size_t tcp_size = h.header_size() + payload;
    PacketPtr p = pool.make(wire::kIpv4HeaderSize + tcp_size);
    const auto src = wire::Ipv4Address::of(198, 18, 0, 1), dst = wire::Ipv4Address::of(198, 18, 0, 2);
    wire::emit_tcp(h, std::vector<std::uint8_t>(payload, 1), src, dst, p->bytes().subspan(wire::kIpv4HeaderSize));
    wire::Ipv4Header ip;
    ip.src = src;
    ip.dst = dst;
    wire::emit_ipv4(ip, static_cast<std::uint16_t>(tcp_size), p->bytes());
    return p;
  };
  using namespace wire::tcp_flags;
  const auto syn = match_tcp(syn_only());
  EXPECT_TRUE(syn(*make(kSyn, 80, 0)));
  EXPECT_FALSE(syn(*make(kSyn | kAck, 80, 0)));
  EXPECT_FALSE(syn(*make(kAck, 80, 0)));
  const auto fin_to_81 = match_tcp(TcpMatch{kFin, kFin, {}, {}, {}, 81});
  EXPECT_TRUE(fin_to_81(*make(kFin | kAck, 81, 0)));
  EXPECT_FALSE(fin_to_81(*make(kFin | kAck, 80, 0)));
  TcpMatch data;
  data.with_payload = true;
  EXPECT_TRUE(match_tcp(data)(*make(kAck, 80, 10)));
  EXPECT_FALSE(match_tcp(data)(*make(kAck, 80, 0)));
  TcpMatch other_host;
  other_host.dst = wire::Ipv4Address::of(198, 18, 0, 9);
  EXPECT_FALSE(match_tcp(other_host)(*make(kSyn, 80, 0)));
}

}  // namespace
}  // namespace shakedown

namespace shakedown {
namespace {

class Quiet final : public Application {
 public:
  void on_event(Host&, tcp::ConnId, const tcp::Event& e) override {
    if (e.kind == tcp::EventKind::retransmission) retransmissions.push_back(e.time);
    if (e.kind == tcp::EventKind::timed_out) timed_out_at = e.time;
    if (e.kind == tcp::EventKind::reset) reset_at = e.time;
  }
  std::vector<TimePoint> retransmissions;
  TimePoint timed_out_at = TimePoint::max();
  TimePoint reset_at = TimePoint::max();
};

struct CrashSetup {
  CrashSetup() : net(engine, pool, 1) {
    const auto line = build_line(net, 5_ms);
    client = line.client;
    server = line.server;
    net.build();
    net.host(client).set_application(&app);
    net.host(server).tcp().listen(80);
    engine.at(t(0_ms), [this] {
      conn = *net.host(client).tcp().connect(engine.now(), net.address(server), 80);
      net.host(client).service();
    });
    engine.at(t(1_s), [this] { net.host(server).crash(); });
    // The client, unaware, sends at 2 s.
    engine.at(t(2_s), [this] {
      net.host(client).tcp().connection(conn).send(1000);
      net.host(client).tcp().touched(engine.now(), conn);
      net.host(client).service();
    });
  }
  Engine engine;
  PacketPool pool;
  Network net;
  Quiet app;
  std::uint32_t client = 0, server = 0;
  tcp::ConnId conn;
};

TEST(Crash, ThePeerTimesOutOnTheRtoSchedule) {
  CrashSetup s;
  s.engine.run_until(t(2000_s));
  // RTO after the 20 ms handshake sample: 200 ms, doubling to the 120 s cap; 15 data
  // retries (tcp_retries2), and the connection ends at the 16th timeout.
  std::vector<TimePoint> expected;
  TimePoint at = t(2_s);
  Duration rto = 200_ms;
  for (int i = 0; i < 16; ++i) {
    at += rto;
    expected.push_back(at);
    rto = std::min(rto * 2, Duration::seconds(120));
  }
  ASSERT_EQ(s.app.retransmissions.size(), 15u);
  for (std::size_t i = 0; i < 15; ++i) EXPECT_EQ(s.app.retransmissions[i], expected[i]) << i;
  EXPECT_EQ(s.app.timed_out_at, expected[15]);
  EXPECT_GT(s.net.host(s.server).stats().drops(DropReason::host_down), 0u);
}

TEST(Crash, ARestartedPeerAnswersWithRst) {
  CrashSetup s;
  s.engine.at(t(2500_ms), [&] { s.net.host(s.server).restart(); });
  s.engine.run_until(t(10_s));
  // Retransmissions at 2.2 and 2.6 s; the one at 2.6 s reaches the restarted server,
  // which knows no such connection: RST, back at the client at 2.62 s.
  ASSERT_GE(s.app.retransmissions.size(), 2u);
  EXPECT_EQ(s.app.retransmissions[1], t(2600_ms));
  EXPECT_EQ(s.app.reset_at, t(2620_ms));
  EXPECT_EQ(s.net.host(s.client).tcp().connections(), 0u);
}

}  // namespace
}  // namespace shakedown
