// Delay with jitter, as netem's tabledist() computes it.
//
// For the non-uniform distributions netem looks up a table of 4096 16-bit values, a
// sampled inverse CDF scaled by NETEM_DIST_SCALE = 8192, at a (correlated) uniform
// index, and returns delay + jitter * value / 8192. The tables here are built the
// way iproute2 builds normal.dist, pareto.dist and paretonormal.dist (its maketable
// programs: Pareto with shape 3, shifted by its mean 1.5 and scaled by 4/3, clipped at
// 32767; paretonormal = (normal + 3 * pareto) / 4), so a jitter value means what it
// means to tc.
#pragma once

#include <array>
#include <cstdint>

#include "emulator/link_params.h"
#include "emulator/random.h"

namespace shakedown {

inline constexpr std::int64_t kNetemDistScale = 8192;
inline constexpr std::size_t kNetemDistSize = 4096;
using NetemTable = std::array<std::int16_t, kNetemDistSize>;

// The table for a distribution; nullptr for uniform (no table).
const NetemTable* netem_table(JitterDistribution d);

class JitterStage {
 public:
  JitterStage(const DelayParams& params, RandomStream rng);

  // One delay draw; never negative (netem sends a packet with a negative delay at once).
  Duration draw();

 private:
  std::int64_t mu_;
  std::int64_t sigma_;
  const NetemTable* table_;
  RandomStream rng_;
  CorrelatedDraw correlated_;
};

}  // namespace shakedown
