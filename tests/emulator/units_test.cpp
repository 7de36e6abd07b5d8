#include "emulator/units.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace shakedown {
namespace {

using ::testing::HasSubstr;

TEST(ParseDuration, AcceptsEveryUnitExactly) {
  EXPECT_EQ(parse_duration("250us"), 250_us);
  EXPECT_EQ(parse_duration("10ms"), 10_ms);
  EXPECT_EQ(parse_duration("1.5s"), Duration::milliseconds(1500));
  EXPECT_EQ(parse_duration("7ns"), 7_ns);
  EXPECT_EQ(parse_duration("2min"), 120_s);
  EXPECT_EQ(parse_duration("1h"), 3600_s);
  EXPECT_EQ(parse_duration("0.000000001s"), 1_ns);
  EXPECT_EQ(parse_duration("10 ms"), 10_ms);
  EXPECT_EQ(parse_duration("0ms"), Duration::zero());
}

TEST(ParseDuration, ErrorsSayWhatWasWrong) {
  auto message = [](const char* text) {
    try {
      parse_duration(text);
    } catch (const UnitError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(message("10"), HasSubstr("has no unit"));
  EXPECT_THAT(message("10parsecs"), HasSubstr("unknown time unit 'parsecs'"));
  EXPECT_THAT(message("-5ms"), HasSubstr("cannot be negative"));
  EXPECT_THAT(message("1.5ns"), HasSubstr("finer than the resolution of 1 ns"));
  EXPECT_THAT(message("ms"), HasSubstr("expected a number"));
  EXPECT_THAT(message("1.2.3s"), HasSubstr("two decimal points"));
  EXPECT_THAT(message("99999999999h"), HasSubstr("too large"));
}

// Issue: 130 zeros after the point made the exact scaling divide by zero (SIGFPE) in
// every parser. Any number converts exactly or is refused with the reason.
TEST(ParseNumbers, ManyDigitsConvertExactlyOrAreRefused) {
  const std::string zeros(130, '0');
  auto message = [](auto parse, const std::string& text) {
    try {
      parse(text);
    } catch (const UnitError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto duration = [](const std::string& s) { return parse_duration(s); };
  const auto rate = [](const std::string& s) { return parse_rate(s); };
  const auto bytes = [](const std::string& s) { return parse_bytes(s); };
  const auto percent = [](const std::string& s) { return parse_percent(s); };
  EXPECT_THAT(message(duration, "0." + zeros + "1ms"), HasSubstr("too many digits after the decimal point"));
  EXPECT_THAT(message(rate, "0." + zeros + "1Mbps"), HasSubstr("too many digits"));
  EXPECT_THAT(message(bytes, "0." + zeros + "1KB"), HasSubstr("too many digits"));
  EXPECT_THAT(message(percent, "0." + zeros + "1%"), HasSubstr("too many digits"));
  EXPECT_THAT(message(duration, "1.0000000000000000000000001s"), HasSubstr("too many digits"));
  // Zeros that change nothing are fine, however many.
  EXPECT_EQ(parse_duration("1." + zeros + "s"), 1_s);
  EXPECT_EQ(parse_duration(zeros + "5ms"), 5_ms);
  EXPECT_EQ(parse_percent("0." + zeros + "%").fraction(), 0.0);
  EXPECT_EQ(parse_bytes("1.5000KB"), 1500u);
  // An exponent is not a unit.
  EXPECT_THAT(message(duration, "1e308s"), HasSubstr("without an exponent"));
  EXPECT_THAT(message(rate, "1e9bps"), HasSubstr("without an exponent"));
  EXPECT_THAT(message(duration, ".s"), HasSubstr("no digits"));
  EXPECT_EQ(parse_duration("1.s"), 1_s);
}

TEST(ParseRate, BitsAndBytes) {
  EXPECT_EQ(parse_rate("100Mbps").bits_per_second(), 100'000'000u);
  EXPECT_EQ(parse_rate("1Gbps").bits_per_second(), 1'000'000'000u);
  EXPECT_EQ(parse_rate("1.5Mbps").bits_per_second(), 1'500'000u);
  EXPECT_EQ(parse_rate("10MBps").bits_per_second(), 80'000'000u);
  EXPECT_EQ(parse_rate("64kbit").bits_per_second(), 64'000u);
  EXPECT_EQ(parse_rate("1kBps").bits_per_second(), 8'000u) << "kB is a kilobyte, as in sizes";
  EXPECT_EQ(parse_rate("500kbps").bits_per_second(), 500'000u);
  EXPECT_THROW(parse_rate("100"), UnitError);
  EXPECT_THROW(parse_rate("0.5bps"), UnitError);
  try {
    parse_rate("100mbps");
    FAIL();
  } catch (const UnitError& e) {
    EXPECT_THAT(e.what(), HasSubstr("ambiguous"));
    EXPECT_THAT(e.what(), HasSubstr("'Mbps' for bits"));
  }
}

TEST(ParseRate, TransmissionTime) {
  // The textbook figure: 1500 bytes at 100 Mbps take 120 us.
  EXPECT_EQ(parse_rate("100Mbps").transmission_time(1500), 120_us);
  EXPECT_EQ(parse_rate("1Gbps").transmission_time(1500), 12_us);
  EXPECT_EQ(DataRate().transmission_time(1500), Duration::zero());
  // Truncated to whole nanoseconds, as netem does: 1 byte at 3 bps is 2.666... s.
  EXPECT_EQ(DataRate::bps(3).transmission_time(1), Duration::nanoseconds(2'666'666'666));
}

TEST(ParsePercent, RangeAndSign) {
  EXPECT_DOUBLE_EQ(parse_percent("1%").fraction(), 0.01);
  EXPECT_DOUBLE_EQ(parse_percent("0.5%").fraction(), 0.005);
  EXPECT_DOUBLE_EQ(parse_percent("100%").fraction(), 1.0);
  EXPECT_EQ(parse_percent("100%").threshold(), 0xffffffffu);
  EXPECT_EQ(parse_percent("0%").threshold(), 0u);
  EXPECT_THROW(parse_percent("101%"), UnitError);
  EXPECT_THROW(parse_percent("0.01"), UnitError);
  EXPECT_THROW(parse_percent("-1%"), UnitError);
  EXPECT_THROW(Probability::from_fraction(1.5), UnitError);
}

TEST(ParseBytes, SiAndBinary) {
  EXPECT_EQ(parse_bytes("1500B"), 1500u);
  EXPECT_EQ(parse_bytes("64KB"), 64'000u);
  EXPECT_EQ(parse_bytes("1KiB"), 1024u);
  EXPECT_EQ(parse_bytes("1.5MiB"), 1'572'864u);
  EXPECT_THROW(parse_bytes("1500"), UnitError);
  EXPECT_THROW(parse_bytes("0.5B"), UnitError);
}

TEST(Format, RoundTripsThroughTheParser) {
  for (const char* text : {"10ms", "1.5s", "250us", "7ns", "1.000001s", "3s"}) {
    EXPECT_EQ(to_string(parse_duration(text)), text);
  }
  EXPECT_EQ(to_string(parse_rate("100Mbps")), "100Mbps");
  EXPECT_EQ(to_string(parse_rate("1.5Mbps")), "1500Kbps");
  EXPECT_EQ(to_string(DataRate()), "unlimited");
  EXPECT_EQ(to_string(Duration::zero()), "0ns");
  EXPECT_EQ(to_string(-(10_ms)), "-10ms");
}

}  // namespace
}  // namespace shakedown
