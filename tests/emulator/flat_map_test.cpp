// The flat map against std::unordered_map under random puts, erases and lookups: small
// key spaces force long probe runs, wrap-around and backward shifts.
#include "emulator/flat_map.h"

#include <unordered_map>

#include <gtest/gtest.h>

namespace shakedown {
namespace {

TEST(FlatMap, BehavesAsAMapUnderRandomOperations) {
  for (const std::uint64_t keys : {8ull, 64ull, 5000ull}) {
    FlatMap<std::uint64_t, std::uint32_t> table;
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
          ASSERT_EQ(table.erase(key), model.erase(key) == 1) << "key " << key << " at step " << step;
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

TEST(FlatMap, EmptyAndMissing) {
  FlatMap<std::uint64_t, int> t;
  EXPECT_EQ(t.find(42), nullptr);
  EXPECT_FALSE(t.erase(42));
  EXPECT_EQ(t.size(), 0u);
  t.put(42, 1);
  t.put(42, 2);
  EXPECT_EQ(*t.find(42), 2) << "put replaces";
  EXPECT_EQ(t.size(), 1u);
}

// A struct key (a four-tuple, as the recorder keys connections), its all-zero value the
// empty mark; many keys share a home so that probing and backward shifts are exercised.
struct Tuple {
  std::uint32_t src, dst;
  std::uint16_t sport, dport;
  bool operator==(const Tuple&) const = default;
};
struct CollidingHash {
  std::uint64_t operator()(const Tuple& t) const { return t.sport % 4; }
};

TEST(FlatMap, StructKeysWithCollidingHashes) {
  FlatMap<Tuple, int, CollidingHash> t;
  for (std::uint16_t p = 1; p <= 100; ++p) t.put(Tuple{1, 2, p, 80}, p);
  EXPECT_EQ(t.size(), 100u);
  for (std::uint16_t p = 1; p <= 100; p += 2) EXPECT_TRUE(t.erase(Tuple{1, 2, p, 80}));
  for (std::uint16_t p = 1; p <= 100; ++p) {
    const int* v = t.find(Tuple{1, 2, p, 80});
    if (p % 2 == 1) {
      EXPECT_EQ(v, nullptr) << p;
    } else {
      ASSERT_NE(v, nullptr) << p;
      EXPECT_EQ(*v, p);
    }
  }
  EXPECT_EQ(t.find(Tuple{1, 3, 2, 80}), nullptr) << "same home, different key";
  EXPECT_EQ(t.size(), 50u);
}

}  // namespace
}  // namespace shakedown
