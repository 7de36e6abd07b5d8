// Seeded random streams. Every random draw in a run comes from a RandomStream that is
// seeded from (run seed, component identity), so adding a link or a host never shifts
// the numbers another component sees, and a run is a pure function of its seed.
//
// The generator is xoshiro256** (Blackman & Vigna), seeded through splitmix64. All
// distributions are derived here from the raw 64-bit output: the standard library's
// distributions differ between implementations and would break byte-identical output.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace shakedown {

// splitmix64 step: also a good 64-bit mixer for deriving seeds.
// Inline: the payload of every packet is generated and checked with it, a word at a time.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
// FNV-1a, 64 bit: a stable hash of a component's name.
std::uint64_t stable_hash(std::string_view text);

class RandomStream {
 public:
  // The stream for one component of one run, e.g. ("link/3/a->b/loss").
  RandomStream(std::uint64_t run_seed, std::string_view component);
  explicit RandomStream(std::uint64_t seed);

  std::uint64_t next_u64();
  // Uniform over all 32-bit values: the draw netem compares its probabilities against.
  std::uint32_t next_u32() { return static_cast<std::uint32_t>(next_u64() >> 32); }
  // Uniform in [0, 1), 53 bits of precision.
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n), unbiased (Lemire's multiply-and-reject). n > 0.
  std::uint64_t below(std::uint64_t n);
  // Standard normal, by inversion of a uniform draw (one draw per value).
  double normal();
  // Exponential with the given mean.
  double exponential(double mean);

 private:
  std::array<std::uint64_t, 4> s_{};
};

// Inverse of the standard normal CDF (Wichura's AS241, relative error below 1e-15).
// p must lie in (0, 1).
double normal_quantile(double p);

// netem's correlated 32-bit draw (get_crandom): each value is a weighted mean of a fresh
// uniform draw and the previous value, with weight rho on the previous one. rho = 0 is
// a plain uniform draw. This is what netem calls "correlation" for every parameter.
class CorrelatedDraw {
 public:
  CorrelatedDraw() = default;
  CorrelatedDraw(std::uint32_t rho, RandomStream& rng) : rho_(rho), last_(rng.next_u32()) {}

  std::uint32_t next(RandomStream& rng) {
    const std::uint64_t value = rng.next_u32();
    if (rho_ == 0) return static_cast<std::uint32_t>(value);
    const std::uint64_t rho = static_cast<std::uint64_t>(rho_) + 1;
    const auto answer = static_cast<std::uint32_t>((value * ((1ull << 32) - rho) + last_ * rho) >> 32);
    last_ = answer;
    return answer;
  }

 private:
  std::uint32_t rho_ = 0;
  std::uint64_t last_ = 0;
};

}  // namespace shakedown
