// The real-time driver: events run when the wall clock reaches their time, in their
// order; a watched descriptor's data is handed over at the clock's time; lateness is
// measured. Bounds on wall time are one-sided where the machine may be slow (an event
// never runs early; running late is measured, not failed), so a loaded machine cannot
// make these fail.
#include "emulator/realtime.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>
#include <vector>

namespace shakedown {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

TEST(LatenessHistogram, PercentilesWithinThreePercent) {
  // Uniform lateness over [0, 10 ms): the p-th percentile is p * 10 ms.
  LatenessHistogram h;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> late(0, 9'999'999);
  for (int i = 0; i < 200'000; ++i) h.add(Duration::nanoseconds(late(rng)));
  EXPECT_EQ(h.count(), 200'000u);
  // The bucket's error (1/32) plus the sample's (standard error of a quantile of
  // 200,000 draws is under 0.2% of the range): 3.5% leaves room for both.
  EXPECT_NEAR(static_cast<double>(h.percentile(0.5).ns()), 5e6, 5e6 * 0.035);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.99).ns()), 9.9e6, 9.9e6 * 0.035);
  EXPECT_LE(h.percentile(0.99), h.max());
  EXPECT_LT(h.max(), Duration::milliseconds(10));
}

TEST(LatenessHistogram, SmallAndHugeValuesAndEmpty) {
  LatenessHistogram h;
  EXPECT_EQ(h.percentile(0.5), Duration::zero());
  h.add(Duration::nanoseconds(3));
  EXPECT_EQ(h.percentile(0.5), Duration::nanoseconds(3));  // exact below 32 ns
  h.add(Duration::seconds(3600));
  EXPECT_EQ(h.max(), Duration::seconds(3600));
  EXPECT_EQ(h.percentile(1.0), Duration::seconds(3600));  // never above the maximum
}

TEST(RealtimeDriver, EventsRunInOrderNeverEarly) {
  Engine engine;
  std::vector<std::pair<TimePoint, double>> ran;  // the event's time, the wall time it ran at
  const auto start = Clock::now();
  for (const int ms : {0, 120, 40, 80})
    engine.at(TimePoint::zero() + Duration::milliseconds(ms),
              [&, ms] { ran.emplace_back(TimePoint::zero() + Duration::milliseconds(ms), seconds_since(start)); });
  RealtimeDriver driver(engine, Duration::milliseconds(1));
  EXPECT_EQ(driver.run(TimePoint::zero() + Duration::seconds(10), /*stop_when_idle=*/true),
            RealtimeDriver::Ended::kIdle);
  ASSERT_EQ(ran.size(), 4u);
  for (std::size_t i = 0; i < ran.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(ran[i - 1].first, ran[i].first);
    }
    EXPECT_GE(ran[i].second, ran[i].first.since_start().seconds_f()) << "event " << i << " ran early";
  }
  EXPECT_EQ(engine.now(), TimePoint::zero() + Duration::milliseconds(120));  // the last event, as in virtual time
  const Lateness l = driver.lateness();
  EXPECT_EQ(l.events, 4u);
  EXPECT_LE(l.p50, l.p99);
  EXPECT_LE(l.p99, l.max);
  EXPECT_GE(l.max, Duration::zero());
}

TEST(RealtimeDriver, StopsAtTheLimitWithTimeThere) {
  Engine engine;
  bool late_event_ran = false;
  engine.at(TimePoint::zero() + Duration::seconds(30), [&] { late_event_ran = true; });
  RealtimeDriver driver(engine, Duration::milliseconds(1));
  const auto start = Clock::now();
  EXPECT_EQ(driver.run(TimePoint::zero() + Duration::milliseconds(150), true), RealtimeDriver::Ended::kLimit);
  EXPECT_GE(seconds_since(start), 0.150);
  EXPECT_FALSE(late_event_ran);
  EXPECT_EQ(engine.now(), TimePoint::zero() + Duration::milliseconds(150));
}

TEST(RealtimeDriver, ATickThatSaysStopEndsTheRun) {
  Engine engine;
  engine.at(TimePoint::zero() + Duration::seconds(30), [] {});
  RealtimeDriver driver(engine, Duration::milliseconds(1));
  int ticks = 0;
  driver.on_tick(Duration::milliseconds(20), [&] { return ++ticks < 3; });
  const auto start = Clock::now();
  EXPECT_EQ(driver.run(TimePoint::zero() + Duration::seconds(60), false), RealtimeDriver::Ended::kStopped);
  EXPECT_EQ(ticks, 3);
  EXPECT_LT(seconds_since(start), 20.0);  // not the 30 s of the event: the ticks ended it
}

TEST(RealtimeDriver, AWatchedDescriptorIsHandedOverAtTheClocksTime) {
  Engine engine;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  RealtimeDriver driver(engine, Duration::milliseconds(1));
  std::vector<TimePoint> arrivals;
  TimePoint answered;
  driver.watch(fds[0], [&] {
    char c = 0;
    ASSERT_EQ(read(fds[0], &c, 1), 1);
    arrivals.push_back(engine.now());
    // What arrives may schedule an event earlier than anything else pending.
    engine.after(Duration::milliseconds(10), [&] {
      answered = engine.now();
      engine.stop();
    });
  });
  engine.at(TimePoint::zero() + Duration::seconds(30), [] {});
  // The writer starts with the run's first event, once the run's clock has started:
  // its byte comes at least 60 ms into the run.
  std::thread writer;
  engine.at(TimePoint::zero(), [&] {
    writer = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(60));
      ASSERT_EQ(write(fds[1], "x", 1), 1);
    });
  });
  const auto start = Clock::now();
  EXPECT_EQ(driver.run(TimePoint::zero() + Duration::seconds(60), false), RealtimeDriver::Ended::kStopped);
  const double took = seconds_since(start);
  writer.join();
  close(fds[0]);
  close(fds[1]);
  ASSERT_EQ(arrivals.size(), 1u);
  EXPECT_GE(arrivals[0], TimePoint::zero() + Duration::milliseconds(60));
  EXPECT_LE(arrivals[0].since_start().seconds_f(), took);
  EXPECT_EQ(answered, arrivals[0] + Duration::milliseconds(10));
  EXPECT_LT(took, 20.0);  // the event at 30 s never came: the answer stopped the run
}

}  // namespace
}  // namespace shakedown
