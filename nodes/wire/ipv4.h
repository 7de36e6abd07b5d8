// IPv4 (RFC 791): a plain header struct with parse and emit, smoltcp-style.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "nodes/wire/error.h"

namespace shakedown::wire {

struct Ipv4Address {
  std::uint32_t value = 0;  // host order: 198.18.0.1 is 0xc6120001

  static constexpr Ipv4Address of(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return {static_cast<std::uint32_t>(a) << 24 | static_cast<std::uint32_t>(b) << 16 |
            static_cast<std::uint32_t>(c) << 8 | d};
  }
  // Dotted quad; nullopt for anything else.
  static std::optional<Ipv4Address> parse(std::string_view text);
  auto operator<=>(const Ipv4Address&) const = default;
};
std::string to_string(Ipv4Address a);

inline constexpr std::uint8_t kProtocolTcp = 6;
inline constexpr std::uint8_t kProtocolUdp = 17;
inline constexpr std::size_t kIpv4HeaderSize = 20;

struct Ipv4Header {
  std::uint8_t dscp_ecn = 0;
  std::uint16_t total_length = 0;  // header + payload, filled in by emit
  std::uint16_t identification = 0;
  bool dont_fragment = true;  // as Linux sends TCP
  std::uint8_t ttl = 64;
  std::uint8_t protocol = kProtocolTcp;
  Ipv4Address src;
  Ipv4Address dst;
};

struct Ipv4Packet {
  Ipv4Header header;
  std::span<const std::uint8_t> payload;  // exactly total_length - header length bytes
};

// Checks version, header length, total length, fragmentation and (if asked) the header
// checksum. Options are accepted and skipped. Bytes past total_length (link padding)
// are ignored.
Parsed<Ipv4Packet> parse_ipv4(std::span<const std::uint8_t> bytes, bool verify_checksum = true);

// Writes a 20-byte header for `payload_length` bytes of payload into out[0..20) with
// total_length and checksum computed. `out` must hold at least 20 bytes.
void emit_ipv4(const Ipv4Header& header, std::uint16_t payload_length, std::span<std::uint8_t> out);

}  // namespace shakedown::wire
