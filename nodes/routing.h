// IPv4 prefixes and a routing table with longest-prefix match.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nodes/wire/ipv4.h"

namespace shakedown {

struct Prefix {
  wire::Ipv4Address network;  // host bits zero
  std::uint8_t length = 0;    // 0..32

  static constexpr std::uint32_t mask_of(std::uint8_t length) {
    return length == 0 ? 0 : ~std::uint32_t{0} << (32 - length);
  }
  std::uint32_t mask() const { return mask_of(length); }
  bool contains(wire::Ipv4Address a) const { return (a.value & mask()) == network.value; }
  // "198.18.0.0/15"; nullopt if malformed or if host bits are set.
  static std::optional<Prefix> parse(std::string_view text);
  bool operator==(const Prefix&) const = default;
};
std::string to_string(const Prefix& p);

struct Route {
  Prefix prefix;
  std::uint32_t interface = 0;
};

// A stable hash of a packet's flow (addresses, protocol, ports), for ECMP: every packet
// of a connection takes the same path, and the choice is the same in every run.
std::uint64_t flow_hash(std::span<const std::uint8_t> ipv4_packet);

// Longest-prefix match over one hash map per prefix length, longest first: at most 33
// probes per lookup, independent of the number of routes.
class RoutingTable {
 public:
  // Replaces any route for the same prefix.
  void add(const Prefix& prefix, std::uint32_t interface) { add_multipath(prefix, {interface}); }
  // Equal-cost paths: lookup picks one by flow hash.
  void add_multipath(const Prefix& prefix, std::vector<std::uint32_t> interfaces);
  std::optional<Route> lookup(wire::Ipv4Address destination, std::uint64_t flow = 0) const;
  std::size_t size() const { return count_; }

 private:
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> by_length_[33];  // network -> interfaces
  std::vector<std::uint8_t> lengths_;                                            // present lengths, longest first
  std::size_t count_ = 0;
};

}  // namespace shakedown
