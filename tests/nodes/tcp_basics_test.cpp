#include <gtest/gtest.h>

#include "nodes/tcp/config.h"
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
