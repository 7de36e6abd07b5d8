// The endpoint's four-tuple table against std::unordered_map under random puts, erases
// and lookups: small key spaces force long probe runs, wrap-around and backward shifts.
#include "nodes/tcp/conn_table.h"

#include <unordered_map>

#include <gtest/gtest.h>

namespace shakedown::tcp {
namespace {

TEST(ConnTable, BehavesAsAMapUnderRandomOperations) {
  for (const std::uint64_t keys : {8ull, 64ull, 5000ull}) {
    ConnTable<std::uint32_t> table;
    std::unordered_map<std::uint64_t, std::uint32_t> model;
    std::uint64_t state = keys;
    for (int step = 0; step < 200'000; ++step) {
      const std::uint64_t r = splitmix64(state);
      const std::uint64_t key = 1 + r % keys;  // never 0, the empty mark
      switch ((r >> 32) % 3) {
        case 0:
          table.put(key, static_cast<std::uint32_t>(step));
          model[key] = static_cast<std::uint32_t>(step);
          break;
        case 1:
          table.erase(key);
          model.erase(key);
          break;
        default: {
          const auto* found = table.find(key);
          const auto it = model.find(key);
          ASSERT_EQ(found != nullptr, it != model.end()) << "key " << key << " at step " << step;
          if (found != nullptr) {
            ASSERT_EQ(*found, it->second);
          }
        }
      }
      ASSERT_EQ(table.size(), model.size());
    }
    for (const auto& [k, v] : model) {
      ASSERT_TRUE(table.contains(k));
      EXPECT_EQ(*table.find(k), v);
    }
  }
}

TEST(ConnTable, EmptyAndMissing) {
  ConnTable<int> t;
  EXPECT_EQ(t.find(42), nullptr);
  t.erase(42);
  EXPECT_EQ(t.size(), 0u);
  t.put(42, 1);
  t.put(42, 2);
  EXPECT_EQ(*t.find(42), 2) << "put replaces";
  EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace shakedown::tcp
