// The connection's parts on their own: the RTT estimator (RFC 6298) and the SACK
// scoreboard (RFC 6675), driven by tables.
#include <gtest/gtest.h>

#include "nodes/tcp/rtt.h"
#include "nodes/tcp/scoreboard.h"

namespace shakedown::tcp {
namespace {

using namespace shakedown::literals;

TEST(RttEstimator, FollowsRfc6298) {
  RttEstimator r(1_s);
  EXPECT_EQ(r.rto(), 1_s);
  EXPECT_FALSE(r.have_sample());
  EXPECT_EQ(r.srtt(), Duration::zero());
  // 2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR = 300 ms.
  EXPECT_EQ(r.sample(100_ms, 200_ms, 120_s), 300_ms);
  EXPECT_EQ(r.srtt(), 100_ms);
  // 2.3: RTTVAR = 3/4 50 + 1/4 |100 - 60| = 47.5 ms; SRTT = 7/8 100 + 1/8 60 = 95 ms;
  // RTO = 95 + 190 = 285 ms.
  EXPECT_EQ(r.sample(60_ms, 200_ms, 120_s), 285_ms);
  // 2.4: never below the minimum.
  RttEstimator fast(1_s);
  EXPECT_EQ(fast.sample(1_ms, 200_ms, 120_s), 200_ms);
  // 5.5: back off, up to the maximum.
  fast.back_off(300_ms);
  EXPECT_EQ(fast.rto(), 300_ms);
}

TEST(RttEstimator, TimesOneSegmentAndForgetsItOnBackOff) {
  RttEstimator r(1_s);
  const TimePoint t0 = TimePoint::zero() + 10_ms;
  r.start_timing(Seq(1001), t0);
  EXPECT_TRUE(r.timing());
  EXPECT_FALSE(r.acknowledged(Seq(1000), t0 + 30_ms).has_value()) << "not yet covered";
  EXPECT_EQ(r.acknowledged(Seq(1001), t0 + 40_ms), 40_ms);
  EXPECT_FALSE(r.timing()) << "one measurement per timed segment";
  EXPECT_FALSE(r.acknowledged(Seq(2000), t0 + 50_ms).has_value());
  r.start_timing(Seq(3000), t0);
  r.back_off(120_s);  // Karn: a retransmission voids the measurement
  EXPECT_FALSE(r.acknowledged(Seq(3000), t0 + 50_ms).has_value());
  EXPECT_EQ(r.rto(), 2_s);
}

TEST(RttEstimator, FallsBackToThreeSecondsAfterASynTimeoutWithoutASample) {
  RttEstimator r(1_s);
  r.back_off(120_s);
  r.back_off(120_s);
  r.fall_back_after_syn_timeout(1_s, 120_s);
  EXPECT_EQ(r.rto(), 3_s);
  RttEstimator sampled(1_s);
  sampled.sample(100_ms, 200_ms, 120_s);
  sampled.fall_back_after_syn_timeout(1_s, 120_s);
  EXPECT_EQ(sampled.rto(), 300_ms) << "a sample was taken: it stands";
}

wire::TcpOptions sack(std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> blocks) {
  wire::TcpOptions o;
  for (const auto& [l, r] : blocks) o.sack[o.sack_count++] = {l, r};
  return o;
}

TEST(SackScoreboard, RecordsOnlyOutstandingBlocks) {
  SackScoreboard b;
  const Seq una(1000), max(11000);
  b.record(sack({{2000, 3000}, {500, 900}, {10500, 12000}, {3000, 2000}}), una, max);
  EXPECT_EQ(b.sacked_between(0, 100000), 1000u) << "only [2000, 3000) is outstanding and well formed";
  EXPECT_EQ(b.unwrap(Seq(2000), una), 1000u);
  b.advance(1500);  // SND.UNA 2500: the board drops what is below
  EXPECT_EQ(b.una(), 1500u);
  EXPECT_EQ(b.sacked_between(0, 100000), 500u);
  b.forget();
  EXPECT_TRUE(b.empty());
}

TEST(SackScoreboard, LostBytesPipeAndNextHoleFollowRfc6675) {
  // Ten 100-byte segments outstanding from 0; the receiver SACKs 3, 5, 7 (of 0..9).
  SackScoreboard b;
  const Seq una(0), max(1000);
  b.record(sack({{300, 400}, {500, 600}, {700, 800}}), una, max);
  // IsLost with DupThresh 3: three blocks lie above byte 299, so [0, 300) is lost.
  EXPECT_EQ(b.lost_below(100, 3), 300u);
  // SetPipe: unSACKed and not lost: [300, 1000) less 300 SACKed = 400 bytes.
  b.begin_recovery();
  EXPECT_EQ(b.pipe(1000, 100, 3), 400u);
  EXPECT_EQ(b.next_hole(), 0u);
  b.retransmitted_to(100);
  EXPECT_EQ(b.pipe(1000, 100, 3), 500u) << "a retransmitted segment is in the network once more";
  EXPECT_EQ(b.next_hole(), 100u);
  b.retransmitted_to(300);
  EXPECT_EQ(b.next_hole(), 400u) << "SACKed bytes are skipped";
  b.retransmitted_to(700);
  EXPECT_FALSE(b.next_hole().has_value()) << "nothing unSACKed below the highest SACKed byte";
  EXPECT_EQ(b.next_sacked_above(400, 1000), 500u);
  EXPECT_EQ(b.next_sacked_above(800, 1000), 1000u);
}

}  // namespace
}  // namespace shakedown::tcp
