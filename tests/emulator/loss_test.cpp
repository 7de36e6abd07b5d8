#include "emulator/loss.h"

#include <array>
#include <cmath>

#include <gtest/gtest.h>

#include "stats.h"

namespace shakedown {
namespace {

using testing::batch_means;
using testing::Binomial;
using testing::kT19Bound;

Probability pct(double p) { return Probability::from_fraction(p / 100.0); }

TEST(LossStage, NoModelLosesNothing) {
  LossStage s(LossModel{}, RandomStream(1));
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(s.lose());
}

TEST(LossStage, RandomLossRateIsBinomial) {
  for (double p : {0.1, 1.0, 10.0, 50.0}) {
    LossStage s(RandomLoss{pct(p), {}}, RandomStream(2, "random"));
    const int n = 200'000;
    int lost = 0;
    for (int i = 0; i < n; ++i) lost += s.lose();
    EXPECT_TRUE((Binomial{n, p / 100}.contains(lost))) << p << "%: lost " << lost << " of " << n;
  }
}

TEST(LossStage, RandomLossExtremes) {
  LossStage none(RandomLoss{pct(0), {}}, RandomStream(3));
  LossStage all(RandomLoss{pct(100), {}}, RandomStream(3));
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_FALSE(none.lose());
    ASSERT_TRUE(all.lose());
  }
}

// The simple Gilbert model (tc defaults 1-h = 100%, 1-k = 0%): every packet in Bad is
// lost, a Bad period lasts Geometric(r) packets, so bursts average 1/r packets and the
// loss rate is p / (p + r).
TEST(LossStage, GilbertElliottBurstLengthAndRate) {
  const double p = 0.01, r = 0.10;
  LossStage s(GilbertElliottLoss{pct(1), pct(10)}, RandomStream(4, "ge"));
  const int n = 400'000;
  int lost = 0, bursts = 0, run = 0;
  double burst_sum = 0;
  for (int i = 0; i < n; ++i) {
    if (s.lose()) {
      ++lost;
      ++run;
    } else if (run > 0) {
      ++bursts;
      burst_sum += run;
      run = 0;
    }
  }
  const double mean_burst = burst_sum / bursts;
  // Burst length: mean 1/r, variance (1-r)/r^2; standard error over `bursts` bursts.
  const double burst_se = std::sqrt((1 - r) / (r * r) / bursts);
  EXPECT_NEAR(mean_burst, 1 / r, 5 * burst_se);
  // Loss count = sum of burst lengths over a Poisson-like number of bursts:
  // Var ~ bursts * E[L^2] = bursts * (var + mean^2).
  const double expected_rate = p / (p + r);
  const double rate_sd = std::sqrt(bursts * ((1 - r) / (r * r) + 1 / (r * r))) / n;
  EXPECT_NEAR(static_cast<double>(lost) / n, expected_rate, 5 * rate_sd);
}

// The full Gilbert-Elliott model: losses in both states.
TEST(LossStage, GilbertElliottLossInBothStates) {
  const double p = 0.05, r = 0.20, one_minus_h = 0.80, one_minus_k = 0.02;
  LossStage s(GilbertElliottLoss{pct(5), pct(20), pct(80), pct(2)}, RandomStream(5, "ge2"));
  const double pi_bad = p / (p + r);
  const double expected = (1 - pi_bad) * one_minus_k + pi_bad * one_minus_h;
  const auto bm = batch_means([&] { return s.lose() ? 1.0 : 0.0; }, 20, 20'000);
  EXPECT_NEAR(bm.mean, expected, kT19Bound * bm.standard_error) << "se " << bm.standard_error;
}

// 4-state model: the loss rate is the stationary probability of the two loss states,
// and the share of isolated losses is pi4 / (pi3 + pi4).
TEST(LossStage, FourStateMarkovMatchesItsStationaryDistribution) {
  const double p13 = 0.01, p31 = 0.40, p32 = 0.30, p23 = 0.10, p14 = 0.02;
  // Transition matrix rows: from state 1..4 to state 1..4.
  const double P[4][4] = {
      {1 - p13 - p14, 0, p13, p14},
      {0, 1 - p23, p23, 0},
      {p31, p32, 1 - p31 - p32, 0},
      {1, 0, 0, 0},
  };
  std::array<double, 4> pi{1, 0, 0, 0};
  for (int it = 0; it < 100'000; ++it) {
    std::array<double, 4> next{};
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) next[j] += pi[i] * P[i][j];
    pi = next;
  }
  LossStage s(FourStateLoss{pct(1), pct(40), pct(30), pct(10), pct(2)}, RandomStream(6, "4state"));
  int isolated = 0, total = 0;
  const auto bm = batch_means(
      [&] {
        const bool lost = s.lose();
        if (lost) {
          ++total;
          isolated += s.state() == 4;
        }
        return lost ? 1.0 : 0.0;
      },
      20, 50'000);
  EXPECT_NEAR(bm.mean, pi[2] + pi[3], kT19Bound * bm.standard_error);
  // Isolated losses are one-packet events, nearly independent: binomial among losses.
  EXPECT_TRUE((Binomial{static_cast<double>(total), pi[3] / (pi[2] + pi[3])}.contains(isolated)))
      << isolated << " isolated of " << total;
}

TEST(LossStage, SameSeedSameLosses) {
  LossStage a(GilbertElliottLoss{pct(3), pct(30)}, RandomStream(8, "x"));
  LossStage b(GilbertElliottLoss{pct(3), pct(30)}, RandomStream(8, "x"));
  for (int i = 0; i < 10'000; ++i) ASSERT_EQ(a.lose(), b.lose());
}

}  // namespace
}  // namespace shakedown
