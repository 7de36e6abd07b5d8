// The address plan: emulated hosts take IPv4 addresses from a prefix — 198.18.0.0/15 by
// default, the benchmarking range (RFC 2544, ARCHITECTURE rule 8) — in order, skipping
// the prefix's own address, its broadcast address and every address already taken.
// The one owner of the plan: the topology loader numbers a file's hosts with it, and a
// network built in code numbers its hosts the same way.
//
// Part of the vocabulary every layer shares (time, units, addresses): the topology
// loader links it without the rest of the engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shakedown {

// "198.18.0.1" (host order: 0xc6120001); nullopt unless four decimal octets.
std::optional<std::uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(std::uint32_t address);

struct AddressPrefix {
  std::uint32_t base = 0xc6120000u;  // 198.18.0.0
  std::uint32_t length = 15;
  static constexpr std::uint32_t kMaxLength = 30;  // at least two host addresses
  // "198.18.0.0/15". Throws std::invalid_argument saying what is wrong: not a prefix,
  // a length past 30, bits set past the length.
  static AddressPrefix parse(std::string_view text);
  std::uint64_t size() const { return 1ull << (32 - length); }
  bool contains(std::uint32_t a) const { return (a & mask()) == base; }
  std::uint32_t mask() const { return length == 0 ? 0 : ~0u << (32 - length); }
  std::string to_string() const;
};

class AddressPlan {
 public:
  explicit AddressPlan(AddressPrefix prefix = {}) : prefix_(prefix) {}
  const AddressPrefix& prefix() const { return prefix_; }
  // The next address of the plan for which taken(address) is false; nullopt when the
  // plan has none left.
  template <typename Taken>
  std::optional<std::uint32_t> next(Taken&& taken) {
    while (next_ < prefix_.size() - 1 && taken(prefix_.base + static_cast<std::uint32_t>(next_))) ++next_;
    if (next_ >= prefix_.size() - 1) return std::nullopt;
    return prefix_.base + static_cast<std::uint32_t>(next_++);
  }

 private:
  AddressPrefix prefix_;
  std::uint64_t next_ = 1;  // the prefix's own address is not a host's
};

}  // namespace shakedown
