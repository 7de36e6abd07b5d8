// Strong time types: integer nanoseconds, never floating point, never the wall clock.
//
// A Duration is a signed span; a TimePoint is a Duration since the start of the run
// (virtual time zero). Mixing them up is a compile error: TimePoint + TimePoint does
// not exist, TimePoint - TimePoint is a Duration.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace shakedown {

class Duration {
 public:
  constexpr Duration() = default;

  static constexpr Duration nanoseconds(std::int64_t n) { return Duration(n); }
  static constexpr Duration microseconds(std::int64_t n) { return Duration(n * 1'000); }
  static constexpr Duration milliseconds(std::int64_t n) { return Duration(n * 1'000'000); }
  static constexpr Duration seconds(std::int64_t n) { return Duration(n * 1'000'000'000); }
  static constexpr Duration zero() { return Duration(0); }
  static constexpr Duration max() { return Duration(std::numeric_limits<std::int64_t>::max()); }

  constexpr std::int64_t ns() const { return ns_; }
  // For reports only: time arithmetic stays in integers.
  constexpr double seconds_f() const { return static_cast<double>(ns_) / 1e9; }
  constexpr double milliseconds_f() const { return static_cast<double>(ns_) / 1e6; }

  constexpr auto operator<=>(const Duration&) const = default;

  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator-() const { return Duration(-ns_); }
  constexpr Duration operator*(std::int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(std::int64_t k) const { return Duration(ns_ / k); }
  constexpr std::int64_t operator/(Duration o) const { return ns_ / o.ns_; }
  constexpr Duration& operator+=(Duration o) {
    ns_ += o.ns_;
    return *this;
  }
  constexpr Duration& operator-=(Duration o) {
    ns_ -= o.ns_;
    return *this;
  }

 private:
  constexpr explicit Duration(std::int64_t ns) : ns_(ns) {}
  std::int64_t ns_ = 0;
};

constexpr Duration operator*(std::int64_t k, Duration d) { return d * k; }

class TimePoint {
 public:
  constexpr TimePoint() = default;

  static constexpr TimePoint zero() { return TimePoint(); }
  static constexpr TimePoint max() { return TimePoint(Duration::max()); }
  static constexpr TimePoint from_ns(std::int64_t ns) { return TimePoint(Duration::nanoseconds(ns)); }

  constexpr Duration since_start() const { return since_start_; }
  constexpr std::int64_t ns() const { return since_start_.ns(); }

  constexpr auto operator<=>(const TimePoint&) const = default;

  constexpr TimePoint operator+(Duration d) const { return TimePoint(since_start_ + d); }
  constexpr TimePoint operator-(Duration d) const { return TimePoint(since_start_ - d); }
  constexpr Duration operator-(TimePoint o) const { return since_start_ - o.since_start_; }
  constexpr TimePoint& operator+=(Duration d) {
    since_start_ += d;
    return *this;
  }

 private:
  constexpr explicit TimePoint(Duration d) : since_start_(d) {}
  Duration since_start_;
};

inline namespace literals {
constexpr Duration operator""_ns(unsigned long long n) { return Duration::nanoseconds(static_cast<std::int64_t>(n)); }
constexpr Duration operator""_us(unsigned long long n) { return Duration::microseconds(static_cast<std::int64_t>(n)); }
constexpr Duration operator""_ms(unsigned long long n) { return Duration::milliseconds(static_cast<std::int64_t>(n)); }
constexpr Duration operator""_s(unsigned long long n) { return Duration::seconds(static_cast<std::int64_t>(n)); }
}  // namespace literals

// "10ms", "1.5s", "250us", "1ns"; the largest unit that keeps the value exact.
std::string to_string(Duration d);
std::string to_string(TimePoint t);

}  // namespace shakedown
