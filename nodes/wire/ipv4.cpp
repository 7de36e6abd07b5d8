#include "nodes/wire/ipv4.h"

#include "emulator/address_plan.h"

#include <charconv>

#include <fmt/format.h>

#include "nodes/wire/bytes.h"
#include "nodes/wire/checksum.h"

namespace shakedown::wire {

std::string_view to_string(WireError e) {
  switch (e) {
    case WireError::ok:
      return "ok";
    case WireError::truncated:
      return "truncated";
    case WireError::bad_version:
      return "bad_version";
    case WireError::bad_header_length:
      return "bad_header_length";
    case WireError::bad_total_length:
      return "bad_total_length";
    case WireError::bad_checksum:
      return "bad_checksum";
    case WireError::fragment:
      return "fragment";
    case WireError::bad_option:
      return "bad_option";
  }
  return "unknown";
}

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  const auto a = shakedown::parse_ipv4(text);
  if (!a) return std::nullopt;
  return Ipv4Address{*a};
}

std::string to_string(Ipv4Address a) { return shakedown::format_ipv4(a.value); }

Parsed<Ipv4Packet> parse_ipv4(std::span<const std::uint8_t> bytes, bool verify_checksum) {
  Parsed<Ipv4Packet> r;
  if (bytes.size() < kIpv4HeaderSize) return {{}, WireError::truncated};
  const std::uint8_t* b = bytes.data();
  if ((b[0] >> 4) != 4) return {{}, WireError::bad_version};
  const std::size_t header_length = static_cast<std::size_t>(b[0] & 0x0f) * 4;
  if (header_length < kIpv4HeaderSize) return {{}, WireError::bad_header_length};
  if (bytes.size() < header_length) return {{}, WireError::truncated};
  const std::uint16_t total = get16(b + 2);
  if (total < header_length) return {{}, WireError::bad_total_length};
  if (bytes.size() < total) return {{}, WireError::truncated};
  if (verify_checksum && checksum_fold(checksum_add(bytes.first(header_length))) != 0xffff)
    return {{}, WireError::bad_checksum};
  const std::uint16_t flags_fragment = get16(b + 6);
  const bool more_fragments = (flags_fragment & 0x2000) != 0;
  const std::uint16_t fragment_offset = flags_fragment & 0x1fff;
  if (more_fragments || fragment_offset != 0) return {{}, WireError::fragment};

  Ipv4Header& h = r.value.header;
  h.dscp_ecn = b[1];
  h.total_length = total;
  h.identification = get16(b + 4);
  h.dont_fragment = (flags_fragment & 0x4000) != 0;
  h.ttl = b[8];
  h.protocol = b[9];
  h.src = Ipv4Address{get32(b + 12)};
  h.dst = Ipv4Address{get32(b + 16)};
  r.value.payload = bytes.subspan(header_length, total - header_length);
  return r;
}

void emit_ipv4(const Ipv4Header& h, std::uint16_t payload_length, std::span<std::uint8_t> out) {
  std::uint8_t* b = out.data();
  b[0] = 0x45;
  b[1] = h.dscp_ecn;
  put16(b + 2, static_cast<std::uint16_t>(kIpv4HeaderSize + payload_length));
  put16(b + 4, h.identification);
  put16(b + 6, h.dont_fragment ? 0x4000 : 0);
  b[8] = h.ttl;
  b[9] = h.protocol;
  put16(b + 10, 0);
  put32(b + 12, h.src.value);
  put32(b + 16, h.dst.value);
  put16(b + 10, checksum_finish(checksum_add(out.first(kIpv4HeaderSize))));
}

}  // namespace shakedown::wire
