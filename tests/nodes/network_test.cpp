// Hosts and a router joined by links: real IPv4 + TCP bytes end to end.
#include <gtest/gtest.h>

#include "emulator/engine.h"
#include "emulator/link.h"
#include "nodes/host.h"
#include "nodes/router.h"
#include "nodes/wire/ipv4.h"

namespace shakedown {
namespace {

using wire::Ipv4Address;
const Ipv4Address kA = Ipv4Address::of(198, 18, 0, 1);
const Ipv4Address kB = Ipv4Address::of(198, 18, 1, 1);
TimePoint t(Duration d) { return TimePoint::zero() + d; }

// Sends `bytes` once connected, then closes; closes when the peer does.
class BulkApp final : public Application {
 public:
  explicit BulkApp(std::uint64_t bytes = 0) : bytes_(bytes) {}
  void on_event(Host& host, tcp::ConnId conn, const tcp::Event& e) override {
    auto& c = host.tcp().connection(conn);
    if (e.kind == tcp::EventKind::state_changed && e.to == tcp::State::established && bytes_ > 0) {
      c.send(bytes_);
      c.close(e.time);
      host.tcp().touched(e.time, conn);
    }
    if (e.kind == tcp::EventKind::peer_closed && c.state() == tcp::State::close_wait) {
      c.close(e.time);
      host.tcp().touched(e.time, conn);
    }
    if (e.kind == tcp::EventKind::reset) ++resets;
    if (e.kind == tcp::EventKind::refused) ++refused;
    if (e.kind == tcp::EventKind::state_changed && e.to == tcp::State::closed) ++closed;
  }
  int resets = 0;
  int refused = 0;
  int closed = 0;

 private:
  std::uint64_t bytes_;
};

// Captures the TTL of every packet delivered on one link direction.
class TtlProbe final : public Observer {
 public:
  void on_packet(const PacketEvent& e) override {
    if (e.kind == PacketEventKind::deliver && e.site.kind == Site::Kind::link && e.site.id == 1 &&
        e.site.direction == 0)
      ttls.push_back(e.packet.bytes()[8]);
    if (e.kind == PacketEventKind::drop && e.site.kind == Site::Kind::node) ++node_drops[static_cast<int>(e.reason)];
  }
  std::vector<int> ttls;
  int node_drops[kDropReasonCount] = {};
};

// A -- router -- B, 5 ms per link.
struct Network {
  explicit Network(const LinkParams& to_b = {}, const tcp::Config& config = {})
      : a(engine, pool, 1, kA, config, 7, &probe),
        b(engine, pool, 2, kB, config, 7, &probe),
        router(engine, 3, &probe),
        la(engine, pool, 7, 0, delayed(LinkParams{}), delayed(LinkParams{})),
        lb(engine, pool, 7, 1, delayed(to_b), delayed(to_b)) {
    la.set_observer(&probe);
    lb.set_observer(&probe);
    a.attach(la.direction(0));
    la.direction(1).set_receiver(&a.input());
    const auto ia = router.add_interface(la.direction(1));
    la.direction(0).set_receiver(&router.input(ia));
    const auto ib = router.add_interface(lb.direction(0));
    lb.direction(0).set_receiver(&b.input());
    b.attach(lb.direction(1));
    lb.direction(1).set_receiver(&router.input(ib));
    router.routes().add(*Prefix::parse("198.18.0.0/24"), ia);
    router.routes().add(*Prefix::parse("198.18.1.0/24"), ib);
  }
  static LinkParams delayed(LinkParams p) {
    p.delay.delay = 5_ms;
    p.rate = DataRate::mbps(100);
    return p;
  }
  void connect_at(TimePoint when, std::uint16_t port) {
    engine.at(when, [this, port] {
      a.tcp().connect(engine.now(), kB, port);
      a.service();
    });
  }

  Engine engine;
  PacketPool pool;
  TtlProbe probe;
  Host a;
  Host b;
  Router router;
  Link la;
  Link lb;
};

TEST(Network, BulkTransferAcrossARouterVerifiesEveryByte) {
  Network net;
  BulkApp client(1'000'000), server;
  net.a.set_application(&client);
  net.b.set_application(&server);
  net.b.tcp().listen(80);
  net.connect_at(t(0_ms), 80);
  net.engine.run_until(t(200_s));
  EXPECT_EQ(net.b.stats().payload_bytes_verified, 1'000'000u);
  EXPECT_EQ(net.b.stats().payload_bytes_wrong, 0u);
  EXPECT_EQ(client.closed, 1);
  EXPECT_EQ(server.closed, 1);
  EXPECT_EQ(net.a.tcp().connections(), 0u) << "TIME_WAIT is over, the slot freed";
  ASSERT_FALSE(net.probe.ttls.empty());
  for (int ttl : net.probe.ttls) ASSERT_EQ(ttl, 63) << "one router: TTL 64 - 1";
  EXPECT_EQ(net.router.stats().forwarded, net.a.stats().packets_sent + net.b.stats().packets_sent);
  EXPECT_EQ(net.pool.in_use(), 0u);
}

TEST(Network, LossAndCorruptionAreRepairedAndCorruptPacketsDroppedByChecksum) {
  LinkParams lossy;
  lossy.loss = RandomLoss{Probability::from_fraction(0.02), {}};
  lossy.corrupt = Probability::from_fraction(0.02);
  Network net(lossy);
  BulkApp client(500'000), server;
  net.a.set_application(&client);
  net.b.set_application(&server);
  net.b.tcp().listen(80);
  net.connect_at(t(0_ms), 80);
  net.engine.run_until(t(300_s));
  EXPECT_GE(net.b.stats().payload_bytes_verified, 500'000u) << "retransmissions are verified too";
  EXPECT_EQ(net.b.stats().payload_bytes_wrong, 0u);
  EXPECT_EQ(client.closed, 1);
  EXPECT_EQ(server.closed, 1);
  const auto corrupt = net.a.stats().drops(DropReason::corrupt) + net.b.stats().drops(DropReason::corrupt) +
                       net.router.stats().drops(DropReason::corrupt);
  EXPECT_EQ(corrupt, net.lb.direction(0).stats().corrupted + net.lb.direction(1).stats().corrupted)
      << "every corrupted packet is caught by a checksum";
  EXPECT_GT(corrupt, 0u);
}

TEST(Network, AClosedPortIsRefused) {
  Network net;
  BulkApp client(100), server;
  net.a.set_application(&client);
  net.b.set_application(&server);
  net.connect_at(t(0_ms), 81);
  net.engine.run_until(t(1_s));
  EXPECT_EQ(client.refused, 1);
  EXPECT_EQ(client.resets, 0) << "refused, not reset";
  EXPECT_EQ(net.b.stats().drops(DropReason::no_listener), 1u);
  EXPECT_EQ(net.probe.node_drops[static_cast<int>(DropReason::no_listener)], 1);
}

TEST(Router, DropsExpiredAndUnroutablePacketsWithReasons) {
  Engine engine;
  PacketPool pool;
  TtlProbe probe;
  Router router(engine, 9, &probe);
  LinkParams p;
  Link out(engine, pool, 1, 5, p, p);
  const auto i = router.add_interface(out.direction(0));
  router.routes().add(*Prefix::parse("198.18.1.0/24"), i);
  auto packet = [&](Ipv4Address dst, std::uint8_t ttl) {
    PacketPtr pk = pool.make(40);
    wire::Ipv4Header h;
    h.src = kA;
    h.dst = dst;
    h.ttl = ttl;
    wire::emit_ipv4(h, 20, pk->bytes());
    return pk;
  };
  router.input(i).receive(packet(kB, 1));
  router.input(i).receive(packet(Ipv4Address::of(10, 0, 0, 1), 64));
  PacketPtr bad = packet(kB, 64);
  bad->bytes()[15] ^= 1;  // source address changed under the header checksum
  router.input(i).receive(std::move(bad));
  router.input(i).receive(packet(kB, 2));
  EXPECT_EQ(router.stats().drops(DropReason::ttl), 1u);
  EXPECT_EQ(router.stats().drops(DropReason::no_route), 1u);
  EXPECT_EQ(router.stats().drops(DropReason::corrupt), 1u);
  EXPECT_EQ(router.stats().forwarded, 1u);
  EXPECT_EQ(probe.node_drops[static_cast<int>(DropReason::ttl)], 1);
}

TEST(Router, IncrementalChecksumMatchesAFullRecomputation) {
  // RFC 1624's update must equal summing the header again, for every TTL.
  PacketPool pool;
  for (int ttl = 2; ttl <= 255; ++ttl) {
    PacketPtr pk = pool.make(20);
    wire::Ipv4Header h;
    h.src = kA;
    h.dst = kB;
    h.ttl = static_cast<std::uint8_t>(ttl);
    h.identification = static_cast<std::uint16_t>(ttl * 977);
    wire::emit_ipv4(h, 0, pk->bytes());
    auto* b = pk->bytes().data();
    const std::uint16_t old_word = static_cast<std::uint16_t>(b[8] << 8 | b[9]);
    b[8] = static_cast<std::uint8_t>(ttl - 1);
    const std::uint16_t updated = checksum_adjust(static_cast<std::uint16_t>(b[10] << 8 | b[11]), old_word,
                                                  static_cast<std::uint16_t>(b[8] << 8 | b[9]));
    h.ttl = static_cast<std::uint8_t>(ttl - 1);
    PacketPtr fresh = pool.make(20);
    wire::emit_ipv4(h, 0, fresh->bytes());
    ASSERT_EQ(updated, static_cast<std::uint16_t>(fresh->bytes()[10] << 8 | fresh->bytes()[11])) << ttl;
  }
}

}  // namespace
}  // namespace shakedown
