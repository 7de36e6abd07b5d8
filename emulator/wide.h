// 128-bit integers for exact intermediate products (rate * time, draws * spans), and
// saturating 64-bit arithmetic for sizes computed from user numbers: a count of
// 2^64 - 1 must come out too large, not wrap to something small.
#pragma once

#include <cstdint>

namespace shakedown {
__extension__ typedef unsigned __int128 u128;

constexpr std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}
constexpr std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}
}  // namespace shakedown
