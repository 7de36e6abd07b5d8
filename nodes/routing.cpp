#include "nodes/routing.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "emulator/random.h"

namespace shakedown {

std::optional<Prefix> Prefix::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto address = wire::Ipv4Address::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  const std::string_view len_text = text.substr(slash + 1);
  unsigned length = 0;
  const auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), length);
  if (ec != std::errc() || end != len_text.data() + len_text.size() || len_text.empty() || length > 32)
    return std::nullopt;
  const Prefix p{*address, static_cast<std::uint8_t>(length)};
  if ((address->value & ~p.mask()) != 0) return std::nullopt;
  return p;
}

std::string to_string(const Prefix& p) { return fmt::format("{}/{}", wire::to_string(p.network), p.length); }

void RoutingTable::add_multipath(const Prefix& prefix, std::vector<std::uint32_t> interfaces) {
  if (interfaces.empty()) return;
  auto& map = by_length_[prefix.length];
  if (!map.contains(prefix.network.value)) ++count_;
  map[prefix.network.value] = std::move(interfaces);
  if (std::find(lengths_.begin(), lengths_.end(), prefix.length) == lengths_.end()) {
    lengths_.push_back(prefix.length);
    std::sort(lengths_.rbegin(), lengths_.rend());
  }
}

std::optional<Route> RoutingTable::lookup(wire::Ipv4Address destination, std::uint64_t flow) const {
  for (const std::uint8_t length : lengths_) {
    const std::uint32_t network = destination.value & Prefix::mask_of(length);
    const auto& map = by_length_[length];
    if (auto it = map.find(network); it != map.end()) {
      const auto& choices = it->second;
      return Route{Prefix{{network}, length}, choices[flow % choices.size()]};
    }
  }
  return std::nullopt;
}

std::uint64_t flow_hash(std::span<const std::uint8_t> p) {
  if (p.size() < 20) return 0;
  const std::size_t ihl = static_cast<std::size_t>(p[0] & 0x0f) * 4;
  std::uint64_t x = static_cast<std::uint64_t>(p[12]) << 56 | static_cast<std::uint64_t>(p[13]) << 48 |
                    static_cast<std::uint64_t>(p[14]) << 40 | static_cast<std::uint64_t>(p[15]) << 32 |
                    static_cast<std::uint64_t>(p[16]) << 24 | static_cast<std::uint64_t>(p[17]) << 16 |
                    static_cast<std::uint64_t>(p[18]) << 8 | p[19];
  std::uint64_t h = splitmix64(x);
  // Ports, for TCP and UDP: the first four bytes after the IPv4 header.
  if ((p[9] == wire::kProtocolTcp || p[9] == wire::kProtocolUdp) && p.size() >= ihl + 4) {
    x = h ^ (static_cast<std::uint64_t>(p[9]) << 32 | static_cast<std::uint64_t>(p[ihl]) << 24 |
             static_cast<std::uint64_t>(p[ihl + 1]) << 16 | static_cast<std::uint64_t>(p[ihl + 2]) << 8 | p[ihl + 3]);
    h = splitmix64(x);
  }
  return h;
}

}  // namespace shakedown
