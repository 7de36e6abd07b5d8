#include "emulator/engine.h"

#include <vector>

#include <gtest/gtest.h>

namespace shakedown {
namespace {

TEST(Engine, AdvancesVirtualTimeEventByEvent) {
  Engine e;
  std::vector<std::int64_t> seen;
  e.after(10_ms, [&] {
    seen.push_back(e.now().ns());
    e.after(5_ms, [&] { seen.push_back(e.now().ns()); });
  });
  e.after(1_ms, [&] { seen.push_back(e.now().ns()); });
  e.run();
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1'000'000, 10'000'000, 15'000'000}));
  EXPECT_EQ(e.events_executed(), 3u);
}

TEST(Engine, RunUntilStopsAtTheLimitAndResumes) {
  Engine e;
  int ran = 0;
  for (int i = 1; i <= 10; ++i) e.at(TimePoint::zero() + Duration::seconds(i), [&] { ++ran; });
  EXPECT_EQ(e.run_until(TimePoint::zero() + 5_s), 5u);  // events at exactly the limit run
  EXPECT_EQ(e.now(), TimePoint::zero() + 5_s);
  EXPECT_EQ(e.run_until(TimePoint::zero() + 5500_ms), 0u);
  EXPECT_EQ(e.now(), TimePoint::zero() + 5500_ms) << "time moves to the limit even with nothing to do";
  e.run();
  EXPECT_EQ(ran, 10);
  EXPECT_EQ(e.now(), TimePoint::zero() + 10_s);
}

TEST(Engine, SlicesRunTheSameEventsAsOneRun) {
  Engine e;
  std::vector<int> order;
  for (int i = 1; i <= 10; ++i) e.at(TimePoint::zero() + Duration::seconds(i % 4), [&, i] { order.push_back(i); });
  EXPECT_EQ(e.run_slice(TimePoint::zero() + 2_s, 3), 3u);
  EXPECT_EQ(e.now(), TimePoint::zero() + 1_s) << "a full slice leaves time at its last event";
  EXPECT_EQ(e.run_slice(TimePoint::zero() + 2_s, 100), 5u);  // the rest up to the limit
  EXPECT_EQ(e.now(), TimePoint::zero() + 2_s);
  while (e.run_slice(TimePoint::max(), 2) > 0) {
  }
  EXPECT_EQ(order, (std::vector<int>{4, 8, 1, 5, 9, 2, 6, 10, 3, 7}));
  EXPECT_EQ(e.events_executed(), 10u);
}

TEST(Engine, StopEndsTheRunAfterTheCurrentEvent) {
  Engine e;
  int ran = 0;
  e.after(1_ms, [&] {
    ++ran;
    e.stop();
  });
  e.after(1_ms, [&] { ++ran; });
  e.run();
  EXPECT_EQ(ran, 1);
  EXPECT_TRUE(e.stopped());
  EXPECT_EQ(e.events_pending(), 1u);
  e.run();
  EXPECT_EQ(ran, 2);
}

TEST(Engine, ThePastIsClampedToNow) {
  Engine e;
  std::vector<int> order;
  e.after(10_ms, [&] {
    e.at(TimePoint::zero() + 1_ms, [&] { order.push_back(2); });
    EXPECT_EQ(e.now(), TimePoint::zero() + 10_ms);
    order.push_back(1);
  });
  e.run();
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(e.now(), TimePoint::zero() + 10_ms) << "time never goes backwards";
}

TEST(Engine, CancelAndRescheduleThroughTheEngine) {
  Engine e;
  int value = 0;
  const EventId id = e.after(5_ms, [&] { value = e.now().ns() == 2'000'000 ? 1 : -1; });
  e.after(1_ms, [&] { EXPECT_TRUE(e.reschedule(id, e.now() + 1_ms)); });
  e.run();
  EXPECT_EQ(value, 1);
  EXPECT_FALSE(e.cancel(id));
}

}  // namespace
}  // namespace shakedown
