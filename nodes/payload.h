// Bulk payload generated from (stream, offset), so that a receiver can check every byte
// it gets without anyone storing what was sent (ARCHITECTURE rule 4). A stream is one
// direction of one connection, named by its sender and receiver and the sender's ISS,
// all of which the receiver knows too.
#pragma once

#include <cstdint>
#include <span>

#include "emulator/random.h"
#include "nodes/wire/ipv4.h"

namespace shakedown {

inline std::uint64_t payload_stream(wire::Ipv4Address sender, std::uint16_t sender_port, wire::Ipv4Address receiver,
                                    std::uint16_t receiver_port, std::uint32_t sender_iss) {
  std::uint64_t x = (static_cast<std::uint64_t>(sender.value) << 32) | receiver.value;
  std::uint64_t key = splitmix64(x);
  x = key ^ ((static_cast<std::uint64_t>(sender_port) << 48) | (static_cast<std::uint64_t>(receiver_port) << 32) |
             sender_iss);
  return splitmix64(x);
}

// The 8-byte word that holds byte `offset` of a stream (offsets count modulo 2^32, like
// sequence numbers): byte `offset` is bits 8 * (offset % 8) and up of it.
inline std::uint64_t payload_word(std::uint64_t stream, std::uint32_t offset) {
  std::uint64_t x = stream ^ (static_cast<std::uint64_t>(offset >> 3) * 0x9e3779b97f4a7c15ull);
  return splitmix64(x);
}

inline std::uint8_t payload_byte(std::uint64_t stream, std::uint32_t offset) {
  return static_cast<std::uint8_t>(payload_word(stream, offset) >> (8 * (offset & 7)));
}

// Calls fn(i, expected byte) for each of `n` bytes from `offset`, one hash per word.
template <typename Fn>
inline void for_each_payload_byte(std::uint64_t stream, std::uint32_t offset, std::size_t n, Fn&& fn) {
  std::size_t i = 0;
  while (i < n) {
    const std::uint32_t at = offset + static_cast<std::uint32_t>(i);
    const std::uint64_t word = payload_word(stream, at);
    for (std::uint32_t b = at & 7; b < 8 && i < n; ++b, ++i) fn(i, static_cast<std::uint8_t>(word >> (8 * b)));
  }
}

inline void fill_payload(std::uint64_t stream, std::uint32_t offset, std::span<std::uint8_t> out) {
  // Byte by byte up to a word boundary, then whole words (8 stores the compiler merges),
  // then the tail: the same bytes as for_each_payload_byte, faster.
  std::size_t i = 0;
  const std::size_t n = out.size();
  while (i < n && ((offset + i) & 7) != 0) {
    out[i] = payload_byte(stream, offset + static_cast<std::uint32_t>(i));
    ++i;
  }
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t w = payload_word(stream, offset + static_cast<std::uint32_t>(i));
    for (int b = 0; b < 8; ++b) out[i + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(w >> (8 * b));
  }
  for (; i < n; ++i) out[i] = payload_byte(stream, offset + static_cast<std::uint32_t>(i));
}

// Number of bytes that differ from the stream's.
inline std::size_t payload_mismatches(std::uint64_t stream, std::uint32_t offset, std::span<const std::uint8_t> in) {
  std::size_t bad = 0, i = 0;
  const std::size_t n = in.size();
  while (i < n && ((offset + i) & 7) != 0) {
    bad += in[i] != payload_byte(stream, offset + static_cast<std::uint32_t>(i));
    ++i;
  }
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t w = payload_word(stream, offset + static_cast<std::uint32_t>(i));
    std::uint64_t got = 0;
    for (int b = 0; b < 8; ++b) got |= static_cast<std::uint64_t>(in[i + static_cast<std::size_t>(b)]) << (8 * b);
    if (got != w) {
      for (int b = 0; b < 8; ++b) bad += static_cast<std::uint8_t>(got >> (8 * b)) != static_cast<std::uint8_t>(w >> (8 * b));
    }
  }
  for (; i < n; ++i) bad += in[i] != payload_byte(stream, offset + static_cast<std::uint32_t>(i));
  return bad;
}

}  // namespace shakedown
