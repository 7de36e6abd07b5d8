// TCP header and options (RFC 9293 3.1; MSS RFC 9293 3.7.1; window scale and timestamps
// RFC 7323; SACK-permitted and SACK RFC 2018): a plain struct with parse and emit.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "nodes/wire/error.h"
#include "nodes/wire/ipv4.h"

namespace shakedown::wire {

namespace tcp_flags {
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
inline constexpr std::uint8_t kUrg = 0x20;
inline constexpr std::uint8_t kEce = 0x40;
inline constexpr std::uint8_t kCwr = 0x80;
}  // namespace tcp_flags

// "SYN,ACK", "FIN,PSH,ACK", "" for none: the order tcpdump prints.
std::string flags_to_string(std::uint8_t flags);

struct SackBlock {
  std::uint32_t left = 0;   // first sequence number of the block
  std::uint32_t right = 0;  // one past the last
  bool operator==(const SackBlock&) const = default;
};

struct TcpTimestamps {
  std::uint32_t value = 0;  // TSval
  std::uint32_t echo = 0;   // TSecr
  bool operator==(const TcpTimestamps&) const = default;
};

// 4 blocks fill the 40 option bytes; with timestamps only 3 fit (RFC 2018 section 3).
inline constexpr std::size_t kMaxSackBlocks = 4;

struct TcpOptions {
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;  // shift count as sent (RFC 7323 caps its use at 14)
  bool sack_permitted = false;
  std::optional<TcpTimestamps> timestamps;
  std::array<SackBlock, kMaxSackBlocks> sack{};
  std::uint8_t sack_count = 0;

  bool operator==(const TcpOptions&) const = default;
  // Bytes these options take when emitted, padded to a multiple of 4. The sender keeps
  // this at most 40 (kMaxOptionBytes) by sending no more SACK blocks than fit.
  std::size_t encoded_size() const;
  // How many SACK blocks fit beside the other options set here.
  std::size_t sack_room() const;
};

inline constexpr std::size_t kTcpHeaderSize = 20;
inline constexpr std::size_t kMaxOptionBytes = 40;

struct TcpHeader {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;  // as sent, before scaling
  std::uint16_t urgent = 0;
  TcpOptions options;

  bool has(std::uint8_t flag) const { return (flags & flag) != 0; }
  std::size_t header_size() const { return kTcpHeaderSize + options.encoded_size(); }
  bool operator==(const TcpHeader&) const = default;
};

struct TcpSegment {
  TcpHeader header;
  std::span<const std::uint8_t> payload;
};

// Parses a TCP segment carried between src and dst, verifying its checksum over the
// pseudo-header if asked. Unknown options are skipped by their length.
Parsed<TcpSegment> parse_tcp(std::span<const std::uint8_t> segment, Ipv4Address src, Ipv4Address dst,
                             bool verify_checksum = true);

// Writes header (with options) and payload into out, which must hold
// header.header_size() + payload.size() bytes, and fills in the checksum. Returns the
// number of bytes written. `payload` may already sit in place, right after the header.
std::size_t emit_tcp(const TcpHeader& header, std::span<const std::uint8_t> payload, Ipv4Address src, Ipv4Address dst,
                     std::span<std::uint8_t> out);

}  // namespace shakedown::wire
