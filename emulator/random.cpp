#include "emulator/random.h"

#include "emulator/wide.h"

#include <array>
#include <cmath>

namespace shakedown {
namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

RandomStream::RandomStream(std::uint64_t seed) {
  std::uint64_t sm = seed;
  for (auto& word : s_) word = splitmix64(sm);
}

RandomStream::RandomStream(std::uint64_t run_seed, std::string_view component) {
  std::uint64_t mix = stable_hash(component);
  const std::uint64_t component_key = splitmix64(mix);
  std::uint64_t sm = run_seed ^ component_key;
  for (auto& word : s_) word = splitmix64(sm);
}

std::uint64_t RandomStream::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t RandomStream::below(std::uint64_t n) {
  u128 m = static_cast<u128>(next_u64()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<u128>(next_u64()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

double RandomStream::normal() {
  // (k + 0.5) / 2^53 keeps p strictly inside (0, 1).
  const double p = (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1.0p-53;
  return normal_quantile(p);
}

double RandomStream::exponential(double mean) {
  const double u = (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1.0p-53;
  return -mean * std::log(u);
}

// Algorithm AS241, PPND16: Wichura, M. J. (1988), Applied Statistics 37, 477-484.
// Coefficients from the constant term up; each ratio is evaluated by Horner's rule.
namespace {

using Poly = std::array<double, 8>;

double horner(const Poly& c, double x) {
  double y = c[7];
  for (int i = 6; i >= 0; --i) y = y * x + c[static_cast<std::size_t>(i)];
  return y;
}

constexpr Poly kA = {3.387132872796366608,  133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
                     45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727};
constexpr Poly kB = {1.0,
                     42.313330701600911252,
                     687.1870074920579083,
                     5394.1960214247511077,
                     21213.794301586595867,
                     39307.89580009271061,
                     28729.085735721942674,
                     5226.495278852545925};
constexpr Poly kC = {1.42343711074968357734,   4.6303378461565452959,   5.7694972214606914055,
                     3.64784832476320460504,   1.27045825245236838258,  0.24178072517745061177,
                     0.0227238449892691845833, 7.7454501427834140764e-4};
constexpr Poly kD = {1.0,
                     2.05319162663775882187,
                     1.6763848301838038494,
                     0.68976733498510000455,
                     0.14810397642748007459,
                     0.0151986665636164571966,
                     5.475938084995344946e-4,
                     1.05075007164441684324e-9};
constexpr Poly kE = {6.6579046435011037772,     5.4637849111641143699,    1.7848265399172913358,
                     0.29656057182850489123,    0.026532189526576123093,  0.0012426609473880784386,
                     2.71155556874348757815e-5, 2.01033439929228813265e-7};
constexpr Poly kF = {1.0,
                     0.59983220655588793769,
                     0.13692988092273580531,
                     0.0148753612908506148525,
                     7.868691311456132591e-4,
                     1.8463183175100546818e-5,
                     1.4215117583164458887e-7,
                     2.04426310338993978564e-15};

}  // namespace

double normal_quantile(double p) {
  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q * horner(kA, r) / horner(kB, r);
  }
  const double r = std::sqrt(-std::log(q < 0 ? p : 1.0 - p));
  const double value = r <= 5.0 ? horner(kC, r - 1.6) / horner(kD, r - 1.6) : horner(kE, r - 5.0) / horner(kF, r - 5.0);
  return q < 0 ? -value : value;
}

}  // namespace shakedown
