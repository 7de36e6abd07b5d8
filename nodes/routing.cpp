#include "nodes/routing.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

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

void RoutingTable::add(const Prefix& prefix, std::uint32_t interface) {
  auto& map = by_length_[prefix.length];
  if (!map.contains(prefix.network.value)) ++count_;
  map[prefix.network.value] = interface;
  if (std::find(lengths_.begin(), lengths_.end(), prefix.length) == lengths_.end()) {
    lengths_.push_back(prefix.length);
    std::sort(lengths_.rbegin(), lengths_.rend());
  }
}

std::optional<Route> RoutingTable::lookup(wire::Ipv4Address destination) const {
  for (const std::uint8_t length : lengths_) {
    const std::uint32_t network = destination.value & Prefix::mask_of(length);
    const auto& map = by_length_[length];
    if (auto it = map.find(network); it != map.end()) return Route{Prefix{{network}, length}, it->second};
  }
  return std::nullopt;
}

}  // namespace shakedown
