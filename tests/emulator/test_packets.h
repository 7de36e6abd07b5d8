// Real IPv4/UDP datagrams for engine tests, so that captures decode in tshark. (The TCP
// stack has its own codecs in nodes/wire; the engine tests must not depend on them.)
#pragma once

#include <cstdint>
#include <cstring>

#include "emulator/packet.h"

namespace shakedown::testing {

inline std::uint16_t ones_complement_sum(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2) sum += static_cast<std::uint32_t>(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// 198.18.0.1 -> 198.18.0.2, UDP 5000 -> 6000; the payload starts with `tag` (big-endian,
// also the low 16 bits of the IPv4 identification) and continues with bytes derived from it.
inline PacketPtr make_udp(PacketPool& pool, std::uint32_t tag, std::size_t payload = 100) {
  const std::size_t total = 20 + 8 + payload;
  PacketPtr p = pool.make(total);
  std::uint8_t* b = p->bytes().data();
  b[0] = 0x45;
  b[2] = static_cast<std::uint8_t>(total >> 8);
  b[3] = static_cast<std::uint8_t>(total);
  b[4] = static_cast<std::uint8_t>(tag >> 8);  // identification: lets tshark show the tag
  b[5] = static_cast<std::uint8_t>(tag);
  b[8] = 64;  // TTL
  b[9] = 17;  // UDP
  const std::uint8_t src[4] = {198, 18, 0, 1}, dst[4] = {198, 18, 0, 2};
  std::memcpy(b + 12, src, 4);
  std::memcpy(b + 16, dst, 4);
  const std::uint16_t hc = static_cast<std::uint16_t>(~ones_complement_sum(b, 20));
  b[10] = static_cast<std::uint8_t>(hc >> 8);
  b[11] = static_cast<std::uint8_t>(hc);
  std::uint8_t* u = b + 20;
  u[0] = 5000 >> 8;
  u[1] = 5000 & 0xff;
  u[2] = 6000 >> 8;
  u[3] = 6000 & 0xff;
  u[4] = static_cast<std::uint8_t>((8 + payload) >> 8);
  u[5] = static_cast<std::uint8_t>(8 + payload);
  for (std::size_t i = 0; i < payload; ++i) u[8 + i] = static_cast<std::uint8_t>(tag * 31 + i);
  for (std::size_t i = 0; i < 4 && i < payload; ++i) u[8 + i] = static_cast<std::uint8_t>(tag >> (24 - 8 * i));
  // UDP checksum over the pseudo-header and the datagram.
  std::uint32_t pseudo = 0;
  pseudo += (198u << 8 | 18u) * 2 + (0u << 8 | 1u) + (0u << 8 | 2u) + 17u + static_cast<std::uint32_t>(8 + payload);
  std::uint16_t uc = static_cast<std::uint16_t>(~ones_complement_sum(u, 8 + payload, pseudo));
  if (uc == 0) uc = 0xffff;
  u[6] = static_cast<std::uint8_t>(uc >> 8);
  u[7] = static_cast<std::uint8_t>(uc);
  return p;
}

// The tag make_udp stored in the first four payload bytes (payload >= 4).
inline std::uint32_t tag_of(const Packet& p) {
  const std::uint8_t* u = p.bytes().data() + 28;
  return static_cast<std::uint32_t>(u[0]) << 24 | static_cast<std::uint32_t>(u[1]) << 16 |
         static_cast<std::uint32_t>(u[2]) << 8 | u[3];
}

}  // namespace shakedown::testing
