// The Internet checksum (RFC 1071) and the TCP/UDP pseudo-header (RFC 9293 3.1).
#pragma once

#include <cstdint>
#include <span>

namespace shakedown::wire {

// One's-complement sum of 16-bit big-endian words, folded to 16 bits, not inverted.
// `initial` lets sums be chained (pseudo-header, then header, then payload).
std::uint32_t checksum_add(std::span<const std::uint8_t> bytes, std::uint32_t initial = 0);
std::uint16_t checksum_fold(std::uint32_t sum);
// The value to store in a checksum field: ~fold(sum).
inline std::uint16_t checksum_finish(std::uint32_t sum) { return static_cast<std::uint16_t>(~checksum_fold(sum)); }

// Sum of the IPv4 pseudo-header: source, destination, zero, protocol, length.
std::uint32_t pseudo_header_sum(std::uint32_t src, std::uint32_t dst, std::uint8_t protocol, std::uint16_t length);

}  // namespace shakedown::wire
