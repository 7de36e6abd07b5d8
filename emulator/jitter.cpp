#include "emulator/jitter.h"

#include "emulator/wide.h"

#include <algorithm>
#include <cmath>

namespace shakedown {
namespace {

constexpr std::size_t kMakeTableSize = 16384;  // iproute2's TABLESIZE

// rint(value * 8192), saturated to 16 bits as the dist files are.
std::int16_t scaled(double value) {
  const double v = std::rint(value * static_cast<double>(kNetemDistScale));
  return static_cast<std::int16_t>(std::clamp(v, -32768.0, 32767.0));
}

// iproute2 pareto.c: entry j holds x = u^(-1/3) for u = 1 - j/4096, shifted by the
// mean 1.5 and scaled by 4/3, clipped at 32767.
double pareto_value(std::size_t j) {
  const double u = static_cast<double>(65536 - 16 * j) / 65536.0;
  return (1.0 / std::pow(u, 1.0 / 3.0) - 1.5) * (4.0 / 3.0);
}

// iproute2 normal.c samples the inverse normal CDF at i / TABLESIZE; its search over a
// grid of x lands on the upper edge of each bin, (i + 0.5) / TABLESIZE.
double normal_value(std::size_t i) {
  return normal_quantile((static_cast<double>(i) + 0.5) / static_cast<double>(kMakeTableSize));
}

NetemTable make_normal() {
  NetemTable t{};
  for (std::size_t j = 0; j < kNetemDistSize; ++j) t[j] = scaled(normal_value(j * kMakeTableSize / kNetemDistSize));
  return t;
}

NetemTable make_pareto() {
  NetemTable t{};
  for (std::size_t j = 0; j < kNetemDistSize; ++j) t[j] = scaled(pareto_value(j));
  return t;
}

NetemTable make_paretonormal() {
  NetemTable t{};
  for (std::size_t j = 0; j < kNetemDistSize; ++j) {
    const int normal = scaled(normal_value(4 * j));
    const int pareto = scaled(pareto_value(j));
    t[j] = static_cast<std::int16_t>(std::clamp((normal + 3 * pareto) / 4, -32768, 32767));
  }
  return t;
}

}  // namespace

const NetemTable* netem_table(JitterDistribution d) {
  // Built once, read-only afterwards: constants, not shared state.
  static const NetemTable normal = make_normal();
  static const NetemTable pareto = make_pareto();
  static const NetemTable paretonormal = make_paretonormal();
  switch (d) {
    case JitterDistribution::uniform:
      return nullptr;
    case JitterDistribution::normal:
      return &normal;
    case JitterDistribution::pareto:
      return &pareto;
    case JitterDistribution::paretonormal:
      return &paretonormal;
  }
  return nullptr;
}

JitterStage::JitterStage(const DelayParams& params, RandomStream rng)
    : mu_(params.delay.ns()),
      sigma_(params.jitter.ns()),
      table_(netem_table(params.distribution)),
      rng_(rng),
      correlated_(params.correlation.threshold(), rng_) {}

Duration JitterStage::draw() {
  if (sigma_ == 0) return Duration::nanoseconds(mu_);
  const std::uint32_t rnd = correlated_.next(rng_);
  std::int64_t value;
  if (table_ == nullptr) {
    // Uniform in [mu - sigma, mu + sigma). netem takes rnd % (2 sigma); scaling the
    // 32-bit draw instead keeps the distribution uniform for jitter above 2.1 s too.
    const auto span = static_cast<u128>(2 * sigma_);
    value = mu_ - sigma_ + static_cast<std::int64_t>((span * rnd) >> 32);
  } else {
    const std::int64_t t = (*table_)[rnd % kNetemDistSize];
    std::int64_t x = sigma_ * t;
    x += x >= 0 ? kNetemDistScale / 2 : -kNetemDistScale / 2;
    value = mu_ + x / kNetemDistScale;
  }
  return Duration::nanoseconds(std::max<std::int64_t>(value, 0));
}

}  // namespace shakedown
