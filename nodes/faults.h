// Predicates for targeted packet faults (PacketFault in emulator/link_params.h) that
// look at IPv4 and TCP headers: "the first SYN from the client", "every FIN to port
// 80". Headers are read without checking checksums: a fault sees what is on the wire.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "emulator/packet.h"
#include "nodes/wire/ipv4.h"
#include "nodes/wire/tcp.h"

namespace shakedown {

struct TcpMatch {
  // The flags compared under `flags_mask`: {kSyn, kSyn | kAck} matches a SYN without
  // ACK; {kFin, kFin} any segment with FIN.
  std::optional<std::uint8_t> flags;
  std::uint8_t flags_mask = 0xff;
  std::optional<wire::Ipv4Address> src;
  std::optional<wire::Ipv4Address> dst;
  std::optional<std::uint16_t> src_port;
  std::optional<std::uint16_t> dst_port;
  bool with_payload = false;  // only segments that carry data
};

inline std::function<bool(const Packet&)> match_tcp(TcpMatch m) {
  return [m](const Packet& p) {
    const auto ip = wire::parse_ipv4(p.bytes(), /*verify_checksum=*/false);
    if (!ip.ok() || ip.value.header.protocol != wire::kProtocolTcp) return false;
    const auto& h = ip.value.header;
    if (m.src && h.src != *m.src) return false;
    if (m.dst && h.dst != *m.dst) return false;
    const auto seg = wire::parse_tcp(ip.value.payload, h.src, h.dst, /*verify_checksum=*/false);
    if (!seg.ok()) return false;
    const auto& t = seg.value.header;
    if (m.flags && (t.flags & m.flags_mask) != (*m.flags & m.flags_mask)) return false;
    if (m.src_port && t.src_port != *m.src_port) return false;
    if (m.dst_port && t.dst_port != *m.dst_port) return false;
    if (m.with_payload && seg.value.payload.empty()) return false;
    return true;
  };
}

// A SYN without ACK: a connection request.
inline TcpMatch syn_only() {
  return TcpMatch{wire::tcp_flags::kSyn, static_cast<std::uint8_t>(wire::tcp_flags::kSyn | wire::tcp_flags::kAck)};
}

}  // namespace shakedown
