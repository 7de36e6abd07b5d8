// Sequence numbers: 32-bit, compared modulo 2^32 (RFC 9293 3.4). "a < b" means b is
// ahead of a by less than 2^31, so comparisons survive wraparound; they mean nothing
// for numbers 2^31 or more apart, which TCP never compares (windows are far smaller).
#pragma once

#include <cstdint>

namespace shakedown::tcp {

class Seq {
 public:
  constexpr Seq() = default;
  constexpr explicit Seq(std::uint32_t v) : v_(v) {}
  constexpr std::uint32_t raw() const { return v_; }

  constexpr Seq operator+(std::uint32_t n) const { return Seq(v_ + n); }
  constexpr Seq operator-(std::uint32_t n) const { return Seq(v_ - n); }
  constexpr Seq& operator+=(std::uint32_t n) {
    v_ += n;
    return *this;
  }
  // Signed distance from o to this: positive when this is ahead.
  constexpr std::int32_t operator-(Seq o) const { return static_cast<std::int32_t>(v_ - o.v_); }

  constexpr bool operator==(const Seq&) const = default;
  constexpr bool operator<(Seq o) const { return (*this - o) < 0; }
  constexpr bool operator<=(Seq o) const { return (*this - o) <= 0; }
  constexpr bool operator>(Seq o) const { return (*this - o) > 0; }
  constexpr bool operator>=(Seq o) const { return (*this - o) >= 0; }

 private:
  std::uint32_t v_ = 0;
};

// lo <= s < hi, modulo 2^32.
constexpr bool in_window(Seq s, Seq lo, Seq hi) { return lo <= s && s < hi; }
constexpr Seq max(Seq a, Seq b) { return a < b ? b : a; }
constexpr Seq min(Seq a, Seq b) { return a < b ? a : b; }

}  // namespace shakedown::tcp
