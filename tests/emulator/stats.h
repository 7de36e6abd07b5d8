// Small statistics helpers for the statistical tests. Every bound a test uses is
// derived here from the distribution under test, never tuned to the observed output.
#pragma once

#include <cmath>
#include <functional>
#include <vector>

namespace shakedown::testing {

// Binomial(n, p): mean n p, standard deviation sqrt(n p (1 - p)).
struct Binomial {
  double n, p;
  double mean() const { return n * p; }
  double sd() const { return std::sqrt(n * p * (1 - p)); }
  // [mean - z sd, mean + z sd]; z = 5 puts the chance of a false failure below 1e-6.
  bool contains(double count, double z = 5) const { return std::fabs(count - mean()) <= z * sd(); }
};

// Batch means for a stationary but correlated sequence (a Markov loss chain): the
// mean of `batches` batch averages, and the standard error those averages imply.
struct BatchMeans {
  double mean = 0;
  double standard_error = 0;
};
inline BatchMeans batch_means(const std::function<double()>& sample, int batches, int per_batch) {
  std::vector<double> m(batches);
  for (auto& b : m) {
    double s = 0;
    for (int i = 0; i < per_batch; ++i) s += sample();
    b = s / per_batch;
  }
  double mean = 0;
  for (double b : m) mean += b;
  mean /= batches;
  double var = 0;
  for (double b : m) var += (b - mean) * (b - mean);
  var /= (batches - 1);
  return {mean, std::sqrt(var / batches)};
}
// Student's t with 19 degrees of freedom: P(|T| > 6) < 1e-5, for 20 batches.
inline constexpr double kT19Bound = 6.0;

}  // namespace shakedown::testing
