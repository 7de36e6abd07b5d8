#include "emulator/scheduler.h"

#include <map>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <algorithm>

#include "emulator/random.h"

namespace shakedown {
namespace {

TimePoint at_ms(int ms) { return TimePoint::zero() + Duration::milliseconds(ms); }

void drain(Scheduler& s) {
  while (!s.empty()) s.pop().run();
}

TEST(Scheduler, RunsInTimeOrderAndEqualTimesInInsertionOrder) {
  Scheduler s;
  std::vector<int> order;
  s.schedule(at_ms(3), [&] { order.push_back(3); });
  s.schedule(at_ms(1), [&] { order.push_back(10); });
  s.schedule(at_ms(2), [&] { order.push_back(2); });
  s.schedule(at_ms(1), [&] { order.push_back(11); });
  s.schedule(at_ms(1), [&] { order.push_back(12); });
  drain(s);
  EXPECT_EQ(order, (std::vector<int>{10, 11, 12, 2, 3}));
}

// ARCHITECTURE rule 2: equal times run by owner, then in each owner's order of
// scheduling — whatever order the owners scheduled in, so that processes that run
// different components agree. Tried over every interleaving of three owners' events,
// in each of the scheduler's tiers (the heap, a bucket, the overflow).
TEST(Scheduler, EqualTimesRunByOwnerThenByEachOwnersOrder) {
  // Events (owner, its own number): owner 7 schedules a then b; owner 3 c then d;
  // owner 5 e.
  const std::vector<std::pair<Owner, int>> events = {{7, 0}, {7, 1}, {3, 0}, {3, 1}, {5, 0}};
  const std::vector<std::pair<Owner, int>> expected = {{3, 0}, {3, 1}, {5, 0}, {7, 0}, {7, 1}};
  std::vector<int> idx = {0, 1, 2, 3, 4};
  int interleavings = 0;
  do {
    // Only interleavings that keep each owner's own order.
    bool keeps = true;
    for (std::size_t i = 0; i < idx.size(); ++i)
      for (std::size_t j = i + 1; j < idx.size(); ++j)
        if (events[idx[i]].first == events[idx[j]].first && events[idx[i]].second > events[idx[j]].second) keeps = false;
    if (!keeps) continue;
    ++interleavings;
    for (const std::int64_t ms : {1, 50, 100'000}) {
      Scheduler s;
      std::vector<std::pair<Owner, int>> order;
      s.schedule(at_ms(0), [] {});  // something earlier, so that later times land in buckets
      for (const int i : idx) {
        const auto e = events[static_cast<std::size_t>(i)];
        s.schedule(at_ms(ms), e.first, [&order, e] { order.push_back(e); });
      }
      drain(s);
      EXPECT_EQ(order, expected) << "at " << ms << " ms, interleaving " << interleavings;
    }
  } while (std::next_permutation(idx.begin(), idx.end()));
  EXPECT_EQ(interleavings, 30);  // 5! / (2! 2! 1!)
}

// A moved event counts as scheduled anew within its owner, and keeps its owner.
TEST(Scheduler, ARescheduledEventKeepsItsOwner) {
  Scheduler s;
  std::vector<int> order;
  const EventId moved = s.schedule(at_ms(5), 2, [&] { order.push_back(1); });
  s.schedule(at_ms(3), 2, [&] { order.push_back(2); });
  s.schedule(at_ms(3), 9, [&] { order.push_back(3); });
  s.schedule(at_ms(3), 1, [&] { order.push_back(4); });
  ASSERT_TRUE(s.reschedule(moved, at_ms(3)));
  drain(s);
  EXPECT_EQ(order, (std::vector<int>{4, 2, 1, 3}));
}

TEST(Scheduler, CancelRemovesOnlyThatEvent) {
  Scheduler s;
  std::vector<int> order;
  s.schedule(at_ms(1), [&] { order.push_back(1); });
  const EventId two = s.schedule(at_ms(2), [&] { order.push_back(2); });
  s.schedule(at_ms(3), [&] { order.push_back(3); });
  EXPECT_TRUE(s.pending(two));
  EXPECT_TRUE(s.cancel(two));
  EXPECT_FALSE(s.pending(two));
  EXPECT_FALSE(s.cancel(two)) << "a second cancel is a no-op";
  drain(s);
  EXPECT_EQ(order, (std::vector<int>{1, 3}));
}

TEST(Scheduler, RescheduleMovesBothWaysAndCountsAsANewInsertion) {
  Scheduler s;
  std::vector<int> order;
  const EventId a = s.schedule(at_ms(5), [&] { order.push_back(1); });
  s.schedule(at_ms(2), [&] { order.push_back(2); });
  const EventId c = s.schedule(at_ms(1), [&] { order.push_back(3); });
  EXPECT_TRUE(s.reschedule(a, at_ms(2)));  // earlier; ties with 2, inserted after it
  EXPECT_TRUE(s.reschedule(c, at_ms(9)));  // later
  EXPECT_EQ(s.time_of(a), at_ms(2));
  drain(s);
  EXPECT_EQ(order, (std::vector<int>{2, 1, 3}));
}

TEST(Scheduler, StaleIdsNeverTouchANewerEventInTheSameSlot) {
  Scheduler s;
  int ran = 0;
  const EventId old = s.schedule(at_ms(1), [&] { ++ran; });
  drain(s);
  const EventId fresh = s.schedule(at_ms(2), [&] { ran += 10; });  // reuses the slot
  EXPECT_FALSE(s.cancel(old));
  EXPECT_FALSE(s.reschedule(old, at_ms(7)));
  EXPECT_FALSE(s.pending(old));
  EXPECT_TRUE(s.pending(fresh));
  EXPECT_EQ(s.time_of(old), TimePoint::max());
  drain(s);
  EXPECT_EQ(ran, 11);
  EXPECT_FALSE(EventId().valid());
}

TEST(Scheduler, CallbacksMayScheduleWhileRunning) {
  Scheduler s;
  std::vector<int> order;
  s.schedule(at_ms(1), [&] {
    order.push_back(1);
    s.schedule(at_ms(1), [&] { order.push_back(3); });  // same time: after those queued
  });
  s.schedule(at_ms(1), [&] { order.push_back(2); });
  drain(s);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

// Against a reference model (a map keyed by (time, insertion sequence)) under a random
// mix of schedule, cancel, reschedule and pop.
TEST(Scheduler, AgreesWithAReferenceModelUnderRandomOperations) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    RandomStream rng(seed, "scheduler-property");
    Scheduler s;
    std::map<std::pair<std::int64_t, std::uint64_t>, int> model;  // (time, seq) -> label
    std::map<int, std::pair<EventId, std::pair<std::int64_t, std::uint64_t>>> live;
    std::uint64_t seq = 0;
    int next_label = 0;
    int popped_label = -1;
    for (int step = 0; step < 3000; ++step) {
      const auto op = rng.below(10);
      if (op < 5 || live.empty()) {
        const auto t = static_cast<std::int64_t>(rng.below(1000));
        const int label = next_label++;
        const EventId id = s.schedule(TimePoint::from_ns(t), [&popped_label, label] { popped_label = label; });
        model[{t, seq}] = label;
        live[label] = {id, {t, seq}};
        ++seq;
      } else if (op < 7) {
        auto it = std::next(live.begin(), static_cast<long>(rng.below(live.size())));
        ASSERT_TRUE(s.cancel(it->second.first));
        model.erase(it->second.second);
        live.erase(it);
      } else if (op < 8) {
        auto it = std::next(live.begin(), static_cast<long>(rng.below(live.size())));
        const auto t = static_cast<std::int64_t>(rng.below(1000));
        ASSERT_TRUE(s.reschedule(it->second.first, TimePoint::from_ns(t)));
        model.erase(it->second.second);
        model[{t, seq}] = it->first;
        it->second.second = {t, seq};
        ++seq;
      } else {
        auto fired = s.pop();
        fired.run();
        const auto expected = model.begin();
        ASSERT_EQ(fired.time.ns(), expected->first.first);
        ASSERT_EQ(popped_label, expected->second);
        live.erase(expected->second);
        model.erase(expected);
      }
      ASSERT_EQ(s.size(), model.size());
    }
  }
}

// The way a simulation uses it: time only moves forward, most events are near, a few
// are far in the future, timers are moved and cancelled, and the queue sometimes runs
// dry. This drives every tier of the calendar queue (heap, buckets, overflow, spread)
// and compares each pop with a reference model.
TEST(Scheduler, CalendarTiersAgreeWithAReferenceModelInASimulationLikeRun) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    RandomStream rng(seed, "scheduler-calendar");
    Scheduler s;
    std::map<std::pair<std::int64_t, std::uint64_t>, int> model;
    std::map<int, std::pair<EventId, std::pair<std::int64_t, std::uint64_t>>> live;
    std::uint64_t seq = 0;
    int next_label = 0, popped_label = -1;
    std::int64_t now = 0;
    auto delay = [&] {
      const auto k = rng.below(100);
      if (k < 80) return static_cast<std::int64_t>(rng.below(1'000));      // near
      if (k < 95) return static_cast<std::int64_t>(rng.below(1'000'000));  // a timer
      if (k < 98) return std::int64_t{0};                                  // same time
      return static_cast<std::int64_t>(rng.below(1'000'000'000'000));      // far future
    };
    auto add = [&] {
      const std::int64_t t = now + delay();
      const int label = next_label++;
      const EventId id = s.schedule(TimePoint::from_ns(t), [&popped_label, label] { popped_label = label; });
      model[{t, seq}] = label;
      live[label] = {id, {t, seq}};
      ++seq;
    };
    auto pop = [&] {
      auto fired = s.pop();
      fired.run();
      const auto expected = model.begin();
      ASSERT_EQ(fired.time.ns(), expected->first.first);
      ASSERT_EQ(popped_label, expected->second);
      ASSERT_GE(fired.time.ns(), now);
      now = fired.time.ns();
      live.erase(expected->second);
      model.erase(expected);
    };
    for (int step = 0; step < 20'000; ++step) {
      const auto op = rng.below(100);
      if (op < 45 || live.empty()) {
        add();
      } else if (op < 50) {
        auto it = std::next(live.begin(), static_cast<long>(rng.below(live.size())));
        ASSERT_TRUE(s.cancel(it->second.first));
        model.erase(it->second.second);
        live.erase(it);
      } else if (op < 60) {
        auto it = std::next(live.begin(), static_cast<long>(rng.below(live.size())));
        const std::int64_t t = now + delay();
        ASSERT_TRUE(s.reschedule(it->second.first, TimePoint::from_ns(t)));
        ASSERT_EQ(s.time_of(it->second.first).ns(), t);
        model.erase(it->second.second);
        model[{t, seq}] = it->first;
        it->second.second = {t, seq};
        ++seq;
      } else if (op < 99) {
        pop();
      } else {
        while (!model.empty()) pop();  // run dry, then start again
        ASSERT_TRUE(s.empty());
      }
      ASSERT_EQ(s.size(), model.size());
      if (!model.empty()) {
        ASSERT_EQ(s.next_time().ns(), model.begin()->first.first);
      }
    }
  }
}

}  // namespace
}  // namespace shakedown
