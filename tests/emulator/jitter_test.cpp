#include "emulator/jitter.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace shakedown {
namespace {

struct Moments {
  double mean = 0, sd = 0;
};

Moments sample_moments(const std::vector<double>& x) {
  Moments m;
  for (double v : x) m.mean += v;
  m.mean /= static_cast<double>(x.size());
  for (double v : x) m.sd += (v - m.mean) * (v - m.mean);
  m.sd = std::sqrt(m.sd / static_cast<double>(x.size() - 1));
  return m;
}

// The distribution a table stands for: each entry equally likely, value entry / 8192.
Moments table_moments(const NetemTable& t) {
  std::vector<double> x(t.begin(), t.end());
  for (auto& v : x) v /= kNetemDistScale;
  Moments m = sample_moments(x);
  m.sd *= std::sqrt(static_cast<double>(x.size() - 1) / static_cast<double>(x.size()));  // population sd
  return m;
}

std::vector<double> draws_ms(const DelayParams& p, int n, std::uint64_t seed = 1) {
  JitterStage j(p, RandomStream(seed, "jitter"));
  std::vector<double> x(n);
  for (auto& v : x) v = j.draw().milliseconds_f();
  return x;
}

TEST(NetemTables, HaveTheShapeOfTheirDistributions) {
  const auto normal = table_moments(*netem_table(JitterDistribution::normal));
  EXPECT_NEAR(normal.mean, 0.0, 1e-3);
  EXPECT_NEAR(normal.sd, 1.0, 0.01);
  const auto* pareto = netem_table(JitterDistribution::pareto);
  // Pareto with shape 3 and scale 1 (mean 3/2), shifted by its mean and scaled by 4/3,
  // clipped where the scaled value reaches c = 32767/8192, i.e. at x_c = 1.5 + 3c/4.
  // For X ~ Pareto(3): E[min(X, x_c)] = 3/2 - 1/(2 x_c^2), E[min(X, x_c)^2] = 3 - 2/x_c.
  // The table samples 4096 quantiles of that; the moments agree to discretisation.
  const double xc = 1.5 + 0.75 * 32767.0 / 8192.0;
  const double m1 = 1.5 - 0.5 / (xc * xc);
  const double m2 = 3.0 - 2.0 / xc;
  const auto pm = table_moments(*pareto);
  EXPECT_NEAR(pm.mean, (m1 - 1.5) * 4.0 / 3.0, 0.005);
  EXPECT_NEAR(pm.sd, std::sqrt(m2 - m1 * m1) * 4.0 / 3.0, 0.005);
  EXPECT_EQ((*pareto)[0], -5461) << "(1 - 1.5) * 4/3 * 8192";
  EXPECT_TRUE(std::is_sorted(pareto->begin(), pareto->end()));
  EXPECT_EQ(pareto->back(), 32767);
  const auto* pn = netem_table(JitterDistribution::paretonormal);
  EXPECT_TRUE(std::is_sorted(pn->begin(), pn->end()));
  EXPECT_EQ(netem_table(JitterDistribution::uniform), nullptr);
}

TEST(JitterStage, NoJitterIsExactlyTheDelay) {
  JitterStage j(DelayParams{10_ms, Duration::zero()}, RandomStream(1));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(j.draw(), 10_ms);
}

TEST(JitterStage, UniformJitterStaysInRangeWithUniformMoments) {
  const int n = 100'000;
  const auto x = draws_ms(DelayParams{10_ms, 2_ms}, n);
  const auto m = sample_moments(x);
  EXPECT_GE(*std::min_element(x.begin(), x.end()), 8.0);
  EXPECT_LT(*std::max_element(x.begin(), x.end()), 12.0);
  // Uniform on [8, 12) ms: mean 10, sd 4/sqrt(12).
  const double sd = 4.0 / std::sqrt(12.0);
  EXPECT_NEAR(m.mean, 10.0, 5 * sd / std::sqrt(n));
  // Var(S^2) = (mu4 - sigma^4)/n with mu4 = 9/5 sigma^4 for a uniform.
  EXPECT_NEAR(m.sd * m.sd, sd * sd, 5 * sd * sd * std::sqrt(0.8 / n));
}

// For the table distributions the reference is the table itself (that is the
// distribution netem draws from): sample mean and sd against the table's, with the
// standard error of a mean of n draws.
class TableJitter : public ::testing::TestWithParam<JitterDistribution> {};

TEST_P(TableJitter, MomentsMatchTheTable) {
  const int n = 200'000;
  const double mu = 50.0, sigma = 5.0;  // ms
  const auto x = draws_ms(DelayParams{50_ms, 5_ms, {}, GetParam()}, n);
  const auto t = table_moments(*netem_table(GetParam()));
  const auto m = sample_moments(x);
  EXPECT_NEAR(m.mean, mu + sigma * t.mean, 5 * sigma * t.sd / std::sqrt(n));
  // The sd estimate: loose but derived (sd of S is below 2 sd / sqrt(n) for these
  // bounded, table-sized tails).
  EXPECT_NEAR(m.sd, sigma * t.sd, 5 * 2 * sigma * t.sd / std::sqrt(n));
  const auto* table = netem_table(GetParam());
  EXPECT_GE(*std::min_element(x.begin(), x.end()), mu + sigma * table->front() / 8192.0 - 1e-6);
  EXPECT_LE(*std::max_element(x.begin(), x.end()), mu + sigma * table->back() / 8192.0 + 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Distributions, TableJitter,
                         ::testing::Values(JitterDistribution::normal, JitterDistribution::pareto,
                                           JitterDistribution::paretonormal),
                         [](const ::testing::TestParamInfo<JitterDistribution>& param) {
                           switch (param.param) {
                             case JitterDistribution::normal:
                               return std::string("normal");
                             case JitterDistribution::pareto:
                               return std::string("pareto");
                             case JitterDistribution::paretonormal:
                               return std::string("paretonormal");
                             default:
                               return std::string("uniform");
                           }
                         });

TEST(JitterStage, NeverNegative) {
  // delay 1 ms, jitter 10 ms normal: netem sends "negative delay" packets at once.
  const auto x = draws_ms(DelayParams{1_ms, 10_ms, {}, JitterDistribution::normal}, 10'000);
  EXPECT_GE(*std::min_element(x.begin(), x.end()), 0.0);
  EXPECT_EQ(*std::min_element(x.begin(), x.end()), 0.0) << "some draws must have been clamped";
}

TEST(JitterStage, CorrelationGivesLag1Autocorrelation) {
  // Uniform jitter is linear in the correlated draw, so the delays inherit its lag-1
  // autocorrelation rho.
  const double rho = 0.75;
  const int n = 100'000;
  const auto x = draws_ms(DelayParams{10_ms, 2_ms, Probability::from_fraction(rho)}, n);
  const auto m = sample_moments(x);
  double cov = 0;
  for (int i = 1; i < n; ++i) cov += (x[i] - m.mean) * (x[i - 1] - m.mean);
  cov /= (n - 1);
  const double n_eff = n * (1 - rho) / (1 + rho);
  EXPECT_NEAR(cov / (m.sd * m.sd), rho, 5 / std::sqrt(n_eff));
}

}  // namespace
}  // namespace shakedown
