#include "emulator/address_plan.h"

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

namespace shakedown {

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  std::uint32_t value = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 4; ++i) {
    unsigned octet = 0;
    const auto [next, ec] = std::from_chars(p, end, octet);
    if (ec != std::errc() || next == p || octet > 255 || next - p > 3) return std::nullopt;
    value = value << 8 | octet;
    p = next;
    if (i < 3) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  if (p != end) return std::nullopt;
  return value;
}

std::string format_ipv4(std::uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

AddressPrefix AddressPrefix::parse(std::string_view text) {
  const auto slash = text.find('/');
  const auto a = parse_ipv4(text.substr(0, slash));
  std::uint32_t len = 0;
  const std::string_view l = slash == std::string_view::npos ? std::string_view() : text.substr(slash + 1);
  const auto r = std::from_chars(l.data(), l.data() + l.size(), len);
  if (!a || slash == std::string_view::npos || r.ec != std::errc() || r.ptr != l.data() + l.size() || len > kMaxLength)
    throw std::invalid_argument(
        fmt::format("'{}' is not a prefix such as 198.18.0.0/15 (length at most {})", text, kMaxLength));
  AddressPrefix p{*a, len};
  if ((p.base & ~p.mask()) != 0) throw std::invalid_argument(fmt::format("'{}' has bits set past its length /{}", text, len));
  return p;
}

std::string AddressPrefix::to_string() const { return fmt::format("{}/{}", format_ipv4(base), length); }

}  // namespace shakedown
