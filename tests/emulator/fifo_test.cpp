// The FIFO against std::deque under random pushes and pops, through the reuse of its
// buffer when it empties and the compaction of a queue that never does.
#include "emulator/fifo.h"

#include <deque>
#include <memory>

#include <gtest/gtest.h>

#include "emulator/random.h"

namespace shakedown {
namespace {

TEST(Fifo, BehavesAsADequeUnderRandomOperations) {
  // Bias toward pushing keeps the queue from emptying for long stretches (compaction);
  // the other bias drains it often (reuse from the start).
  for (const std::uint64_t push_percent : {50ull, 70ull, 30ull}) {
    Fifo<std::uint64_t> fifo;
    std::deque<std::uint64_t> model;
    std::uint64_t state = push_percent;
    for (std::uint64_t step = 0; step < 100'000; ++step) {
      const std::uint64_t r = splitmix64(state);
      if (r % 100 < push_percent || model.empty()) {
        fifo.push_back(step);
        model.push_back(step);
      } else {
        ASSERT_EQ(fifo.front(), model.front()) << "step " << step;
        ASSERT_EQ(fifo.pop_front(), model.front()) << "step " << step;
        model.pop_front();
      }
      ASSERT_EQ(fifo.size(), model.size());
      ASSERT_EQ(fifo.empty(), model.empty());
    }
    std::deque<std::uint64_t> rest(fifo.begin(), fifo.end());
    EXPECT_EQ(rest, model);
  }
}

TEST(Fifo, EraseIfKeepsTheOrderOfTheRest) {
  Fifo<int> fifo;
  for (int i = 0; i < 10; ++i) fifo.push_back(i);
  EXPECT_EQ(fifo.pop_front(), 0);
  fifo.erase_if([](int v) { return v % 3 == 0; });
  std::vector<int> rest(fifo.begin(), fifo.end());
  EXPECT_EQ(rest, (std::vector<int>{1, 2, 4, 5, 7, 8}));
  fifo.erase_if([](int) { return true; });
  EXPECT_TRUE(fifo.empty());
  fifo.push_back(42);
  EXPECT_EQ(fifo.front(), 42);
}

TEST(Fifo, HoldsMoveOnlyItems) {
  Fifo<std::unique_ptr<int>> fifo;
  fifo.push_back(std::make_unique<int>(1));
  fifo.push_back(std::make_unique<int>(2));
  EXPECT_EQ(*fifo.pop_front(), 1);
  EXPECT_EQ(*fifo.pop_front(), 2);
  EXPECT_TRUE(fifo.empty());
}

}  // namespace
}  // namespace shakedown
