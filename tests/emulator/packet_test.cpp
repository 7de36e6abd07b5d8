#include "emulator/packet.h"

#include <vector>

#include <gtest/gtest.h>

namespace shakedown {
namespace {

TEST(PacketPool, ReusesPacketsAndAllocatesNothingInSteadyState) {
  PacketPool pool;
  std::vector<PacketPtr> window;
  // Warm up: a window of 64 packets in flight.
  for (int i = 0; i < 64; ++i) window.push_back(pool.make(1500));
  window.clear();
  const auto created = pool.packets_created();
  const auto buffers = pool.buffer_allocations();
  for (int round = 0; round < 1000; ++round) {
    for (int i = 0; i < 64; ++i) window.push_back(pool.make(40 + (round * 7 + i) % 1460));
    window.clear();
  }
  EXPECT_EQ(pool.packets_created(), created);
  EXPECT_EQ(pool.buffer_allocations(), buffers);
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 64u);
}

TEST(PacketPool, IdsAreUniqueAndClonesAreExactCopies) {
  PacketPool pool;
  PacketPtr a = pool.make(4);
  a->bytes()[0] = 0xde;
  a->bytes()[3] = 0xad;
  PacketPtr b = pool.clone(*a);
  EXPECT_NE(a->id(), b->id());
  ASSERT_EQ(b->size(), 4u);
  EXPECT_EQ(b->bytes()[0], 0xde);
  EXPECT_EQ(b->bytes()[3], 0xad);
  EXPECT_EQ(pool.in_use(), 2u);
}

TEST(PacketPool, ReusedPacketsStartClean) {
  PacketPool pool;
  {
    PacketPtr a = pool.make(10);
    a->bytes()[5] = 7;
    a->corrupted = true;
  }
  PacketPtr b = pool.make(10);
  EXPECT_EQ(b->bytes()[5], 0);
  EXPECT_FALSE(b->corrupted);
}

TEST(PacketPool, GrowsABufferOnlyForAnOversizedPacket) {
  PacketPool pool(2048);
  PacketPtr big = pool.make(9000);  // a jumbo frame
  EXPECT_GE(big->capacity(), 9000u);
  EXPECT_EQ(pool.buffer_allocations(), 2u);
}

}  // namespace
}  // namespace shakedown
