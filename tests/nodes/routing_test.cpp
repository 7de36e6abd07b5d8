#include "nodes/routing.h"

#include <gtest/gtest.h>

#include "emulator/random.h"

namespace shakedown {
namespace {

using wire::Ipv4Address;

TEST(Prefix, ParseAndContain) {
  const auto p = Prefix::parse("198.18.0.0/15");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 15);
  EXPECT_TRUE(p->contains(Ipv4Address::of(198, 19, 255, 255)));
  EXPECT_FALSE(p->contains(Ipv4Address::of(198, 20, 0, 0)));
  EXPECT_EQ(to_string(*p), "198.18.0.0/15");
  EXPECT_TRUE(Prefix::parse("0.0.0.0/0")->contains(Ipv4Address::of(1, 2, 3, 4)));
  for (const char* bad : {"198.18.0.1/15", "198.18.0.0", "198.18.0.0/33", "198.18.0.0/", "x/8", "10.0.0.0/8x"})
    EXPECT_FALSE(Prefix::parse(bad)) << bad;
}

TEST(RoutingTable, LongestPrefixWins) {
  RoutingTable t;
  t.add(*Prefix::parse("0.0.0.0/0"), 0);
  t.add(*Prefix::parse("198.18.0.0/15"), 1);
  t.add(*Prefix::parse("198.18.4.0/24"), 2);
  t.add(*Prefix::parse("198.18.4.7/32"), 3);
  EXPECT_EQ(t.lookup(Ipv4Address::of(198, 18, 4, 7))->interface, 3u);
  EXPECT_EQ(t.lookup(Ipv4Address::of(198, 18, 4, 8))->interface, 2u);
  EXPECT_EQ(t.lookup(Ipv4Address::of(198, 19, 0, 1))->interface, 1u);
  EXPECT_EQ(t.lookup(Ipv4Address::of(8, 8, 8, 8))->interface, 0u);
  EXPECT_EQ(t.size(), 4u);
  t.add(*Prefix::parse("198.18.4.0/24"), 9);  // replaces
  EXPECT_EQ(t.lookup(Ipv4Address::of(198, 18, 4, 8))->interface, 9u);
  EXPECT_EQ(t.size(), 4u);
}

TEST(RoutingTable, MultipathPicksByFlow) {
  RoutingTable t;
  t.add_multipath(*Prefix::parse("198.18.1.0/24"), {4, 5, 6});
  const auto dst = Ipv4Address::of(198, 18, 1, 9);
  EXPECT_EQ(t.lookup(dst, 0)->interface, 4u);
  EXPECT_EQ(t.lookup(dst, 1)->interface, 5u);
  EXPECT_EQ(t.lookup(dst, 5)->interface, 6u);
}

TEST(RoutingTable, NoRouteWithoutADefault) {
  RoutingTable t;
  t.add(*Prefix::parse("198.18.0.0/24"), 1);
  EXPECT_FALSE(t.lookup(Ipv4Address::of(198, 18, 1, 1)));
}

// Against a linear scan over random tables and addresses.
TEST(RoutingTable, AgreesWithALinearScan) {
  RandomStream rng(3, "lpm");
  for (int round = 0; round < 50; ++round) {
    RoutingTable t;
    std::vector<Route> routes;
    for (int i = 0; i < 40; ++i) {
      const auto length = static_cast<std::uint8_t>(rng.below(33));
      const std::uint32_t network = rng.next_u32() & Prefix::mask_of(length);
      const auto iface = static_cast<std::uint32_t>(i);
      t.add(Prefix{{network}, length}, iface);
      std::erase_if(routes,
                    [&](const Route& r) { return r.prefix.length == length && r.prefix.network.value == network; });
      routes.push_back({Prefix{{network}, length}, iface});
    }
    for (int q = 0; q < 200; ++q) {
      // Half the queries inside some route's prefix, half anywhere.
      Ipv4Address a{rng.next_u32()};
      if (q % 2 == 0) {
        const auto& r = routes[rng.below(routes.size())];
        a.value = r.prefix.network.value | (rng.next_u32() & ~r.prefix.mask());
      }
      std::optional<Route> best;
      for (const auto& r : routes)
        if (r.prefix.contains(a) && (!best || r.prefix.length > best->prefix.length)) best = r;
      const auto got = t.lookup(a);
      ASSERT_EQ(got.has_value(), best.has_value());
      if (got) {
        ASSERT_EQ(got->interface, best->interface);
      }
    }
  }
}

}  // namespace
}  // namespace shakedown
