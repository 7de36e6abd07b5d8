#include <gtest/gtest.h>

#include "emulator/random.h"
#include "nodes/tcp/config.h"
#include "nodes/tcp/ranges.h"
#include "nodes/tcp/seq.h"
#include "nodes/tcp/state.h"
#include "nodes/tcp/timers.h"

namespace shakedown::tcp {
namespace {

TEST(Seq, ComparesAcrossWraparound) {
  const Seq near_top(0xfffffff0u);
  const Seq wrapped = near_top + 0x20;  // 0x10
  EXPECT_EQ(wrapped.raw(), 0x10u);
  EXPECT_LT(near_top, wrapped);
  EXPECT_GT(wrapped, near_top);
  EXPECT_EQ(wrapped - near_top, 0x20);
  EXPECT_EQ(near_top - wrapped, -0x20);
  EXPECT_TRUE(in_window(Seq(2), near_top, wrapped));
  EXPECT_FALSE(in_window(wrapped, near_top, wrapped)) << "the window is half-open";
  EXPECT_EQ(max(near_top, wrapped), wrapped);
  EXPECT_EQ(min(near_top, wrapped), near_top);
}

TEST(Seq, HalfTheSpaceAheadIsAhead) {
  const Seq a(100);
  EXPECT_LT(a, a + 0x7fffffffu);
  EXPECT_GT(a, a + 0x80000001u) << "more than 2^31 ahead reads as behind";
}

TEST(State, NamesAndSynchronizedStates) {
  EXPECT_EQ(to_string(State::syn_received), "SYN_RECEIVED");
  EXPECT_EQ(to_string(State::time_wait), "TIME_WAIT");
  int synchronized_count = 0;
  for (int i = 0; i < kStateCount; ++i) synchronized_count += synchronized(static_cast<State>(i));
  EXPECT_EQ(synchronized_count, 7);  // ESTABLISHED through TIME_WAIT
}

TEST(TimerTable, EarliestDeadlineAndFiringOrder) {
  TimerTable t;
  EXPECT_EQ(t.next(), TimePoint::max());
  const TimePoint t0 = TimePoint::zero();
  t.set(Timer::time_wait, t0 + 60_s);
  t.set(Timer::retransmission, t0 + 1_s);
  t.set(Timer::delayed_ack, t0 + 40_ms);
  EXPECT_EQ(t.next(), t0 + 40_ms);
  Timer fired;
  EXPECT_FALSE(t.take_expired(t0 + 39_ms, fired));
  ASSERT_TRUE(t.take_expired(t0 + 2_s, fired));
  EXPECT_EQ(fired, Timer::delayed_ack);
  ASSERT_TRUE(t.take_expired(t0 + 2_s, fired));
  EXPECT_EQ(fired, Timer::retransmission);
  EXPECT_FALSE(t.take_expired(t0 + 2_s, fired));
  EXPECT_TRUE(t.armed(Timer::time_wait));
  t.cancel(Timer::time_wait);
  EXPECT_EQ(t.next(), TimePoint::max());
}

TEST(Config, LinuxDefaults) {
  const Config c;
  EXPECT_EQ(c.time_wait(), 60_s) << "Linux TCP_TIMEWAIT_LEN";
  EXPECT_EQ(c.initial_rto, 1_s);
  EXPECT_EQ(c.syn_retries, 6);
  EXPECT_EQ(c.synack_retries, 5);
  EXPECT_FALSE(c.two_way_handshake);
}

}  // namespace
}  // namespace shakedown::tcp

namespace shakedown::tcp {
namespace {

TEST(RangeSet, MergesOverlappingAndTouchingRanges) {
  RangeSet s;
  s.add(10, 20);
  s.add(30, 40);
  s.add(50, 60);
  EXPECT_EQ(s.ranges().size(), 3u);
  s.add(20, 30);  // touches both neighbours
  EXPECT_EQ(s.ranges(), (std::vector<Range>{{10, 40}, {50, 60}}));
  s.add(35, 55);
  EXPECT_EQ(s.ranges(), (std::vector<Range>{{10, 60}}));
  s.add(0, 5);
  s.add(70, 80);
  EXPECT_EQ(s.ranges(), (std::vector<Range>{{0, 5}, {10, 60}, {70, 80}}));
  EXPECT_EQ(s.bytes(), 5u + 50 + 10);
  s.add(7, 7);  // empty: nothing
  EXPECT_EQ(s.ranges().size(), 3u);
}

TEST(RangeSet, ContiguousEndAndRemoval) {
  RangeSet s;
  s.add(100, 200);
  s.add(300, 400);
  EXPECT_EQ(s.contiguous_end(100), 200u);
  EXPECT_EQ(s.contiguous_end(150), 200u);
  EXPECT_EQ(s.contiguous_end(99), 99u);
  EXPECT_EQ(s.contiguous_end(250), 250u);
  EXPECT_TRUE(s.contains(399));
  EXPECT_FALSE(s.contains(400));
  s.remove_below(350);
  EXPECT_EQ(s.ranges(), (std::vector<Range>{{350, 400}}));
}

TEST(RangeSet, AgreesWithABitmapUnderRandomAdds) {
  RandomStream rng(5, "ranges");
  for (int round = 0; round < 200; ++round) {
    RangeSet s;
    std::vector<bool> bits(200, false);
    for (int i = 0; i < 20; ++i) {
      const auto b = rng.below(190);
      const auto e = b + rng.below(12);
      s.add(b, e);
      for (auto k = b; k < e; ++k) bits[k] = true;
    }
    for (std::uint64_t k = 0; k < 200; ++k) ASSERT_EQ(s.contains(k), bits[k]) << k;
    for (std::size_t i = 1; i < s.ranges().size(); ++i) ASSERT_LT(s.ranges()[i - 1].end, s.ranges()[i].begin);
  }
}

}  // namespace
}  // namespace shakedown::tcp
