#include "emulator/random.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace shakedown {
namespace {

// Fixed seed, fixed numbers: if these change, every run's output changes with them,
// and the version must say so.
TEST(RandomStream, FixedSeedGivesFixedNumbers) {
  RandomStream a(42, "link/0/0/loss");
  RandomStream b(42, "link/0/0/loss");
  std::vector<std::uint64_t> first;
  for (int i = 0; i < 5; ++i) {
    const auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    first.push_back(x);
  }
  // Golden values, computed independently from the published xoshiro256** and
  // splitmix64 algorithms (and FNV-1a for the component name).
  EXPECT_EQ(first[0], 0xafea577d23f58641ull);
  EXPECT_EQ(first[1], 0x17b95d544df018daull);
  EXPECT_EQ(first[2], 0xadd08e8f2c69c37aull);
  RandomStream raw(0);
  EXPECT_EQ(raw.next_u64(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(raw.next_u64(), 0xbf6e1f784956452aull);
}

TEST(RandomStream, ComponentsAndSeedsAreIndependent) {
  RandomStream a(42, "link/0/0/loss");
  RandomStream b(42, "link/0/1/loss");
  RandomStream c(43, "link/0/0/loss");
  int same_ab = 0, same_ac = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.next_u64();
    same_ab += x == b.next_u64();
    same_ac += x == c.next_u64();
  }
  EXPECT_EQ(same_ab, 0);
  EXPECT_EQ(same_ac, 0);
}

TEST(RandomStream, Uniform01MomentsAndRange) {
  RandomStream r(7, "uniform");
  const int n = 200'000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform01();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum2 += u * u;
  }
  const double mean = sum / n;
  const double var = sum2 / n - mean * mean;
  // Mean of U(0,1): 1/2 with standard error sqrt(1/12 / n); five of them.
  EXPECT_NEAR(mean, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  // Variance 1/12; Var(S^2) = (mu4 - sigma^4) / n = (1/80 - 1/144) / n.
  EXPECT_NEAR(var, 1.0 / 12, 5 * std::sqrt((1.0 / 80 - 1.0 / 144) / n));
}

TEST(RandomStream, BelowIsUniform) {
  RandomStream r(9, "below");
  const int k = 7, n = 70'000;
  int counts[k] = {};
  for (int i = 0; i < n; ++i) {
    const auto v = r.below(k);
    ASSERT_LT(v, static_cast<std::uint64_t>(k));
    ++counts[v];
  }
  double chi2 = 0;
  const double expected = static_cast<double>(n) / k;
  for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  // 6 degrees of freedom: P(chi2 > 22.46) = 0.001.
  EXPECT_LT(chi2, 22.46);
}

TEST(NormalQuantile, MatchesKnownValues) {
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-15);
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(normal_quantile(0.025), -1.959963984540054, 1e-12);
  EXPECT_NEAR(normal_quantile(0.841344746068543), 1.0, 1e-12);
  EXPECT_NEAR(normal_quantile(1e-10), -6.361340902404056, 1e-9);
}

TEST(RandomStream, NormalMoments) {
  RandomStream r(11, "normal");
  const int n = 200'000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = r.normal();
    sum += x;
    sum2 += x * x;
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(var, 1.0, 5 * std::sqrt(2.0 / n));  // Var(S^2) = 2 sigma^4 / n
}

TEST(CorrelatedDraw, NetemCorrelationGivesItsAutocorrelation) {
  // u_n = (1 - rho) v_n + rho u_{n-1}: lag-1 autocorrelation rho, variance shrunk by
  // (1 - rho) / (1 + rho), mean unchanged.
  const double rho = 0.5;
  RandomStream rng(3, "corr");
  CorrelatedDraw d(static_cast<std::uint32_t>(rho * 4294967295.0), rng);
  const int n = 200'000;
  std::vector<double> x(n);
  for (auto& v : x) v = d.next(rng) / 4294967296.0;
  double mean = 0;
  for (double v : x) mean += v;
  mean /= n;
  double var = 0, cov = 0;
  for (int i = 0; i < n; ++i) {
    var += (x[i] - mean) * (x[i] - mean);
    if (i > 0) cov += (x[i] - mean) * (x[i - 1] - mean);
  }
  var /= n;
  cov /= (n - 1);
  const double expected_var = (1.0 / 12) * (1 - rho) / (1 + rho);
  // The sums are over a correlated sequence; the effective sample is n (1-rho)/(1+rho).
  const double n_eff = n * (1 - rho) / (1 + rho);
  EXPECT_NEAR(mean, 0.5, 5 * std::sqrt(expected_var / n_eff));
  EXPECT_NEAR(var, expected_var, 0.02 * expected_var + 5 * expected_var * std::sqrt(2.0 / n_eff));
  EXPECT_NEAR(cov / var, rho, 5 / std::sqrt(n_eff));
}

}  // namespace
}  // namespace shakedown
