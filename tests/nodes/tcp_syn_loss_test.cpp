// What a lost SYN or SYN-ACK does to the rest of a connection, and duplicate ACKs that
// arrive out of order with timestamps on. Each expectation comes from an RFC or from
// Linux, not from shakedown's output.
#include <gtest/gtest.h>

#include "nodes/tcp/connection.h"
#include "tcp_pair.h"

namespace shakedown::tcp {
namespace {

using testing::Pair;

constexpr int kClient = 0, kServer = 1;
constexpr std::uint32_t kSeg = 1448;  // 1460 less the timestamp option
TimePoint t(Duration d) { return TimePoint::zero() + d; }

std::vector<Event> retransmissions(const Pair& p, int side) {
  std::vector<Event> out;
  for (const auto& l : p.log())
    if (l.side == side && l.event.kind == EventKind::retransmission && l.event.segment == SegmentKind::data)
      out.push_back(l.event);
  return out;
}

// Data segments `from` sent, first transmissions only, in [begin, end).
int data_sent(const Pair& p, int from, TimePoint begin, TimePoint end) {
  int n = 0;
  for (const auto& s : p.sent())
    n += s.from == from && s.segment.length > 0 && !s.segment.retransmission && s.time >= begin && s.time < end;
  return n;
}

// Issue: after a SYN timeout, `recover` was set to SND.MAX = ISS + 1, which equals
// SND.UNA once the handshake completes, so the first loss afterwards could not be
// fast-retransmitted. RFC 6582 3.2 step 1 initialises `recover` to the ISS, and only a
// data timeout moves it.
TEST(SynLoss, TheFirstDataLossAfterALostSynIsFastRetransmitted) {
  for (const bool sack : {true, false}) {
    Config cfg;
    cfg.sack = sack;
    cfg.congestion = CongestionAlgorithm::newreno;
    cfg.initial_window = 10;
    cfg.syn_loss_window_after = 100;  // keep the full initial window: this test is about recovery
    Pair p(cfg, cfg, 10_ms);
    p.listen();
    p.drop(kClient, testing::is_syn, 1);
    p.drop(kClient, testing::is_data, 1);  // the first: no ACK of new data comes before it
    p.at(t(0_ms), kClient, [](Connection& c, TimePoint now) { c.connect(now); });
    p.when_established(t(0_ms), kClient, [](Connection& c, TimePoint) { c.send(10 * 1460); });
    p.run_until(t(20_s));
    const auto r = retransmissions(p, kClient);
    ASSERT_EQ(r.size(), 1u) << "sack " << sack;
    EXPECT_EQ(r[0].cause, RetransmitCause::fast_retransmit) << "sack " << sack;
    // ESTABLISHED at 1.02 s, polled every 100 ms: data leaves at 1.1 s; the duplicate
    // ACKs of segments 2-4 are back one RTT later.
    EXPECT_EQ(r[0].time, t(1_s) + 120_ms) << "sack " << sack;
  }
}

// RFC 7323 4 (and Linux): the SYN-ACK echoes the TSval of the SYN it answers, so after
// a lost SYN it still gives an unambiguous RTT sample; the RTO follows it (200 ms, the
// floor, on a 20 ms path) instead of keeping the backed-off 2 s.
TEST(SynLoss, WithTimestampsTheSynAckGivesAnRttSample) {
  Pair p(Config{}, Config{}, 10_ms);
  p.listen();
  p.drop(kClient, testing::is_syn, 1);
  p.at(t(0_ms), kClient, [](Connection& c, TimePoint now) { c.connect(now); });
  p.run_until(t(2_s));
  ASSERT_EQ(p.client().state(), State::established);
  EXPECT_EQ(p.client().rto(), 200_ms);
  EXPECT_EQ(p.count(kClient, EventKind::rtt_sample), 1);
}

// The same for the server: its retransmitted SYN-ACK is timed by the echo in the
// handshake's last ACK.
TEST(SynLoss, WithTimestampsTheLastAckTimesARetransmittedSynAck) {
  Pair p(Config{}, Config{}, 10_ms);
  p.listen();
  p.drop(kServer, testing::is_synack, 1);
  p.drop(kClient, testing::is_syn, 2);  // the client's own retry must not answer first
  p.at(t(0_ms), kClient, [](Connection& c, TimePoint now) { c.connect(now); });
  p.run_until(t(3_s));
  ASSERT_EQ(p.server().state(), State::established);
  EXPECT_EQ(p.server().rto(), 200_ms);
}

// RFC 6298 5.7: without timestamps Karn's rule leaves no sample; once the handshake is
// done after a SYN timeout, the RTO is re-initialised to 3 s (Linux
// TCP_TIMEOUT_FALLBACK), not kept at the backed-off value.
TEST(SynLoss, WithoutTimestampsTheRtoIsThreeSecondsAfterALostSyn) {
  for (const int lost : {1, 3}) {
    Config cfg;
    cfg.timestamps = false;
    Pair p(cfg, cfg, 10_ms);
    p.listen();
    for (int i = 1; i <= lost; ++i) p.drop(kClient, testing::is_syn, i);
    p.at(t(0_ms), kClient, [](Connection& c, TimePoint now) { c.connect(now); });
    p.run_until(t(10_s));
    ASSERT_EQ(p.client().state(), State::established) << lost;
    EXPECT_EQ(p.client().rto(), 3_s) << lost << " lost SYNs";
  }
}

// RFC 5681 3.1: after a lost SYN or SYN-ACK the initial window is one segment. Linux
// applies it once more than one was retransmitted (tcp_init_transfer); that is the
// default, and `syn_loss_window_after: 1` is the RFC.
TEST(SynLoss, TwoLostSynsLeaveAnInitialWindowOfOneSegment) {
  struct Case {
    int lost;
    int after;
    int first_flight;
  };
  for (const Case c : {Case{0, 2, 10}, Case{1, 2, 10}, Case{2, 2, 1}, Case{1, 1, 1}}) {
    Config cfg;
    cfg.syn_loss_window_after = c.after;
    Pair p(cfg, cfg, 10_ms);
    p.listen();
    for (int i = 1; i <= c.lost; ++i) p.drop(kClient, testing::is_syn, i);
    p.at(t(0_ms), kClient, [](Connection& conn, TimePoint now) { conn.connect(now); });
    p.run_until(t(5_s));
    ASSERT_EQ(p.client().state(), State::established);
    p.at(t(5_s), kClient, [](Connection& conn, TimePoint) { conn.send(20 * kSeg); });
    p.run_until(t(5_s) + 15_ms);  // less than one round trip: only the first flight
    EXPECT_EQ(data_sent(p, kClient, t(5_s), t(6_s)), c.first_flight)
        << c.lost << " lost SYNs, threshold " << c.after;
  }
}

TEST(SynLoss, TwoLostSynAcksLeaveTheServerAnInitialWindowOfOneSegment) {
  for (const int lost : {1, 2}) {
    // A patient client (first SYN retry at 10 s), so that only the server's timer
    // repeats the SYN-ACK: a repeated SYN would draw one more (as in Linux, where it
    // counts too).
    Config patient;
    patient.initial_rto = 10_s;
    Pair p(patient, Config{}, 10_ms);
    p.listen();
    for (int i = 1; i <= lost; ++i) p.drop(kServer, testing::is_synack, i);
    p.at(t(0_ms), kClient, [](Connection& c, TimePoint now) { c.connect(now); });
    p.run_until(t(9_s));
    ASSERT_EQ(p.server().state(), State::established);
    p.at(t(9_s), kServer, [](Connection& conn, TimePoint) { conn.send(20 * kSeg); });
    p.run_until(t(9_s) + 15_ms);
    EXPECT_EQ(data_sent(p, kServer, t(9_s), t(10_s)), lost >= 2 ? 1 : 10) << lost << " lost SYN-ACKs";
  }
}

// Linux tcp_disordered_ack: a pure duplicate ACK whose timestamp is older than the
// newest one seen (it was overtaken in the network) is still a duplicate ACK, not a
// PAWS failure; with `strict_paws` RFC 7323 5.3's drop applies to it too.
TEST(DisorderedAcks, ReorderedDuplicateAcksStillTriggerFastRetransmit) {
  for (const bool strict : {false, true}) {
    Config cfg;
    cfg.strict_paws = strict;
    cfg.congestion = CongestionAlgorithm::newreno;
    cfg.sack = false;  // with SACK the scoreboard alone would find the loss (RFC 6675 IsLost)
    Pair p(cfg, cfg, 10_ms);
    p.listen();
    p.at(t(0_ms), kClient, [](Connection& c, TimePoint now) { c.connect(now); });
    // One segment first, so that the window the server advertises is settled (an ACK
    // that changes the window is no duplicate, RFC 5681 2).
    p.at(t(30_ms), kClient, [](Connection& c, TimePoint) { c.send(kSeg); });
    // Then segment 2 is lost; 3 and 4 leave at 200 ms, 5 at 203 ms. The server's first
    // duplicate ACK (TSval 211) is held 15 ms, so the third (TSval 214) overtakes it:
    // three duplicates in all, the last to arrive older than the newest timestamp seen.
    p.drop(kClient, testing::is_data, 2);
    p.delay(kServer, testing::is_pure_ack, 15_ms, 2);
    p.at(t(200_ms), kClient, [](Connection& c, TimePoint) { c.send(3 * kSeg); });
    p.at(t(203_ms), kClient, [](Connection& c, TimePoint) { c.send(kSeg); });
    p.run_until(t(5_s));
    EXPECT_EQ(p.server().bytes_received(), 5u * kSeg) << "strict " << strict;
    const auto r = retransmissions(p, kClient);
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r[0].cause, strict ? RetransmitCause::timeout : RetransmitCause::fast_retransmit)
        << "strict " << strict;
  }
}

}  // namespace
}  // namespace shakedown::tcp
