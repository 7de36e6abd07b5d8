#include <cstdio>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "emulator/engine.h"
#include "nodes/tcp/endpoint.h"

namespace shakedown::tcp {
namespace {

using namespace wire::tcp_flags;
using wire::Ipv4Address;

const Ipv4Address kClientAddr = Ipv4Address::of(198, 18, 0, 1);
const Ipv4Address kServerAddr = Ipv4Address::of(198, 18, 0, 2);
TimePoint t(Duration d) { return TimePoint::zero() + d; }

// Two hosts' endpoints joined by a 10 ms wire, each connection with its own engine
// wake-up, as a host will drive them.
struct Net {
  explicit Net(Config client_config = {}, Config server_config = {})
      : client(client_config, kClientAddr, RandomStream(1, "client/isn")),
        server(server_config, kServerAddr, RandomStream(1, "server/isn")) {}

  Engine engine;
  Endpoint client;
  Endpoint server;
  std::function<bool(const Outgoing&)> drop = [](const Outgoing&) { return false; };
  std::vector<std::pair<TimePoint, Outgoing>> wire;  // everything sent, in order
  std::vector<TaggedEvent> client_events, server_events;

  Endpoint& other(Endpoint& e) { return &e == &client ? server : client; }

  void service(Endpoint& e) {
    while (auto o = e.poll_transmit()) {
      wire.emplace_back(engine.now(), *o);
      if (drop(*o)) continue;
      Endpoint* to = &other(e);
      const Outgoing seg = *o;
      engine.after(10_ms, [this, to, seg] {
        to->on_segment(engine.now(), seg.src, seg.dst, seg.segment.header, seg.segment.length);
        service(*to);
      });
    }
    auto& log = &e == &client ? client_events : server_events;
    while (auto ev = e.poll_event()) log.push_back(*ev);
    while (auto id = e.poll_changed()) {
      const TimePoint d = e.deadline(*id);
      if (d == TimePoint::max()) continue;
      Endpoint* ep = &e;
      const ConnId conn = *id;
      engine.at(d, [this, ep, conn] {
        ep->on_timeout(engine.now(), conn);
        service(*ep);
      });
    }
  }
  void at(TimePoint when, std::function<void()> fn) { engine.at(when, std::move(fn)); }

  std::vector<Outgoing> sent_by(const Endpoint& e) const {
    std::vector<Outgoing> out;
    for (const auto& [time, o] : wire)
      if (o.src == e.address()) out.push_back(o);
    return out;
  }
  int count(const std::vector<TaggedEvent>& log, EventKind k) const {
    int n = 0;
    for (const auto& e : log) n += e.event.kind == k;
    return n;
  }
};

void dump(const Net& net) {
  for (const auto& [time, o] : net.wire)
    std::printf("%10.3f %s %s seq=%u ack=%u len=%u\n", time.since_start().milliseconds_f(),
                o.src == kClientAddr ? "C>" : "S>", wire::flags_to_string(o.segment.header.flags).c_str(),
                o.segment.header.seq, o.segment.header.ack, o.segment.length);
}

TEST(Endpoint, ConnectListenAccept) {
  Net net;
  net.server.listen(80);
  std::optional<ConnId> c;
  net.at(t(0_ms), [&] {
    c = net.client.connect(net.engine.now(), kServerAddr, 80);
    net.service(net.client);
  });
  net.engine.run_until(t(1_s));
  ASSERT_TRUE(c);
  EXPECT_EQ(net.client.connection(*c).state(), State::established);
  EXPECT_EQ(net.client.connection(*c).local_port(), Endpoint::kEphemeralFirst);
  EXPECT_EQ(net.server.accept_queue(80), 1u);
  EXPECT_EQ(net.server.syn_queue(80), 0u);
  const auto s = net.server.accept(80);
  ASSERT_TRUE(s);
  EXPECT_EQ(net.server.connection(*s).state(), State::established);
  EXPECT_EQ(net.server.connection(*s).remote_port(), Endpoint::kEphemeralFirst);
  EXPECT_FALSE(net.server.accept(80));
  EXPECT_EQ(net.server.connections(), 1u);
}

TEST(Endpoint, EphemeralPortsAreDistinctPerPeer) {
  Net net;
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < 100; ++i) {
    const auto id = net.client.connect(TimePoint::zero(), kServerAddr, 80);
    ASSERT_TRUE(id);
    ports.push_back(net.client.connection(*id).local_port());
  }
  std::sort(ports.begin(), ports.end());
  EXPECT_EQ(std::unique(ports.begin(), ports.end()), ports.end());
  EXPECT_GE(ports.front(), Endpoint::kEphemeralFirst);
  EXPECT_LE(ports.back(), Endpoint::kEphemeralLast);
}

TEST(Endpoint, SynToAClosedPortIsRefusedWithRst) {
  Net net;
  std::optional<ConnId> c;
  net.at(t(0_ms), [&] {
    c = net.client.connect(net.engine.now(), kServerAddr, 81);
    net.service(net.client);
  });
  net.engine.run_until(t(1_s));
  const auto answers = net.sent_by(net.server);
  ASSERT_EQ(answers.size(), 1u);
  const auto& rst = answers[0].segment.header;
  // RFC 9293 3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, the SYN counting one.
  EXPECT_EQ(rst.flags, kRst | kAck);
  EXPECT_EQ(rst.seq, 0u);
  EXPECT_EQ(rst.ack, net.sent_by(net.client)[0].segment.header.seq + 1);
  EXPECT_EQ(net.count(net.client_events, EventKind::refused), 1) << "connection refused (3.10.7.3)";
  EXPECT_EQ(net.count(net.client_events, EventKind::reset), 0);
  EXPECT_EQ(net.server.stats().drop(EndpointDrop::no_listener), 1u);
  EXPECT_EQ(net.client.connections(), 0u) << "the closed connection is freed";
}

TEST(Endpoint, AStrayAckIsAnsweredWithRstAtItsAckNumber) {
  Net net;
  net.server.listen(80);
  wire::TcpHeader h;
  h.src_port = 40000;
  h.dst_port = 80;
  h.seq = 7;
  h.ack = 12345;
  h.flags = kAck;
  net.server.on_segment(TimePoint::zero(), kClientAddr, kServerAddr, h, 0);
  const auto o = net.server.poll_transmit();
  ASSERT_TRUE(o);
  EXPECT_EQ(o->segment.header.flags, kRst);
  EXPECT_EQ(o->segment.header.seq, 12345u);
  h.flags = kRst;
  net.server.on_segment(TimePoint::zero(), kClientAddr, kServerAddr, h, 0);
  EXPECT_FALSE(net.server.poll_transmit()) << "a RST is never answered";
}

// The endpoint says what became of each segment; the host and the traces read that,
// not its counters.
TEST(Endpoint, EveryInputSaysWhatBecameOfIt) {
  Endpoint server(Config{}, kServerAddr, RandomStream(1, "server/isn"));
  server.listen(80, 4096, /*syn_backlog=*/1);
  wire::TcpHeader h;
  h.src_port = 40000;
  h.dst_port = 81;
  h.seq = 1000;
  h.flags = kSyn;
  const TimePoint now = TimePoint::zero();
  Input in = server.on_segment(now, kClientAddr, kServerAddr, h, 0);
  EXPECT_TRUE(in.dropped(EndpointDrop::no_listener)) << "a closed port: dropped, and answered with RST";
  EXPECT_TRUE(server.poll_transmit().has_value());
  h.dst_port = 80;
  in = server.on_segment(now, kClientAddr, Ipv4Address::of(10, 0, 0, 1), h, 0);
  EXPECT_TRUE(in.dropped(EndpointDrop::bad_segment)) << "not for this host";
  in = server.on_segment(now, kClientAddr, kServerAddr, h, 0);
  ASSERT_TRUE(in.given());
  EXPECT_EQ(server.connection(in.conn).state(), State::syn_received);
  h.src_port = 40001;
  in = server.on_segment(now, kClientAddr, kServerAddr, h, 0);
  EXPECT_TRUE(in.dropped(EndpointDrop::syn_queue_full));
  h.flags = kAck;
  h.ack = 5;
  in = server.on_segment(now, kClientAddr, kServerAddr, h, 0);
  EXPECT_EQ(in.outcome, Input::Outcome::answered) << "an ACK to a listener: a RST, not a drop";
  h.flags = kRst;
  in = server.on_segment(now, kClientAddr, kServerAddr, h, 0);
  EXPECT_EQ(in.outcome, Input::Outcome::ignored);
  h.flags = 0;
  in = server.on_segment(now, kClientAddr, kServerAddr, h, 0);
  EXPECT_EQ(in.outcome, Input::Outcome::ignored);
  EXPECT_EQ(server.stats().drop(EndpointDrop::no_listener), 1u);
  EXPECT_EQ(server.stats().drop(EndpointDrop::syn_queue_full), 1u);
  EXPECT_EQ(server.stats().drop(EndpointDrop::bad_segment), 1u);
}

// Data given to a connection says how much of it was taken: all of new data, none of
// a duplicate.
TEST(Endpoint, TheInputSaysHowMuchOfThePayloadWasTaken) {
  Net net;
  net.server.listen(80);
  std::vector<Input> inputs;
  net.at(t(0_ms), [&] {
    const auto id = net.client.connect(net.engine.now(), kServerAddr, 80);
    net.client.connection(*id).send(1000);
    net.client.touched(net.engine.now(), *id);
    net.service(net.client);
  });
  net.engine.run_until(t(100_ms));
  ASSERT_EQ(net.server.connections(), 1u);
  // Hand the server the client's data segment again, by hand: a duplicate.
  for (const auto& [when, o] : net.wire)
    if (o.src == kClientAddr && o.segment.length > 0)
      inputs.push_back(net.server.on_segment(net.engine.now(), o.src, o.dst, o.segment.header, o.segment.length));
  ASSERT_EQ(inputs.size(), 1u);
  ASSERT_TRUE(inputs[0].given());
  EXPECT_EQ(inputs[0].taken.length, 0u) << "a duplicate: nothing taken";
}

// Events wait in one queue: shown once to the traces, then taken in order.
TEST(Endpoint, EventsAreReportedOnceAndTakenInOrder) {
  Endpoint client(Config{}, kClientAddr, RandomStream(1, "client/isn"));
  const auto id = client.connect(TimePoint::zero(), kServerAddr, 80);
  ASSERT_TRUE(id.has_value());
  const auto first = client.next_unreported();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->event.to, State::syn_sent);
  EXPECT_FALSE(client.next_unreported().has_value()) << "each event is shown once";
  EXPECT_EQ(client.reported(), 1u);
  client.connection(*id).abort(TimePoint::zero());
  client.touched(TimePoint::zero(), *id);
  EXPECT_EQ(client.reported(), 1u) << "the new events are not reported yet";
  const auto taken = client.poll_event();
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->event.to, State::syn_sent);
  EXPECT_EQ(client.reported(), 0u);
  const auto next = client.next_unreported();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->event.to, State::closed);
}

TEST(Endpoint, FullSynQueueDropsSynsSilently) {
  Net net;
  net.server.listen(80, 4096, /*syn_backlog=*/2);
  net.drop = [](const Outgoing& o) { return o.segment.kind == SegmentKind::syn_ack; };  // keep them half-open
  net.at(t(0_ms), [&] {
    for (int i = 0; i < 3; ++i) net.client.connect(net.engine.now(), kServerAddr, 80);
    net.service(net.client);
  });
  net.engine.run_until(t(500_ms));
  EXPECT_EQ(net.server.syn_queue(80), 2u);
  EXPECT_EQ(net.server.stats().drop(EndpointDrop::syn_queue_full), 1u);
  EXPECT_EQ(net.server.connections(), 2u);
}

TEST(Endpoint, FullAcceptQueueDropsNewSyns) {
  Net net;
  net.server.listen(80, /*backlog=*/1);
  net.at(t(0_ms), [&] {
    net.client.connect(net.engine.now(), kServerAddr, 80);
    net.service(net.client);
  });
  net.at(t(100_ms), [&] {
    net.client.connect(net.engine.now(), kServerAddr, 80);
    net.service(net.client);
  });
  net.engine.run_until(t(500_ms));
  EXPECT_EQ(net.server.accept_queue(80), 1u);
  EXPECT_EQ(net.server.syn_queue(80), 0u) << "the second SYN was dropped, not queued";
  EXPECT_EQ(net.server.stats().drop(EndpointDrop::accept_queue_full), 1u);
  // The application accepts; the client's SYN retry (1 s after the first) finds room.
  net.at(t(600_ms), [&] { ASSERT_TRUE(net.server.accept(80)); });
  net.engine.run_until(t(2_s));
  EXPECT_EQ(net.server.accept_queue(80), 1u);
  EXPECT_EQ(net.sent_by(net.client)[3].segment.kind, SegmentKind::syn);
  EXPECT_EQ(net.wire[4].first, t(1100_ms));
}

TEST(Endpoint, FullAcceptQueueDropsTheFinalAckUntilThereIsRoom) {
  Net net;
  net.server.listen(80, /*backlog=*/1);
  // Two SYNs at once: both find the accept queue empty and become half-open.
  net.at(t(0_ms), [&] {
    net.client.connect(net.engine.now(), kServerAddr, 80);
    net.client.connect(net.engine.now(), kServerAddr, 80);
    net.service(net.client);
  });
  net.engine.run_until(t(500_ms));
  EXPECT_EQ(net.server.accept_queue(80), 1u);
  EXPECT_EQ(net.server.syn_queue(80), 1u) << "the second final ACK was dropped: still SYN_RECEIVED";
  EXPECT_EQ(net.server.stats().drop(EndpointDrop::accept_queue_full), 1u);
  // After accept() the retransmitted SYN-ACK (1 s after the first) draws an ACK that
  // now finds room.
  net.at(t(600_ms), [&] { ASSERT_TRUE(net.server.accept(80)); });
  net.engine.run_until(t(2_s));
  EXPECT_EQ(net.server.accept_queue(80), 1u);
  EXPECT_EQ(net.server.syn_queue(80), 0u);
}

// The textbook case: an old SYN of an earlier connection, delayed in the network,
// arrives after that connection is gone. With three steps the client refuses it and the
// server frees the half-open connection; with two, the server keeps a connection no
// one will ever use.
class OldDuplicateSyn : public ::testing::TestWithParam<bool> {};

TEST_P(OldDuplicateSyn, ThreeStepsFreeTheServerTwoStepsDoNot) {
  const bool two_way = GetParam();
  Config cfg;
  cfg.two_way_handshake = two_way;
  Net net(cfg, cfg);
  net.server.listen(80);
  // The client's first SYN is held in the network for 90 s: past the end of the
  // connection it belonged to and of the client's TIME_WAIT (60 s), so that the client
  // has no state for it at all, as in the textbook.
  bool held = false;
  net.drop = [&](const Outgoing& o) {
    if (held || o.segment.kind != SegmentKind::syn) return false;
    held = true;
    const Outgoing old = o;
    net.engine.after(90_s, [&net, old] {
      net.server.on_segment(net.engine.now(), old.src, old.dst, old.segment.header, 0);
      net.service(net.server);
    });
    return true;
  };
  std::optional<ConnId> c;
  net.at(t(0_ms), [&] {
    c = net.client.connect(net.engine.now(), kServerAddr, 80);
    net.service(net.client);
  });
  // The retried SYN (at 1 s) connects; the client sends data and closes.
  net.at(t(2_s), [&] {
    net.client.connection(*c).send(1000);
    net.client.connection(*c).close(net.engine.now());
    net.client.touched(net.engine.now(), *c);
    net.service(net.client);
  });
  net.at(t(3_s), [&] {
    if (const auto s = net.server.accept(80)) {
      net.server.connection(*s).close(net.engine.now());
      net.server.touched(net.engine.now(), *s);
      net.service(net.server);
    }
  });
  net.engine.run_until(t(89_s));
  EXPECT_EQ(net.server.connections(), 0u) << "the real connection is over";
  EXPECT_EQ(net.client.connections(), 0u) << "and so is the client's TIME_WAIT";
  net.engine.run_until(t(90_s) + 100_ms);
  if (::testing::Test::HasFailure()) dump(net);
  if (!two_way) {
    // SYN-ACK out, RST back (its SEQ is the SYN-ACK's ACK: exactly RCV.NXT), freed
    // within one round trip of the old SYN's arrival.
    EXPECT_EQ(net.server.connections(), 0u);
    ASSERT_GE(net.count(net.server_events, EventKind::reset), 1);
    TimePoint reset_at;
    for (const auto& e : net.server_events)
      if (e.event.kind == EventKind::reset) reset_at = e.event.time;
    EXPECT_EQ(reset_at, t(90_s) + 20_ms) << "one round trip after the old SYN arrived";
  } else {
    // The client ignores the unexpected SYN-ACK; the server believes it is connected.
    ASSERT_EQ(net.server.connections(), 1u);
    const auto s = net.server.accept(80);
    ASSERT_TRUE(s);
    EXPECT_EQ(net.server.connection(*s).state(), State::established);
  }
}

INSTANTIATE_TEST_SUITE_P(Handshakes, OldDuplicateSyn, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "TwoWay" : "ThreeWay"; });

}  // namespace
}  // namespace shakedown::tcp
