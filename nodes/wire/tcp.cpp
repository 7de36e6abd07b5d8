#include "nodes/wire/tcp.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "nodes/wire/bytes.h"
#include "nodes/wire/checksum.h"

namespace shakedown::wire {
namespace {

enum OptionKind : std::uint8_t {
  kEol = 0,
  kNop = 1,
  kMss = 2,
  kWindowScale = 3,
  kSackPermitted = 4,
  kSack = 5,
  kTimestamps = 8,
};

WireError parse_options(std::span<const std::uint8_t> bytes, TcpOptions& o) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const std::uint8_t kind = bytes[i];
    if (kind == kEol) break;
    if (kind == kNop) {
      ++i;
      continue;
    }
    if (i + 1 >= bytes.size()) return WireError::bad_option;
    const std::size_t length = bytes[i + 1];
    if (length < 2 || i + length > bytes.size()) return WireError::bad_option;
    const std::uint8_t* v = bytes.data() + i + 2;
    switch (kind) {
      case kMss:
        if (length != 4) return WireError::bad_option;
        o.mss = get16(v);
        break;
      case kWindowScale:
        if (length != 3) return WireError::bad_option;
        o.window_scale = v[0];
        break;
      case kSackPermitted:
        if (length != 2) return WireError::bad_option;
        o.sack_permitted = true;
        break;
      case kSack: {
        if ((length - 2) % 8 != 0 || length == 2) return WireError::bad_option;
        const std::size_t blocks = (length - 2) / 8;
        if (blocks > kMaxSackBlocks) return WireError::bad_option;
        o.sack_count = static_cast<std::uint8_t>(blocks);
        for (std::size_t b = 0; b < blocks; ++b) o.sack[b] = {get32(v + 8 * b), get32(v + 8 * b + 4)};
        break;
      }
      case kTimestamps:
        if (length != 10) return WireError::bad_option;
        o.timestamps = TcpTimestamps{get32(v), get32(v + 4)};
        break;
      default:
        break;  // RFC 9293 3.1: an unknown option is skipped by its length
    }
    i += length;
  }
  return WireError::ok;
}

}  // namespace

std::string flags_to_string(std::uint8_t flags) {
  static constexpr struct {
    std::uint8_t bit;
    const char* name;
  } kNames[] = {{tcp_flags::kSyn, "SYN"}, {tcp_flags::kFin, "FIN"}, {tcp_flags::kRst, "RST"}, {tcp_flags::kPsh, "PSH"},
                {tcp_flags::kAck, "ACK"}, {tcp_flags::kUrg, "URG"}, {tcp_flags::kEce, "ECE"}, {tcp_flags::kCwr, "CWR"}};
  std::string out;
  for (const auto& n : kNames) {
    if ((flags & n.bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += n.name;
  }
  return out;
}

// Layout as Linux sends it, every field 4-byte aligned:
//   SYN:   MSS(4) | SACK_PERM(2) TS(10) or NOP NOP TS(10) or NOP NOP SACK_PERM(2) | NOP WS(3)
//   other: NOP NOP TS(10) | NOP NOP SACK(2 + 8n)
std::size_t TcpOptions::encoded_size() const {
  std::size_t n = 0;
  if (mss) n += 4;
  if (timestamps || sack_permitted) n += timestamps ? 12 : 4;
  if (window_scale) n += 4;
  if (sack_count > 0) n += 4 + 8 * static_cast<std::size_t>(sack_count);
  return n;
}

std::size_t TcpOptions::sack_room() const {
  TcpOptions rest = *this;
  rest.sack_count = 0;
  const std::size_t used = rest.encoded_size();
  if (used + 4 + 8 > kMaxOptionBytes) return 0;
  return std::min(kMaxSackBlocks, (kMaxOptionBytes - used - 4) / 8);
}

Parsed<TcpSegment> parse_tcp(std::span<const std::uint8_t> segment, Ipv4Address src, Ipv4Address dst,
                             bool verify_checksum) {
  Parsed<TcpSegment> r;
  if (segment.size() < kTcpHeaderSize) return {{}, WireError::truncated};
  const std::uint8_t* b = segment.data();
  const std::size_t header_size = static_cast<std::size_t>(b[12] >> 4) * 4;
  if (header_size < kTcpHeaderSize) return {{}, WireError::bad_header_length};
  if (header_size > segment.size()) return {{}, WireError::truncated};
  if (verify_checksum) {
    const auto length = static_cast<std::uint16_t>(segment.size());
    const std::uint32_t sum = checksum_add(segment, pseudo_header_sum(src.value, dst.value, kProtocolTcp, length));
    if (checksum_fold(sum) != 0xffff) return {{}, WireError::bad_checksum};
  }
  TcpHeader& h = r.value.header;
  h.src_port = get16(b);
  h.dst_port = get16(b + 2);
  h.seq = get32(b + 4);
  h.ack = get32(b + 8);
  h.flags = b[13];
  h.window = get16(b + 14);
  h.urgent = get16(b + 18);
  if (const WireError e = parse_options(segment.subspan(kTcpHeaderSize, header_size - kTcpHeaderSize), h.options);
      e != WireError::ok)
    return {{}, e};
  r.value.payload = segment.subspan(header_size);
  return r;
}

std::size_t emit_tcp(const TcpHeader& h, std::span<const std::uint8_t> payload, Ipv4Address src, Ipv4Address dst,
                     std::span<std::uint8_t> out) {
  const std::size_t header_size = h.header_size();
  assert(header_size <= kTcpHeaderSize + kMaxOptionBytes && "more SACK blocks than fit (see sack_room)");
  assert(out.size() >= header_size + payload.size());
  std::uint8_t* b = out.data();
  put16(b, h.src_port);
  put16(b + 2, h.dst_port);
  put32(b + 4, h.seq);
  put32(b + 8, h.ack);
  b[12] = static_cast<std::uint8_t>((header_size / 4) << 4);
  b[13] = h.flags;
  put16(b + 14, h.window);
  put16(b + 16, 0);
  put16(b + 18, h.urgent);

  std::uint8_t* o = b + kTcpHeaderSize;
  const TcpOptions& opt = h.options;
  if (opt.mss) {
    o[0] = kMss;
    o[1] = 4;
    put16(o + 2, *opt.mss);
    o += 4;
  }
  if (opt.timestamps) {
    if (opt.sack_permitted) {
      o[0] = kSackPermitted;
      o[1] = 2;
    } else {
      o[0] = kNop;
      o[1] = kNop;
    }
    o[2] = kTimestamps;
    o[3] = 10;
    put32(o + 4, opt.timestamps->value);
    put32(o + 8, opt.timestamps->echo);
    o += 12;
  } else if (opt.sack_permitted) {
    o[0] = kNop;
    o[1] = kNop;
    o[2] = kSackPermitted;
    o[3] = 2;
    o += 4;
  }
  if (opt.window_scale) {
    o[0] = kNop;
    o[1] = kWindowScale;
    o[2] = 3;
    o[3] = *opt.window_scale;
    o += 4;
  }
  if (opt.sack_count > 0) {
    o[0] = kNop;
    o[1] = kNop;
    o[2] = kSack;
    o[3] = static_cast<std::uint8_t>(2 + 8 * opt.sack_count);
    o += 4;
    for (std::size_t i = 0; i < opt.sack_count; ++i) {
      put32(o, opt.sack[i].left);
      put32(o + 4, opt.sack[i].right);
      o += 8;
    }
  }
  // A caller may have generated the payload in place already.
  if (!payload.empty() && payload.data() != b + header_size)
    std::memcpy(b + header_size, payload.data(), payload.size());
  const std::size_t total = header_size + payload.size();
  const auto length = static_cast<std::uint16_t>(total);
  const std::uint32_t sum =
      checksum_add(out.first(total), pseudo_header_sum(src.value, dst.value, kProtocolTcp, length));
  put16(b + 16, checksum_finish(sum));
  return total;
}

}  // namespace shakedown::wire
