// The address plan: one owner for how hosts are numbered (the loader and networks built
// in code both use it).
#include "emulator/address_plan.h"

#include <gtest/gtest.h>

#include <set>

namespace shakedown {
namespace {

TEST(AddressPlan, NumbersHostsInOrderFromTheBenchmarkingRange) {
  AddressPlan plan;
  const auto none = [](std::uint32_t) { return false; };
  EXPECT_EQ(format_ipv4(*plan.next(none)), "198.18.0.1");
  EXPECT_EQ(format_ipv4(*plan.next(none)), "198.18.0.2");
  EXPECT_EQ(plan.prefix().to_string(), "198.18.0.0/15");
}

TEST(AddressPlan, SkipsTakenAddressesAndRunsOut) {
  AddressPlan plan(AddressPrefix::parse("10.0.0.0/30"));  // hosts .1 and .2; .3 is broadcast
  const std::set<std::uint32_t> taken = {*parse_ipv4("10.0.0.1")};
  const auto is_taken = [&](std::uint32_t a) { return taken.contains(a); };
  EXPECT_EQ(format_ipv4(*plan.next(is_taken)), "10.0.0.2");
  EXPECT_FALSE(plan.next(is_taken).has_value());
}

TEST(AddressPlan, PrefixesAreCheckedWithReasons) {
  EXPECT_EQ(AddressPrefix::parse("10.1.0.0/16").size(), 65536u);
  EXPECT_TRUE(AddressPrefix::parse("10.1.0.0/16").contains(*parse_ipv4("10.1.200.3")));
  EXPECT_FALSE(AddressPrefix::parse("10.1.0.0/16").contains(*parse_ipv4("10.2.0.1")));
  EXPECT_THROW(AddressPrefix::parse("10.1.0.0"), std::invalid_argument);
  EXPECT_THROW(AddressPrefix::parse("10.1.0.0/31"), std::invalid_argument);
  try {
    AddressPrefix::parse("10.1.0.1/16");
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "'10.1.0.1/16' has bits set past its length /16");
  }
  EXPECT_FALSE(parse_ipv4("1.2.3").has_value());
  EXPECT_FALSE(parse_ipv4("1.2.3.256").has_value());
  EXPECT_FALSE(parse_ipv4("1.2.3.4 ").has_value());
  EXPECT_EQ(*parse_ipv4("198.18.0.1"), 0xc6120001u);
}

}  // namespace
}  // namespace shakedown
