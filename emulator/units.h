// Units people write in topology files, as strong types, and their parsers.
//
// Every parser is exact: "1.5s" is 1'500'000'000 ns, not a double rounded back. A value
// that cannot be represented (finer than the unit's resolution, negative where that
// makes no sense, out of range) is an error, never a silent rounding or a default.
#pragma once

#include <compare>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "emulator/time.h"

namespace shakedown {

// Thrown by the parsers below. The message says what was wrong and what was expected;
// the topology loader adds file, line and column.
class UnitError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Bits per second. Zero means "unlimited" where a link rate is concerned.
class DataRate {
 public:
  constexpr DataRate() = default;
  static constexpr DataRate bps(std::uint64_t n) { return DataRate(n); }
  static constexpr DataRate kbps(std::uint64_t n) { return DataRate(n * 1'000); }
  static constexpr DataRate mbps(std::uint64_t n) { return DataRate(n * 1'000'000); }
  static constexpr DataRate gbps(std::uint64_t n) { return DataRate(n * 1'000'000'000); }

  constexpr std::uint64_t bits_per_second() const { return bps_; }
  constexpr bool unlimited() const { return bps_ == 0; }
  constexpr auto operator<=>(const DataRate&) const = default;

  // Time to put `bytes` on the wire, truncated to whole nanoseconds as netem does
  // (len * NSEC_PER_SEC / rate, with the rate in bytes per second).
  Duration transmission_time(std::uint64_t bytes) const;

 private:
  constexpr explicit DataRate(std::uint64_t bps) : bps_(bps) {}
  std::uint64_t bps_ = 0;
};

// A probability in [0, 1], as people write it: "1%", "0.25%", "100%".
class Probability {
 public:
  constexpr Probability() = default;
  static Probability from_fraction(double p);  // throws UnitError outside [0, 1]
  static constexpr Probability never() { return Probability(); }

  constexpr double fraction() const { return p_; }
  constexpr bool is_zero() const { return p_ == 0.0; }
  // netem's fixed-point form: rint(p * UINT32_MAX). Comparing a uniform 32-bit draw
  // against it is how every netem decision is made, so all our draws are integers too.
  std::uint32_t threshold() const;
  constexpr auto operator<=>(const Probability&) const = default;

 private:
  constexpr explicit Probability(double p) : p_(p) {}
  double p_ = 0.0;
};

Duration parse_duration(std::string_view text);
DataRate parse_rate(std::string_view text);
Probability parse_percent(std::string_view text);
// Byte counts: "1500B", "64KB" (1000), "1KiB" (1024), "10MB", "1GiB".
std::uint64_t parse_bytes(std::string_view text);

std::string to_string(DataRate r);
std::string to_string(Probability p);

}  // namespace shakedown
