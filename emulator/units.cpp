#include "emulator/units.h"

#include "emulator/wide.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>

#include <fmt/format.h>

namespace shakedown {
namespace {

// A non-negative decimal number as written, kept exact: value = mantissa / 10^scale.
struct Decimal {
  u128 mantissa = 0;
  int scale = 0;
};

struct Split {
  std::string_view number;
  std::string_view unit;
};

std::string quoted(std::string_view s) { return fmt::format("'{}'", s); }

Split split_number(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.' || text[i] == '-' || text[i] == '+'))
    ++i;
  std::size_t j = i;
  while (j < text.size() && text[j] == ' ') ++j;  // "10 ms" is as clear as "10ms"
  return {text.substr(0, i), text.substr(j)};
}

// At most this many digits after the point (once trailing zeros are dropped): 10^-30 of
// any unit is far below every resolution, and 10^30 still fits the exact arithmetic.
constexpr int kMaxScale = 30;

Decimal parse_decimal(std::string_view number, std::string_view whole, std::string_view what) {
  if (number.empty())
    throw UnitError(fmt::format("{} is not a {}: expected a number followed by a unit", quoted(whole), what));
  if (number.front() == '-')
    throw UnitError(fmt::format("{} is negative: a {} cannot be negative", quoted(whole), what));
  if (number.front() == '+') number.remove_prefix(1);
  // Zeros at the end of a fraction change nothing: "1.500" is "1.5", exactly.
  if (number.find('.') != std::string_view::npos)
    while (!number.empty() && number.back() == '0') number.remove_suffix(1);
  Decimal d;
  bool seen_dot = false;
  bool seen_digit = false;
  for (char c : number) {
    if (c == '.') {
      if (seen_dot) throw UnitError(fmt::format("{} has two decimal points", quoted(whole)));
      seen_dot = true;
      continue;
    }
    if (c < '0' || c > '9') throw UnitError(fmt::format("{} is not a number", quoted(whole)));
    seen_digit = true;
    if (d.mantissa > (std::numeric_limits<std::uint64_t>::max() / 10))
      throw UnitError(seen_dot ? fmt::format("{} has too many digits to be exact (at most 19 significant ones)",
                                             quoted(whole))
                               : fmt::format("{} is too large", quoted(whole)));
    d.mantissa = d.mantissa * 10 + static_cast<unsigned>(c - '0');
    if (seen_dot && ++d.scale > kMaxScale)
      throw UnitError(fmt::format("{} has too many digits after the decimal point (at most {})", quoted(whole),
                                  kMaxScale));
  }
  // "1." lost its zeros above; a lone "." has no digits at all.
  if (!seen_digit && !(seen_dot && number.size() > 1)) throw UnitError(fmt::format("{} has no digits", quoted(whole)));
  return d;
}

// "1e3s": the exponent reads as part of the unit; say so rather than "unknown unit 'e3s'".
void refuse_exponent(std::string_view whole, std::string_view number, std::string_view unit) {
  if (!number.empty() && unit.size() >= 2 && (unit[0] == 'e' || unit[0] == 'E') &&
      (std::isdigit(static_cast<unsigned char>(unit[1])) || unit[1] == '-' || unit[1] == '+'))
    throw UnitError(fmt::format("{}: write the number without an exponent (as in '1500ms', not '1.5e3ms')",
                                quoted(whole)));
}

u128 pow10(int n) {
  u128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

// value * factor, which must come out a whole number of the base unit.
std::uint64_t scale_exact(Decimal d, std::uint64_t factor, std::string_view whole, std::string_view base_unit,
                          std::uint64_t limit) {
  const u128 num = d.mantissa * factor;
  const u128 den = pow10(d.scale);
  if (num % den != 0) throw UnitError(fmt::format("{} is finer than the resolution of 1 {}", quoted(whole), base_unit));
  const u128 v = num / den;
  if (v > limit) throw UnitError(fmt::format("{} is too large", quoted(whole)));
  return static_cast<std::uint64_t>(v);
}

template <std::size_t N>
std::optional<std::uint64_t> lookup(const std::array<std::pair<std::string_view, std::uint64_t>, N>& table,
                                    std::string_view unit) {
  for (const auto& [name, factor] : table)
    if (name == unit) return factor;
  return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, std::uint64_t>, 8> kDurationUnits{{
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // µs
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"sec", 1'000'000'000},
    {"min", 60'000'000'000},
    {"h", 3'600'000'000'000},
}};

// Lower-case b is bits, upper-case B is bytes, as in ns-3 and most papers. tc also
// knows "kbit"/"mbit"/"gbit"; those mean the same as kbps/Mbps/Gbps here.
constexpr std::array<std::pair<std::string_view, std::uint64_t>, 19> kRateUnits{{
    {"bps", 1},
    {"kbps", 1'000},
    {"Kbps", 1'000},
    {"Mbps", 1'000'000},
    {"Gbps", 1'000'000'000},
    {"Tbps", 1'000'000'000'000},
    {"Bps", 8},
    {"KBps", 8'000},
    {"kBps", 8'000},  // as kB is a kilobyte
    {"MBps", 8'000'000},
    {"GBps", 8'000'000'000},
    {"bit", 1},
    {"kbit", 1'000},
    {"Kbit", 1'000},
    {"mbit", 1'000'000},
    {"Mbit", 1'000'000},
    {"gbit", 1'000'000'000},
    {"Gbit", 1'000'000'000},
    {"tbit", 1'000'000'000'000},
}};

constexpr std::array<std::pair<std::string_view, std::uint64_t>, 8> kByteUnits{{
    {"B", 1},
    {"KB", 1'000},
    {"MB", 1'000'000},
    {"GB", 1'000'000'000},
    {"KiB", 1ull << 10},
    {"MiB", 1ull << 20},
    {"GiB", 1ull << 30},
    {"kB", 1'000},
}};

}  // namespace

Duration DataRate::transmission_time(std::uint64_t bytes) const {
  if (bps_ == 0) return Duration::zero();
  const u128 ns = (static_cast<u128>(bytes) * 8u * 1'000'000'000u) / bps_;
  return Duration::nanoseconds(static_cast<std::int64_t>(ns));
}

Probability Probability::from_fraction(double p) {
  if (!(p >= 0.0 && p <= 1.0))  // also rejects NaN
    throw UnitError(fmt::format("probability {} is outside 0%..100%", p));
  return Probability(p);
}

std::uint32_t Probability::threshold() const {
  return static_cast<std::uint32_t>(std::rint(p_ * static_cast<double>(std::numeric_limits<std::uint32_t>::max())));
}

Duration parse_duration(std::string_view text) {
  const auto [number, unit] = split_number(text);
  if (unit.empty())
    throw UnitError(
        fmt::format("{} has no unit: write it with one of ns, us, ms, s, min, h (e.g. '10ms')", quoted(text)));
  const auto factor = lookup(kDurationUnits, unit);
  if (!factor) refuse_exponent(text, number, unit);
  if (!factor)
    throw UnitError(
        fmt::format("{} has an unknown time unit {}: expected ns, us, ms, s, min or h", quoted(text), quoted(unit)));
  const Decimal d = parse_decimal(number, text, "duration");
  const auto ns =
      scale_exact(d, *factor, text, "ns", static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  return Duration::nanoseconds(static_cast<std::int64_t>(ns));
}

DataRate parse_rate(std::string_view text) {
  const auto [number, unit] = split_number(text);
  if (unit.empty())
    throw UnitError(fmt::format("{} has no unit: write a rate such as '100Mbps', '1Gbps' or '10MBps'", quoted(text)));
  const auto factor = lookup(kRateUnits, unit);
  if (!factor) refuse_exponent(text, number, unit);
  if (!factor) {
    if (unit == "mbps" || unit == "gbps" || unit == "tbps")
      throw UnitError(fmt::format("{} is ambiguous: write '{}bps' for bits or '{}Bps' for bytes per second",
                                  quoted(text), static_cast<char>(std::toupper(unit[0])),
                                  static_cast<char>(std::toupper(unit[0]))));
    throw UnitError(
        fmt::format("{} has an unknown rate unit {}: expected bps, Kbps (or kbps), Mbps, Gbps, Tbps (bits) or "
                    "Bps, KBps (or kBps), MBps, GBps (bytes)",
                    quoted(text), quoted(unit)));
  }
  const Decimal d = parse_decimal(number, text, "rate");
  return DataRate::bps(scale_exact(d, *factor, text, "bit/s", std::numeric_limits<std::uint64_t>::max()));
}

Probability parse_percent(std::string_view text) {
  const auto [number, unit] = split_number(text);
  refuse_exponent(text, number, unit);
  if (unit != "%")
    throw UnitError(fmt::format("{} is not a percentage: write it with a % sign (e.g. '1%' or '0.5%')", quoted(text)));
  const Decimal d = parse_decimal(number, text, "percentage");
  const double value = static_cast<double>(d.mantissa) / static_cast<double>(pow10(d.scale)) / 100.0;
  if (value > 1.0) throw UnitError(fmt::format("{} is over 100%", quoted(text)));
  return Probability::from_fraction(value);
}

std::uint64_t parse_bytes(std::string_view text) {
  const auto [number, unit] = split_number(text);
  if (unit.empty())
    throw UnitError(fmt::format("{} has no unit: write a size such as '1500B', '64KB' or '1MiB'", quoted(text)));
  const auto factor = lookup(kByteUnits, unit);
  if (!factor) refuse_exponent(text, number, unit);
  if (!factor)
    throw UnitError(fmt::format("{} has an unknown size unit {}: expected B, KB, MB, GB, KiB, MiB or GiB", quoted(text),
                                quoted(unit)));
  const Decimal d = parse_decimal(number, text, "size");
  return scale_exact(d, *factor, text, "byte", std::numeric_limits<std::uint64_t>::max());
}

std::string to_string(Duration d) {
  // The largest unit the value reaches, with exactly as many decimals as it needs:
  // 1.5s, 250us, 1.000001s, 7ns.
  const std::int64_t ns = d.ns();
  struct Unit {
    std::int64_t factor;
    int digits;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1'000'000'000, 9, "s"}, {1'000'000, 6, "ms"}, {1'000, 3, "us"}};
  const std::int64_t magnitude = ns < 0 ? -ns : ns;
  for (const auto& u : kUnits) {
    if (magnitude < u.factor) continue;
    std::string text = fmt::format("{}{}", ns < 0 ? "-" : "", magnitude / u.factor);
    if (magnitude % u.factor != 0) {
      std::string frac = fmt::format("{:0{}}", magnitude % u.factor, u.digits);
      while (frac.back() == '0') frac.pop_back();
      text += "." + frac;
    }
    return text + u.name;
  }
  return fmt::format("{}ns", ns);
}

std::string to_string(TimePoint t) { return to_string(t.since_start()); }

std::string to_string(DataRate r) {
  const auto b = r.bits_per_second();
  if (b == 0) return "unlimited";
  if (b % 1'000'000'000 == 0) return fmt::format("{}Gbps", b / 1'000'000'000);
  if (b % 1'000'000 == 0) return fmt::format("{}Mbps", b / 1'000'000);
  if (b % 1'000 == 0) return fmt::format("{}Kbps", b / 1'000);
  return fmt::format("{}bps", b);
}

std::string to_string(Probability p) { return fmt::format("{:g}%", p.fraction() * 100.0); }

}  // namespace shakedown
