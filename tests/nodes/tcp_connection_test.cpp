#include <gtest/gtest.h>

#include "nodes/tcp/connection.h"
#include "tcp_pair.h"
#include "tcp_segments.h"

namespace shakedown::tcp {
namespace {

using namespace wire::tcp_flags;
using testing::Pair;

constexpr int kClient = 0, kServer = 1;
// Data per full segment: MSS 1460 less the 12 bytes of the timestamp option (on by
// default, as in Linux, which sends 1448-byte segments for the same reason).
constexpr std::uint32_t kSeg = 1448;
TimePoint t(Duration d) { return TimePoint::zero() + d; }

// The client connects at time zero to a listening server.
void open(Pair& p) {
  p.listen();
  p.at(t(0_ms), kClient, [](Connection& c, TimePoint now) { c.connect(now); });
}

// --- Tier 2: two endpoints over a scripted wire ---------------------------------------

TEST(Handshake, ThreeStepsOverTenMilliseconds) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.run_until(t(1_s));
  // Client: ESTABLISHED after one RTT (SYN out, SYN-ACK back); server after 1.5 RTT.
  EXPECT_EQ(p.entered(kClient, State::syn_sent), std::vector{t(0_ms)});
  EXPECT_EQ(p.entered(kServer, State::syn_received), std::vector{t(10_ms)});
  EXPECT_EQ(p.entered(kClient, State::established), std::vector{t(20_ms)});
  EXPECT_EQ(p.entered(kServer, State::established), std::vector{t(30_ms)});
  // SYN (seq=x), SYN-ACK (seq=y, ack=x+1), ACK (ack=y+1).
  ASSERT_EQ(p.sent().size(), 3u);
  EXPECT_EQ(p.sent()[0].segment.header.flags, kSyn);
  EXPECT_EQ(p.sent()[0].segment.header.seq, 1000u);
  EXPECT_EQ(p.sent()[1].segment.header.flags, kSyn | kAck);
  EXPECT_EQ(p.sent()[1].segment.header.seq, 5000u);
  EXPECT_EQ(p.sent()[1].segment.header.ack, 1001u);
  EXPECT_EQ(p.sent()[2].segment.header.flags, kAck);
  EXPECT_EQ(p.sent()[2].segment.header.ack, 5001u);
  EXPECT_EQ(p.sent()[0].segment.header.options.mss, 1460);
  EXPECT_EQ(p.client().peer_mss(), 1460);
  // The SYN's RTT is measured: 20 ms.
  EXPECT_EQ(p.client().rto(), 200_ms) << "srtt 20 + 4 * rttvar 10 = 60 ms, clamped to min_rto";
}

TEST(Transfer, DataThenTheFourWayWave) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint now) {
    c.send(10'000);
    c.close(now);
  });
  p.at(t(1_s), kServer, [](Connection& c, TimePoint now) { c.close(now); });
  p.run_until(t(200_s));
  EXPECT_EQ(p.server().bytes_received(), 10'000u);
  EXPECT_EQ(p.client().bytes_acked(), 10'000u);
  EXPECT_EQ(p.states(kClient), (std::vector<State>{State::syn_sent, State::established, State::fin_wait_1,
                                                   State::fin_wait_2, State::time_wait, State::closed}));
  EXPECT_EQ(p.states(kServer), (std::vector<State>{State::syn_received, State::established, State::close_wait,
                                                   State::last_ack, State::closed}));
  // TIME_WAIT lasts exactly 2 MSL.
  EXPECT_EQ(p.entered(kClient, State::closed)[0] - p.entered(kClient, State::time_wait)[0], 60_s);
  EXPECT_EQ(p.count(kClient, EventKind::retransmission), 0);
  EXPECT_EQ(p.client().next_deadline(), TimePoint::max()) << "no timer left";
  EXPECT_EQ(p.server().next_deadline(), TimePoint::max());
}

TEST(Retransmission, LostSynBacksOffOneTwoFourSeconds) {
  Pair p(Config{}, Config{}, 10_ms);
  p.listen();
  p.drop(kClient, testing::is_syn, 1);
  p.drop(kClient, testing::is_syn, 2);
  p.drop(kClient, testing::is_syn, 3);
  p.at(t(0_ms), kClient, [](Connection& c, TimePoint now) { c.connect(now); });
  p.run_until(t(30_s));
  EXPECT_EQ(p.sent_times(kClient, testing::is_syn), (std::vector{t(0_s), t(1_s), t(3_s), t(7_s)}));
  EXPECT_EQ(p.entered(kClient, State::established), std::vector{t(7_s) + 20_ms});
  EXPECT_EQ(p.count(kClient, EventKind::retransmission), 3);
  // The SYN-ACK echoes the fourth SYN's timestamp: an unambiguous 20 ms sample (RFC
  // 7323 4), so the RTO is the floor, not the backed-off 8 s (SynLoss tests: without
  // timestamps, RFC 6298 5.7's 3 s).
  EXPECT_EQ(p.client().rto(), 200_ms);
}

TEST(Retransmission, SynRetriesRunOutAfter127Seconds) {
  Pair p(Config{}, Config{}, 10_ms);
  p.drop(kClient, testing::is_syn, 1);
  for (int i = 2; i <= 7; ++i) p.drop(kClient, testing::is_syn, i);
  p.at(t(0_ms), kClient, [](Connection& c, TimePoint now) { c.connect(now); });
  p.run_until(t(300_s));
  // Linux tcp_syn_retries = 6: sent at 0, 1, 3, 7, 15, 31, 63; given up at 127.
  EXPECT_EQ(p.sent_times(kClient, testing::is_syn),
            (std::vector{t(0_s), t(1_s), t(3_s), t(7_s), t(15_s), t(31_s), t(63_s)}));
  EXPECT_EQ(p.count(kClient, EventKind::timed_out), 1);
  EXPECT_EQ(p.entered(kClient, State::closed), std::vector{t(127_s)});
}

TEST(Retransmission, LostSynAckIsResentByTheServer) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.drop(kServer, testing::is_synack, 1);
  p.run_until(t(10_s));
  // The server's SYN-ACK timer (1 s) fires at 1.01 s; the client's SYN timer at 1 s,
  // and the server answers the repeated SYN with its SYN-ACK too.
  const auto synacks = p.sent_times(kServer, testing::is_synack);
  ASSERT_GE(synacks.size(), 2u);
  EXPECT_EQ(synacks[0], t(10_ms));
  EXPECT_EQ(synacks[1], t(1_s) + 10_ms);
  EXPECT_EQ(p.entered(kClient, State::established), std::vector{t(1_s) + 20_ms});
  EXPECT_EQ(p.entered(kServer, State::established).size(), 1u);
}

TEST(Retransmission, LostFinalAckOfTheHandshakeIsRepairedByData) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.drop(kClient, testing::is_pure_ack, 1);
  p.at(t(25_ms), kClient, [](Connection& c, TimePoint) { c.send(100); });
  p.run_until(t(1_s));
  // The first data segment carries the ACK the server missed.
  EXPECT_EQ(p.entered(kServer, State::established), std::vector{t(35_ms)});
  EXPECT_EQ(p.server().bytes_received(), 100u);
  EXPECT_EQ(p.count(kServer, EventKind::retransmission), 0);
}

TEST(Retransmission, LostFinIsRetransmitted) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.drop(kClient, testing::is_fin, 1);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint now) { c.close(now); });
  p.run_until(t(5_s));
  const auto fins = p.sent_times(kClient, testing::is_fin);
  ASSERT_EQ(fins.size(), 2u);
  // RTO after one 20 ms sample: 200 ms (min_rto).
  EXPECT_EQ(fins[1] - fins[0], 200_ms);
  EXPECT_EQ(p.entered(kServer, State::close_wait), std::vector{fins[1] + 10_ms});
  EXPECT_EQ(p.count(kClient, EventKind::retransmission), 1);
}

TEST(Retransmission, LostFinOfThePassiveSideIsRetransmitted) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.drop(kServer, testing::is_fin, 1);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint now) { c.shutdown(now); });
  p.at(t(100_ms), kServer, [](Connection& c, TimePoint now) { c.close(now); });
  p.run_until(t(100_s));
  const auto fins = p.sent_times(kServer, testing::is_fin);
  ASSERT_EQ(fins.size(), 2u);
  EXPECT_EQ(fins[0], t(100_ms));
  // The server's RTO: one 20 ms RTT sample (its SYN-ACK) gives 200 ms (min_rto).
  EXPECT_EQ(fins[1], t(300_ms));
  EXPECT_EQ(p.entered(kClient, State::time_wait), std::vector{t(310_ms)});
  EXPECT_EQ(p.entered(kServer, State::closed), std::vector{t(320_ms)});
}

TEST(Retransmission, LostLastAckMakesThePassiveSideResendItsFin) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint now) { c.close(now); });
  p.at(t(100_ms), kServer, [](Connection& c, TimePoint now) { c.close(now); });
  // Lose the client's ACK of the server's FIN (the ACK of 5002: the FIN is 5001).
  p.drop(kClient, [](const Transmit& s) { return s.kind == SegmentKind::ack && s.header.ack == 5002; });
  p.run_until(t(100_s));
  const auto server_fins = p.sent_times(kServer, testing::is_fin);
  ASSERT_EQ(server_fins.size(), 2u);
  EXPECT_EQ(server_fins[1] - server_fins[0], 200_ms);
  // The client, in TIME_WAIT, ACKs the repeated FIN and starts its 2 MSL again.
  const auto tw = p.entered(kClient, State::time_wait);
  ASSERT_EQ(tw.size(), 1u);
  EXPECT_EQ(p.entered(kClient, State::closed), std::vector{server_fins[1] + 10_ms + 60_s});
  EXPECT_EQ(p.entered(kServer, State::closed), std::vector{server_fins[1] + 20_ms});
}

TEST(Open, SimultaneousOpen) {
  Pair p(Config{}, Config{}, 10_ms);
  p.at(t(0_ms), kClient, [](Connection& c, TimePoint now) { c.connect(now); });
  p.at(t(0_ms), kServer, [](Connection& c, TimePoint now) { c.connect(now); });
  p.run_until(t(1_s));
  // RFC 9293 figure 7: SYN_SENT -> SYN_RECEIVED -> ESTABLISHED on both sides.
  for (int side : {kClient, kServer}) {
    EXPECT_EQ(p.states(side), (std::vector<State>{State::syn_sent, State::syn_received, State::established}));
    EXPECT_EQ(p.entered(side, State::established), std::vector{t(20_ms)});
  }
  EXPECT_EQ(p.count(kClient, EventKind::retransmission), 0);
}

TEST(Close, SimultaneousClose) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.at(t(100_ms), kClient, [](Connection& c, TimePoint now) { c.close(now); });
  p.at(t(100_ms), kServer, [](Connection& c, TimePoint now) { c.close(now); });
  p.run_until(t(100_s));
  // RFC 9293 figure 13: FIN_WAIT_1 -> CLOSING -> TIME_WAIT on both sides.
  for (int side : {kClient, kServer}) {
    const auto s = p.states(side);
    ASSERT_GE(s.size(), 4u);
    EXPECT_EQ(std::vector<State>(s.end() - 4, s.end()),
              (std::vector<State>{State::fin_wait_1, State::closing, State::time_wait, State::closed}));
    EXPECT_EQ(p.entered(side, State::time_wait), std::vector{t(120_ms)});
  }
}

TEST(Close, HalfCloseKeepsReceiving) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint now) { c.shutdown(now); });
  p.at(t(200_ms), kServer, [](Connection& c, TimePoint) { c.send(50'000); });
  p.run_until(t(10_s));
  EXPECT_EQ(p.client().state(), State::fin_wait_2);
  EXPECT_EQ(p.client().bytes_received(), 50'000u);
  EXPECT_FALSE(p.client().timers().armed(Timer::fin_wait_2)) << "shutdown, not close: no FIN_WAIT_2 timeout";
}

TEST(Close, OrphanedFinWait2TimesOut) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint now) { c.close(now); });
  p.run_until(t(200_s));
  EXPECT_EQ(p.server().state(), State::close_wait) << "the server never closes";
  EXPECT_EQ(p.entered(kClient, State::closed), std::vector{t(50_ms) + 60_s});
  EXPECT_EQ(p.count(kClient, EventKind::timed_out), 1);
}

TEST(Reset, AbortSendsRstAndThePeerIsReset) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.at(t(100_ms), kClient, [](Connection& c, TimePoint now) { c.abort(now); });
  p.run_until(t(1_s));
  EXPECT_EQ(p.client().state(), State::closed);
  EXPECT_EQ(p.server().state(), State::closed);
  EXPECT_EQ(p.count(kServer, EventKind::reset), 1);
  EXPECT_EQ(p.entered(kServer, State::closed), std::vector{t(110_ms)});
}

TEST(Handshake, TwoWayVariantOpensTheServerOnTheSyn) {
  Config server;
  server.two_way_handshake = true;
  Pair p(Config{}, server, 10_ms);
  open(p);
  p.run_until(t(1_s));
  EXPECT_EQ(p.entered(kServer, State::established), std::vector{t(10_ms)});
  EXPECT_EQ(p.states(kServer), (std::vector<State>{State::established}));
}

TEST(Transfer, SurvivesSequenceWraparound) {
  Pair p(Config{}, Config{}, 5_ms, 0xffff0000u, 0xfffffff0u);
  p.listen();
  p.at(t(0_ms), kClient, [](Connection& c, TimePoint now) { c.connect(now); });
  p.at(t(20_ms), kClient, [](Connection& c, TimePoint now) {
    c.send(300'000);  // crosses 2^32
    c.shutdown(now);  // half-close: it still reads the server's 1000 bytes
  });
  p.at(t(20_ms), kServer, [](Connection& c, TimePoint) { c.send(1'000); });
  p.run_until(t(10_s));
  EXPECT_EQ(p.server().bytes_received(), 300'000u);
  EXPECT_EQ(p.client().bytes_received(), 1'000u);
  EXPECT_EQ(p.client().bytes_acked(), 300'000u);
  EXPECT_LT(p.client().snd_una().raw(), 0x00100000u) << "wrapped past zero";
}

std::vector<Event> retransmissions(const Pair& p, int side) {
  std::vector<Event> out;
  for (const auto& l : p.log())
    if (l.side == side && l.event.kind == EventKind::retransmission) out.push_back(l.event);
  return out;
}

TEST(Recovery, ThreeDuplicateAcksTriggerFastRetransmit) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.drop(kClient, testing::is_data, 3);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(10 * 1460); });
  p.run_until(t(5_s));
  EXPECT_EQ(p.server().bytes_received(), 10u * 1460);
  const auto r = retransmissions(p, kClient);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].cause, RetransmitCause::fast_retransmit);
  EXPECT_EQ(r[0].seq, 1001u + 2 * kSeg) << "the third segment";
  // Segments 4, 5 and 6 left at 30 ms and reached the server at 40 ms; their duplicate
  // ACKs are back at 50 ms, when the third one triggers the retransmission.
  EXPECT_EQ(r[0].time, t(50_ms));
  EXPECT_EQ(p.count(kClient, EventKind::recovery), 1);
  EXPECT_FALSE(p.client().in_recovery());
}

TEST(Recovery, ATailLossNeedsTheRto) {
  // The last segment has no followers to produce duplicate ACKs.
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.drop(kClient, testing::is_data, 4);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(4 * kSeg); });
  p.run_until(t(5_s));
  const auto r = retransmissions(p, kClient);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].cause, RetransmitCause::timeout);
  EXPECT_EQ(p.server().bytes_received(), 4u * kSeg);
  EXPECT_EQ(p.client().congestion().cwnd(), 2 * kSeg) << "slow start from one segment, one ACK since";
}

// Two holes in one window, without SACK: NewReno repairs the second at the partial
// ACK, inside one recovery; Reno leaves recovery at the partial ACK and needs the RTO.
TEST(Recovery, NewRenoRepairsTwoHolesInOneRecovery) {
  for (auto algorithm : {CongestionAlgorithm::newreno, CongestionAlgorithm::reno}) {
    Config cfg;
    cfg.congestion = algorithm;
    cfg.sack = false;
    Pair p(cfg, Config{}, 10_ms);
    open(p);
    p.drop(kClient, testing::is_data, 2);
    p.drop(kClient, testing::is_data, 5);
    p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(10 * 1460); });
    p.run_until(t(10_s));
    EXPECT_EQ(p.server().bytes_received(), 10u * 1460) << to_string(algorithm);
    const auto r = retransmissions(p, kClient);
    ASSERT_EQ(r.size(), 2u) << to_string(algorithm);
    EXPECT_EQ(r[0].cause, RetransmitCause::fast_retransmit);
    if (algorithm == CongestionAlgorithm::newreno) {
      EXPECT_EQ(r[1].cause, RetransmitCause::partial_ack);
      EXPECT_EQ(r[1].time - r[0].time, 20_ms) << "one RTT: the partial ACK of the first repair";
    } else {
      EXPECT_EQ(r[1].cause, RetransmitCause::timeout);
    }
  }
}

// Random loss, duplication and reordering over many seeds: every byte each side sent
// arrives (the core delivers in order by construction: rcv_nxt only moves over
// contiguous data), both sides end CLOSED, and no timer is left.
TEST(Property, EveryByteArrivesAndBothSidesCloseUnderRandomImpairments) {
  int drops = 0;
  for (auto algorithm : {CongestionAlgorithm::cubic, CongestionAlgorithm::newreno, CongestionAlgorithm::reno}) {
    for (std::uint64_t seed = 1; seed <= 300; ++seed) {
      Config cfg;
      cfg.congestion = algorithm;
      Pair p(cfg, cfg, 10_ms);
      // Mild to harsh: 1% to 10% loss, up to 10% duplication and 30 ms of reordering.
      // (Harsher loss is survivable but slow: without timestamps Karn's algorithm keeps
      // the backed-off RTO, up to 120 s, until a segment is ACKed first time.)
      const double loss = 0.01 + 0.09 * static_cast<double>(seed % 5) / 4;
      const double dup = 0.10 * static_cast<double>(seed % 3) / 2;
      p.randomize(seed, loss, dup, Duration::milliseconds(static_cast<std::int64_t>(seed % 31)));
      open(p);
      // Sending before ESTABLISHED queues the data (RFC 9293 3.10.2), but closing before it
      // deletes the connection (3.10.4): the applications act once connected.
      p.at(t(100_ms), kClient, [](Connection& c, TimePoint) { c.send(200'000); });
      // A half-close: the client then waits for the server's FIN however long it takes
      // (close() would give up on an orphaned FIN_WAIT_2 after 60 s).
      p.when_established(t(20_s), kClient, [](Connection& c, TimePoint now) { c.shutdown(now); });
      p.when_established(t(200_ms), kServer, [](Connection& c, TimePoint) { c.send(50'000); });
      p.when_established(t(40_s), kServer, [](Connection& c, TimePoint now) { c.shutdown(now); });
      p.run_until(t(3600_s));
      const std::string where = std::string(to_string(algorithm)) + " seed " + std::to_string(seed);
      ASSERT_EQ(p.server().bytes_received(), 200'000u) << where;
      ASSERT_EQ(p.client().bytes_received(), 50'000u) << where;
      ASSERT_EQ(p.client().state(), State::closed) << where;
      ASSERT_EQ(p.server().state(), State::closed) << where;
      ASSERT_EQ(p.client().next_deadline(), TimePoint::max()) << where;
      ASSERT_EQ(p.server().next_deadline(), TimePoint::max()) << where;
      ASSERT_EQ(p.count(kClient, EventKind::timed_out) + p.count(kServer, EventKind::timed_out), 0) << where;
      drops += p.random_drops();
    }
  }
  EXPECT_GT(drops, 10'000) << "the impairments did happen";
}

// Three holes in one window. With SACK the scoreboard shows all three at once and
// RFC 6675 sends them as fast as cwnd - pipe allows: within one round trip here (cwnd
// halves to 5.5 segments, and three new segments sent just before recovery still count
// in pipe). Without SACK, NewReno learns of one hole per round trip, from each partial
// ACK: two round trips from the first repair to the last.
TEST(Recovery, SackRepairsSeveralHolesInOneRoundTrip) {
  for (bool sack : {true, false}) {
    Config cfg;
    cfg.congestion = CongestionAlgorithm::newreno;
    cfg.sack = sack;
    Pair p(cfg, Config{}, 10_ms);
    open(p);
    // Segments 3, 5 and 7 of the initial window of 10.
    p.drop(kClient, testing::is_data, 3);
    p.drop(kClient, testing::is_data, 5);
    p.drop(kClient, testing::is_data, 7);
    p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(20 * 1460); });
    p.run_until(t(10_s));
    EXPECT_EQ(p.server().bytes_received(), 20u * 1460);
    const auto r = retransmissions(p, kClient);
    ASSERT_EQ(r.size(), 3u) << (sack ? "sack" : "no sack");
    EXPECT_EQ(r[0].cause, RetransmitCause::fast_retransmit);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(r[i].seq, 1001u + (2 + 2 * i) * kSeg);
    if (sack) {
      EXPECT_EQ(r[1].cause, RetransmitCause::sack);
      EXPECT_EQ(r[2].cause, RetransmitCause::sack);
      EXPECT_LE(r[2].time - r[0].time, 20_ms) << "within one round trip";
    } else {
      EXPECT_EQ(r[1].cause, RetransmitCause::partial_ack);
      EXPECT_EQ(r[2].cause, RetransmitCause::partial_ack);
      EXPECT_EQ(r[1].time - r[0].time, 20_ms);
      EXPECT_EQ(r[2].time - r[1].time, 20_ms);
      EXPECT_EQ(r[2].time - r[0].time, 40_ms);
    }
    EXPECT_EQ(p.count(kClient, EventKind::recovery), 1);
  }
}

// Nagle meets delayed ACK: the second small write waits for the ACK of the first,
// which the receiver delays by 40 ms. TCP_NODELAY (nagle = false) sends it at once.
TEST(SmallSegments, NagleHoldsASecondSmallSegmentUntilTheAck) {
  for (bool nagle : {true, false}) {
    Config cfg;
    cfg.nagle = nagle;
    Pair p(cfg, Config{}, 10_ms);
    open(p);
    p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(100); });
    p.at(t(31_ms), kClient, [](Connection& c, TimePoint) { c.send(100); });
    p.run_until(t(1_s));
    const auto sent = p.sent_times(kClient, testing::is_data);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0], t(30_ms));
    // The first arrives at 40 ms, its delayed ACK leaves at 80 ms and lands at 90 ms.
    EXPECT_EQ(sent[1], nagle ? t(90_ms) : t(31_ms)) << (nagle ? "nagle" : "nodelay");
    EXPECT_EQ(p.server().bytes_received(), 200u);
  }
}

TEST(SmallSegments, NoSillyWindowFragmentsInABulkTransfer) {
  // A 10000-byte receive window holds 6 full segments and 1312 bytes: a sender without
  // silly-window avoidance fills that gap with a 1312-byte segment every round trip.
  Config small_window;
  small_window.receive_buffer = 10'000;
  Pair p(Config{}, small_window, 10_ms);
  open(p);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(100 * kSeg + 700); });
  p.run_until(t(10_s));
  int small = 0;
  for (const auto& s : p.sent())
    if (s.from == kClient && s.segment.length > 0 && s.segment.length < kSeg) ++small;
  EXPECT_EQ(small, 1) << "only the last 700 bytes go in a short segment";
  EXPECT_EQ(p.server().bytes_received(), 100u * kSeg + 700);
}

// The receiving application stops reading: the window closes, the sender probes with
// backoff (RFC 9293 3.8.6.1) and never gives up while the probes are answered, and
// resumes as soon as the application reads again.
TEST(FlowControl, ZeroWindowIsProbedUntilTheApplicationReads) {
  Config reader;
  reader.application_reads = true;
  reader.receive_buffer = 20'000;
  reader.window_scaling = false;
  Pair p(Config{}, reader, 10_ms);
  open(p);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(50'000); });
  p.run_until(t(2_s));
  EXPECT_EQ(p.server().bytes_received(), 20'000u) << "the buffer is full";
  EXPECT_EQ(p.server().unread(), 20'000u);
  EXPECT_EQ(p.client().send_window_limit(), 0u);
  EXPECT_TRUE(p.client().timers().armed(Timer::persist));
  // Let it sit for ten minutes: probes back off to max_rto and keep being answered.
  p.run_until(t(600_s));
  int probes = 0;
  for (const auto& s : p.sent())
    if (s.from == kClient && s.segment.kind == SegmentKind::ack && s.segment.header.seq == 1000 + 20'000) ++probes;
  EXPECT_GE(probes, 8);
  EXPECT_LE(probes, 15) << "backed off, not every RTO";
  EXPECT_EQ(p.client().state(), State::established) << "answered probes never time out";
  // The application reads everything, twice over time: the window reopens and the
  // rest flows.
  p.at(t(600_s), kServer, [](Connection& c, TimePoint) { c.read(c.unread()); });
  p.at(t(601_s), kServer, [](Connection& c, TimePoint) { c.read(c.unread()); });
  p.at(t(602_s), kServer, [](Connection& c, TimePoint) { c.read(c.unread()); });
  p.run_until(t(603_s));
  EXPECT_EQ(p.server().bytes_received(), 50'000u);
  EXPECT_FALSE(p.client().timers().armed(Timer::persist));
}

// A peer that vanished without a word (its host crashed): keepalive finds out after
// keepalive_time of silence plus keepalive_probes unanswered probes.
TEST(Keepalive, DeclaresASilentPeerDead) {
  Config cfg;
  cfg.keepalive = true;
  Pair p(cfg, Config{}, 10_ms);
  open(p);
  p.drop(
      kServer, [&p](const Transmit&) { return p.engine.now() > t(1_s); }, 1);
  for (int i = 2; i < 100; ++i)
    p.drop(
        kServer, [&p](const Transmit&) { return p.engine.now() > t(1_s); }, i);
  p.run_until(t(10'000_s));
  // Established at 20 ms, the last word from the server; 7200 s later the first of 9
  // probes, 75 s apart; the connection is given up 75 s after the last.
  EXPECT_EQ(p.entered(kClient, State::closed), std::vector{t(20_ms) + 7200_s + 9 * 75_s});
  EXPECT_EQ(p.count(kClient, EventKind::timed_out), 1);
  int probes = 0;
  for (const auto& s : p.sent())
    if (s.from == kClient && s.segment.kind == SegmentKind::ack && s.time > t(1_s)) ++probes;
  EXPECT_EQ(probes, 9);
}

TEST(Keepalive, AnsweredProbesKeepTheConnection) {
  Config cfg;
  cfg.keepalive = true;
  Pair p(cfg, Config{}, 10_ms);
  open(p);
  p.run_until(t(30'000_s));
  EXPECT_EQ(p.client().state(), State::established);
  int probes = 0;
  for (const auto& s : p.sent())
    if (s.from == kClient && s.segment.kind == SegmentKind::ack && s.time > t(1_s)) ++probes;
  EXPECT_EQ(probes, 4) << "one every 7200 s, each answered";
}

// RFC 7323 5: a segment whose timestamp is older than the last one echoed is an old
// duplicate, even when its sequence number looks acceptable (as after a wraparound).
TEST(Options, PawsDropsASegmentWithAnOldTimestamp) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(1000); });
  p.run_until(t(1_s));
  ASSERT_TRUE(p.server().timestamps_enabled());
  // Replay the client's data segment with new, in-window sequence numbers but its old
  // timestamp: PAWS must refuse it.
  Transmit old = p.sent()[3].segment;
  ASSERT_EQ(old.length, 1000u);
  old.header.seq = p.server().rcv_nxt().raw();
  old.header.options.timestamps->value -= 5;
  const auto before = p.server().bytes_received();
  p.server().on_segment(t(1_s), old.header, old.length);
  EXPECT_EQ(p.server().bytes_received(), before);
  EXPECT_EQ(p.server().last_taken().length, 0u) << "refused: nothing taken";
  old.header.options.timestamps->value += 1000;  // a fresh timestamp: accepted
  p.server().on_segment(t(1_s), old.header, old.length);
  EXPECT_EQ(p.server().bytes_received(), before + 1000);
  EXPECT_EQ(p.server().last_taken().skip, 0u);
  EXPECT_EQ(p.server().last_taken().length, 1000u);
}

// What the host checks as taken: the part of a segment's payload past RCV.NXT. A
// segment that overlaps what has arrived is taken from the first new byte; a whole
// duplicate is taken not at all.
TEST(Receive, LastTakenIsThePartPastWhatHasArrived) {
  Config cfg;
  cfg.timestamps = false;
  Pair p(cfg, cfg, 10_ms);
  open(p);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(1000); });
  p.run_until(t(1_s));
  ASSERT_EQ(p.server().bytes_received(), 1000u);
  Transmit seg = p.sent()[3].segment;
  ASSERT_EQ(seg.length, 1000u);
  p.server().on_segment(t(1_s), seg.header, seg.length);  // all of it again
  EXPECT_EQ(p.server().last_taken().length, 0u);
  seg.header.seq += 600;  // 400 old bytes, then 600 new ones
  p.server().on_segment(t(1_s), seg.header, seg.length);
  EXPECT_EQ(p.server().last_taken().skip, 400u);
  EXPECT_EQ(p.server().last_taken().length, 600u);
  EXPECT_EQ(p.server().bytes_received(), 1600u);
  seg.header.seq += 5000;  // out of order, past a hole: taken whole
  p.server().on_segment(t(1_s), seg.header, seg.length);
  EXPECT_EQ(p.server().last_taken().skip, 0u);
  EXPECT_EQ(p.server().last_taken().length, 1000u);
  seg.length = 0;  // a pure ACK takes nothing
  seg.header.seq = p.server().rcv_nxt().raw();
  p.server().on_segment(t(1_s), seg.header, seg.length);
  EXPECT_EQ(p.server().last_taken().length, 0u);
}

// RFC 6675's conservation: during SACK recovery the sender sends only while its
// estimate of the bytes in the network (pipe) leaves room in cwnd, so pipe never
// exceeds cwnd by more than the one segment NextSeg may add. Checked after every event
// of a recovery with six losses.
TEST(Recovery, SackRecoveryKeepsPipeWithinCwnd) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  for (int i : {3, 4, 6, 9, 10, 12}) p.drop(kClient, testing::is_data, i);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(60 * 1460); });
  int checked = 0;
  while (p.engine.events_pending() > 0 && p.engine.now() < t(10_s)) {
    p.run_until(p.engine.next_event_time());
    const Connection& c = p.client();
    if (!c.in_recovery()) continue;
    ++checked;
    ASSERT_LE(c.pipe_estimate(), c.congestion().cwnd() + 1460u) << "at " << to_string(p.engine.now());
  }
  EXPECT_GT(checked, 5);
  EXPECT_EQ(p.server().bytes_received(), 60u * 1460);
  EXPECT_EQ(p.count(kClient, EventKind::recovery), 1) << "one recovery episode";
  EXPECT_EQ(p.count(kClient, EventKind::timer_fired), 0) << "and no timeout";
}

TEST(Options, NegotiatedWhenBothOfferThem) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(3000); });
  p.run_until(t(1_s));
  for (int side : {kClient, kServer}) {
    EXPECT_TRUE(p.side(side).sack_enabled());
    EXPECT_TRUE(p.side(side).timestamps_enabled());
    EXPECT_TRUE(p.side(side).window_scaling_enabled());
    // 131072-byte buffer: shift 2, so windows up to 131072 bytes; receiver silly-window
    // avoidance moves the right edge only in steps of an MSS.
    EXPECT_GT(p.side(side).send_window_limit(), 131072u - 1460);
    EXPECT_LE(p.side(side).send_window_limit(), 131072u);
  }
  const auto& syn = p.sent()[0].segment.header;
  EXPECT_EQ(syn.window, 65535) << "a SYN's window is never scaled";
  EXPECT_EQ(syn.options.window_scale, 2);
  EXPECT_TRUE(syn.options.sack_permitted);
  ASSERT_TRUE(syn.options.timestamps);
  EXPECT_EQ(syn.options.timestamps->echo, 0u);
  const auto& synack = p.sent()[1].segment.header;
  ASSERT_TRUE(synack.options.timestamps);
  EXPECT_EQ(synack.options.timestamps->echo, syn.options.timestamps->value);
  const auto& data = p.sent()[3].segment.header;
  EXPECT_EQ(data.window, 32768);
  ASSERT_TRUE(data.options.timestamps);
  EXPECT_EQ(data.options.timestamps->value, 31u) << "milliseconds, plus one";
}

TEST(Options, NotUsedUnlessBothSidesOfferThem) {
  Config plain;
  plain.sack = false;
  plain.timestamps = false;
  plain.window_scaling = false;
  Pair p(Config{}, plain, 10_ms);
  open(p);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(3000); });
  p.run_until(t(1_s));
  for (int side : {kClient, kServer}) {
    EXPECT_FALSE(p.side(side).sack_enabled());
    EXPECT_FALSE(p.side(side).timestamps_enabled());
    EXPECT_FALSE(p.side(side).window_scaling_enabled());
  }
  const auto& synack = p.sent()[1].segment.header;
  EXPECT_FALSE(synack.options.timestamps);
  EXPECT_FALSE(synack.options.window_scale);
  EXPECT_FALSE(synack.options.sack_permitted);
  for (std::size_t i = 2; i < p.sent().size(); ++i) EXPECT_FALSE(p.sent()[i].segment.header.options.timestamps);
  EXPECT_GT(p.client().send_window_limit(), 65535u - 1460);
  EXPECT_LE(p.client().send_window_limit(), 65535u);
}

TEST(Options, DuplicateAcksCarrySackBlocks) {
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.drop(kClient, testing::is_data, 3);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(10 * 1460); });
  p.run_until(t(45_ms));
  // The server's ACKs after the hole report the data beyond it.
  std::vector<wire::TcpHeader> dupacks;
  for (const auto& s : p.sent())
    if (s.from == kServer && s.segment.header.options.sack_count > 0) dupacks.push_back(s.segment.header);
  ASSERT_EQ(dupacks.size(), 7u);
  const std::uint32_t hole = 1001 + 2 * kSeg;
  EXPECT_EQ(dupacks.back().ack, hole);
  EXPECT_EQ(dupacks.back().options.sack[0], (wire::SackBlock{hole + kSeg, hole + 8 * kSeg}));
}

TEST(Close, AFinCoveredByTheAckOfATimeoutRetransmissionCounts) {
  // Two segments, the FIN riding on the second; the first is lost. The lone duplicate
  // ACK cannot trigger fast retransmit, so the RTO resends the first segment — and
  // the ACK for it covers the FIN too, which must move the client to FIN_WAIT_2.
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.drop(kClient, testing::is_data, 1);
  p.at(t(30_ms), kClient, [](Connection& c, TimePoint now) {
    c.send(2 * 1460);
    c.shutdown(now);
  });
  p.run_until(t(5_s));
  ASSERT_EQ(retransmissions(p, kClient).size(), 1u);
  EXPECT_EQ(retransmissions(p, kClient)[0].cause, RetransmitCause::timeout);
  EXPECT_EQ(p.client().state(), State::fin_wait_2);
  EXPECT_EQ(p.server().bytes_received(), 2u * 1460);
}

TEST(Close, DataAfterCloseIsAnsweredWithRst) {
  // RFC 1122 4.2.2.13: the server closed; data that arrives after can never be read.
  Pair p(Config{}, Config{}, 10_ms);
  open(p);
  p.at(t(100_ms), kServer, [](Connection& c, TimePoint now) { c.close(now); });
  p.at(t(200_ms), kClient, [](Connection& c, TimePoint) { c.send(1000); });
  p.run_until(t(1_s));
  EXPECT_EQ(p.entered(kServer, State::closed), std::vector{t(210_ms)});
  EXPECT_EQ(p.count(kClient, EventKind::reset), 1);
  EXPECT_EQ(p.client().state(), State::closed);
}

// --- Tier 1: the bare core, segment in, segment out ----------------------------------

using testing::seg;

// An ESTABLISHED client with ISS 1000 whose peer's ISN is 5000.
Connection established_client() {
  Connection c(Config{}, 40000, 80, 1000);
  c.connect(TimePoint::zero());
  EXPECT_TRUE(c.poll_transmit(TimePoint::zero()).has_value());
  c.on_segment(t(20_ms), seg(5000, 1001, kSyn | kAck), 0);
  EXPECT_EQ(c.state(), State::established);
  EXPECT_TRUE(c.poll_transmit(t(20_ms)).has_value());  // the handshake ACK
  return c;
}

TEST(Core, SynSentAnswersABadAckWithRst) {
  Connection c(Config{}, 40000, 80, 1000);
  c.connect(TimePoint::zero());
  ASSERT_TRUE(c.poll_transmit(TimePoint::zero()));
  c.on_segment(t(1_ms), seg(7000, 999, kSyn | kAck), 0);  // acks something we never sent
  const auto rst = c.poll_transmit(t(1_ms));
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->header.flags, kRst);
  EXPECT_EQ(rst->header.seq, 999u) << "RFC 9293 3.10.7.3: <SEQ=SEG.ACK><CTL=RST>";
  EXPECT_EQ(c.state(), State::syn_sent);
}

TEST(Core, TwoWayVariantIgnoresAnUnexpectedSynAck) {
  Config cfg;
  cfg.two_way_handshake = true;
  Connection c(cfg, 40000, 80, 1000);
  c.connect(TimePoint::zero());
  ASSERT_TRUE(c.poll_transmit(TimePoint::zero()));
  c.on_segment(t(1_ms), seg(7000, 999, kSyn | kAck), 0);
  EXPECT_FALSE(c.poll_transmit(t(1_ms)));
}

TEST(Core, BlindRstInWindowEarnsAChallengeAck) {
  Connection c = established_client();
  c.on_segment(t(30_ms), seg(5001 + 100, 0, kRst), 0);  // in window, not exact
  EXPECT_EQ(c.state(), State::established);
  const auto ack = c.poll_transmit(t(30_ms));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->header.flags, kAck);
  EXPECT_EQ(ack->header.ack, 5001u);
  c.on_segment(t(31_ms), seg(5001, 0, kRst), 0);  // exact
  EXPECT_EQ(c.state(), State::closed);
}

TEST(Core, RstOutsideTheWindowIsIgnoredSilently) {
  Connection c = established_client();
  c.on_segment(t(30_ms), seg(5001 + 200'000, 0, kRst), 0);
  EXPECT_EQ(c.state(), State::established);
  EXPECT_FALSE(c.poll_transmit(t(30_ms)));
}

TEST(Core, SynInASynchronizedStateEarnsAChallengeAck) {
  Connection c = established_client();
  c.on_segment(t(30_ms), seg(5001, 0, kSyn), 0);
  EXPECT_EQ(c.state(), State::established);
  const auto ack = c.poll_transmit(t(30_ms));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->header.flags, kAck);
}

TEST(Core, UnacceptableSegmentIsAnsweredWithAnAck) {
  Connection c = established_client();
  c.on_segment(t(30_ms), seg(4000, 1001, kAck), 100);  // old data, wholly before RCV.NXT
  const auto ack = c.poll_transmit(t(30_ms));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->header.ack, 5001u);
  EXPECT_EQ(c.bytes_received(), 0u);
}

TEST(Core, AckForUnsentDataIsAckedAndDropped) {
  Connection c = established_client();
  c.on_segment(t(30_ms), seg(5001, 9999, kAck), 10);
  EXPECT_EQ(c.bytes_received(), 0u) << "the segment is dropped, data included";
  EXPECT_TRUE(c.poll_transmit(t(30_ms)));
}

TEST(Core, OverlappingDataIsTrimmed) {
  Connection c = established_client();
  c.on_segment(t(30_ms), seg(5001, 1001, kAck), 100);
  c.on_segment(t(31_ms), seg(5051, 1001, kAck), 100);  // 50 old, 50 new
  EXPECT_EQ(c.bytes_received(), 150u);
  EXPECT_EQ(c.rcv_nxt(), Seq(5151));
}

// Found by the TCP core's fuzzer: a peer announcing MSS 0 made segments of no data and
// congestion control divide by zero. Linux sends at least tcp_min_snd_mss = 48 bytes.
TEST(Core, ATinyPeerMssIsRaisedToFortyEight) {
  Connection c(Config{}, 80, 40000, 5000);
  wire::TcpHeader syn;
  syn.seq = 1000;
  syn.flags = kSyn;
  syn.window = 65535;
  syn.options.mss = 0;
  c.accept(t(0_ms), syn);
  EXPECT_EQ(c.peer_mss(), 48);
}

// A connection opens once: after CLOSED, connect() and accept() do nothing (the
// endpoint makes a new connection for a new incarnation). The fuzzer reopened one and
// found SND.NXT behind SND.UNA.
TEST(Core, AClosedConnectionDoesNotOpenAgain) {
  Connection c(Config{}, 40000, 80, 1000);
  c.connect(t(0_ms));
  c.abort(t(1_ms));
  ASSERT_EQ(c.state(), State::closed);
  c.connect(t(2_ms));
  EXPECT_EQ(c.state(), State::closed);
  wire::TcpHeader syn;
  syn.seq = 1;
  syn.flags = kSyn;
  c.accept(t(3_ms), syn);
  EXPECT_EQ(c.state(), State::closed);
}

TEST(Core, EventsAndDeadlinesAreTheOnlyOutputs) {
  Connection c(Config{}, 40000, 80, 1000);
  EXPECT_EQ(c.next_deadline(), TimePoint::max());
  c.connect(t(5_ms));
  ASSERT_TRUE(c.poll_transmit(t(5_ms)));
  EXPECT_EQ(c.next_deadline(), t(5_ms) + 1_s) << "the SYN's retransmission timer";
  const auto e = c.poll_event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, EventKind::state_changed);
  EXPECT_EQ(e->to, State::syn_sent);
  EXPECT_FALSE(c.poll_event());
}

}  // namespace
}  // namespace shakedown::tcp
