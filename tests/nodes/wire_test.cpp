#include <array>
#include <vector>

#include <gtest/gtest.h>

#include "emulator/random.h"
#include "nodes/wire/checksum.h"
#include "nodes/wire/ipv4.h"
#include "nodes/wire/tcp.h"

namespace shakedown::wire {
namespace {

using namespace tcp_flags;

const Ipv4Address kClient = Ipv4Address::of(198, 18, 0, 1);
const Ipv4Address kServer = Ipv4Address::of(198, 18, 0, 2);

// The fast sum (eight bytes at a time, in the machine's byte order) against RFC 1071's
// plain definition, 16 bits at a time, on random data of every length up to 200 and
// every starting partial sum kind.
TEST(Checksum, TheFastSumIsThePlainOne) {
  const auto plain = [](std::span<const std::uint8_t> b, std::uint32_t initial) {
    std::uint64_t sum = initial;
    std::size_t i = 0;
    for (; i + 1 < b.size(); i += 2) sum += static_cast<std::uint32_t>(b[i]) << 8 | b[i + 1];
    if (i < b.size()) sum += static_cast<std::uint32_t>(b[i]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
  };
  std::uint64_t state = 7;
  std::vector<std::uint8_t> data(200);
  for (int round = 0; round < 50; ++round) {
    for (auto& byte : data) byte = static_cast<std::uint8_t>(splitmix64(state));
    if (round == 0) std::fill(data.begin(), data.end(), 0xff);  // every carry at once
    for (std::size_t n = 0; n <= data.size(); ++n) {
      const std::uint32_t initial = round % 3 == 0 ? 0 : static_cast<std::uint32_t>(splitmix64(state) & 0x1ffff);
      const std::span<const std::uint8_t> b(data.data(), n);
      ASSERT_EQ(checksum_fold(checksum_add(b, initial)), plain(b, initial)) << "length " << n << ", round " << round;
    }
  }
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
  const std::uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_fold(checksum_add(bytes)), 0xddf2);
  // Chaining in two pieces gives the same sum.
  EXPECT_EQ(checksum_fold(checksum_add(std::span(bytes).subspan(4), checksum_add(std::span(bytes).first(4)))), 0xddf2);
  const std::uint8_t odd[] = {0x01};
  EXPECT_EQ(checksum_fold(checksum_add(odd)), 0x0100) << "an odd byte is padded with zero";
}

TEST(Ipv4Address, ParseAndFormat) {
  EXPECT_EQ(Ipv4Address::parse("198.18.0.1"), kClient);
  EXPECT_EQ(to_string(kServer), "198.18.0.2");
  for (const char* bad : {"198.18.0", "198.18.0.256", "1.2.3.4.5", "a.b.c.d", "1..2.3", "", "1.2.3.4 ", "0001.2.3.4"})
    EXPECT_FALSE(Ipv4Address::parse(bad).has_value()) << bad;
}

std::vector<std::uint8_t> ipv4_bytes(std::size_t payload = 8) {
  std::vector<std::uint8_t> b(kIpv4HeaderSize + payload, 0xab);
  Ipv4Header h;
  h.src = kClient;
  h.dst = kServer;
  h.identification = 0x1234;
  h.ttl = 17;
  emit_ipv4(h, static_cast<std::uint16_t>(payload), b);
  return b;
}

TEST(Ipv4, RoundTrip) {
  const auto b = ipv4_bytes();
  const auto p = parse_ipv4(b);
  ASSERT_TRUE(p.ok()) << to_string(p.error);
  EXPECT_EQ(p.value.header.src, kClient);
  EXPECT_EQ(p.value.header.dst, kServer);
  EXPECT_EQ(p.value.header.ttl, 17);
  EXPECT_EQ(p.value.header.identification, 0x1234);
  EXPECT_EQ(p.value.header.total_length, 28);
  EXPECT_TRUE(p.value.header.dont_fragment);
  EXPECT_EQ(p.value.payload.size(), 8u);
  EXPECT_EQ(p.value.payload[0], 0xab);
}

TEST(Ipv4, IgnoresLinkPaddingPastTotalLength) {
  auto b = ipv4_bytes();
  b.resize(b.size() + 18, 0);
  const auto p = parse_ipv4(b);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value.payload.size(), 8u);
}

TEST(Ipv4, RejectsEachKindOfMalformedHeader) {
  auto expect = [](std::vector<std::uint8_t> b, WireError e) { EXPECT_EQ(parse_ipv4(b).error, e) << to_string(e); };
  auto b = ipv4_bytes();
  expect(std::vector<std::uint8_t>(b.begin(), b.begin() + 19), WireError::truncated);
  expect(std::vector<std::uint8_t>(b.begin(), b.end() - 1), WireError::truncated);
  auto v6 = b;
  v6[0] = 0x65;
  expect(v6, WireError::bad_version);
  auto ihl = b;
  ihl[0] = 0x44;
  expect(ihl, WireError::bad_header_length);
  auto ihl_long = b;
  ihl_long[0] = 0x4f;  // 60-byte header in 28 bytes
  expect(ihl_long, WireError::truncated);
  auto total = b;
  total[2] = 0;
  total[3] = 10;
  expect(total, WireError::bad_total_length);
  auto sum = b;
  sum[8] ^= 1;  // TTL changed under the checksum
  expect(sum, WireError::bad_checksum);
  EXPECT_TRUE(parse_ipv4(sum, /*verify_checksum=*/false).ok());
  auto frag = b;
  frag[6] = 0x20;  // more fragments
  frag[10] = frag[11] = 0;
  const auto hc = checksum_finish(checksum_add(std::span(frag).first(20)));
  frag[10] = static_cast<std::uint8_t>(hc >> 8);
  frag[11] = static_cast<std::uint8_t>(hc);
  expect(frag, WireError::fragment);
}

TcpHeader syn() {
  TcpHeader h;
  h.src_port = 40000;
  h.dst_port = 80;
  h.seq = 0xfffffff0;  // near the wrap, on purpose
  h.flags = kSyn;
  h.window = 64240;
  h.options.mss = 1460;
  h.options.sack_permitted = true;
  h.options.timestamps = TcpTimestamps{123456, 0};
  h.options.window_scale = 7;
  return h;
}

std::vector<std::uint8_t> emit(const TcpHeader& h, std::span<const std::uint8_t> payload = {}) {
  std::vector<std::uint8_t> out(h.header_size() + payload.size());
  EXPECT_EQ(emit_tcp(h, payload, kClient, kServer, out), out.size());
  return out;
}

TEST(Tcp, SynWithEveryOptionRoundTripsInLinuxLayout) {
  const TcpHeader h = syn();
  const auto bytes = emit(h);
  ASSERT_EQ(bytes.size(), 40u) << "MSS(4) + SACK_PERM,TS(12) + NOP,WS(4) = 20 option bytes";
  // MSS first, then SACK-permitted and timestamps, then NOP and window scale.
  EXPECT_EQ(bytes[20], 2);
  EXPECT_EQ(bytes[24], 4);
  EXPECT_EQ(bytes[26], 8);
  EXPECT_EQ(bytes[36], 1);
  EXPECT_EQ(bytes[37], 3);
  const auto p = parse_tcp(bytes, kClient, kServer);
  ASSERT_TRUE(p.ok()) << to_string(p.error);
  EXPECT_EQ(p.value.header, h);
  EXPECT_TRUE(p.value.payload.empty());
}

TEST(Tcp, DataWithTimestampsAndThreeSackBlocks) {
  TcpHeader h;
  h.src_port = 80;
  h.dst_port = 40000;
  h.seq = 1000;
  h.ack = 2000;
  h.flags = kAck | kPsh;
  h.window = 502;
  h.options.timestamps = TcpTimestamps{7, 9};
  EXPECT_EQ(h.options.sack_room(), 3u);
  h.options.sack_count = 3;
  h.options.sack = {SackBlock{3000, 4000}, SackBlock{5000, 6000}, SackBlock{7000, 8000}, SackBlock{}};
  const std::vector<std::uint8_t> payload{1, 2, 3, 4, 5};
  const auto bytes = emit(h, payload);
  EXPECT_EQ(h.header_size(), 60u);
  const auto p = parse_tcp(bytes, kClient, kServer);
  ASSERT_TRUE(p.ok()) << to_string(p.error);
  EXPECT_EQ(p.value.header, h);
  EXPECT_EQ(std::vector<std::uint8_t>(p.value.payload.begin(), p.value.payload.end()), payload);
}

TEST(Tcp, SackRoomDependsOnTheOtherOptions) {
  TcpOptions o;
  EXPECT_EQ(o.sack_room(), 4u);
  o.timestamps = TcpTimestamps{};
  EXPECT_EQ(o.sack_room(), 3u);
}

TEST(Tcp, ChecksumCoversThePseudoHeader) {
  const auto bytes = emit(syn());
  EXPECT_TRUE(parse_tcp(bytes, kClient, kServer).ok());
  EXPECT_EQ(parse_tcp(bytes, kServer, kClient).error, WireError::ok) << "swapping src and dst keeps the sum";
  EXPECT_EQ(parse_tcp(bytes, kClient, Ipv4Address::of(198, 18, 0, 3)).error, WireError::bad_checksum);
  auto flipped = bytes;
  flipped[5] ^= 0x10;
  EXPECT_EQ(parse_tcp(flipped, kClient, kServer).error, WireError::bad_checksum);
}

TEST(Tcp, RejectsMalformedHeadersAndOptions) {
  auto bytes = emit(syn());
  EXPECT_EQ(parse_tcp(std::span(bytes).first(19), kClient, kServer, false).error, WireError::truncated);
  auto offset_small = bytes;
  offset_small[12] = 4 << 4;
  EXPECT_EQ(parse_tcp(offset_small, kClient, kServer, false).error, WireError::bad_header_length);
  auto offset_large = bytes;
  offset_large[12] = 15 << 4;  // 60 bytes claimed, 40 present
  EXPECT_EQ(parse_tcp(offset_large, kClient, kServer, false).error, WireError::truncated);

  auto with_options = [](std::vector<std::uint8_t> options) {
    while (options.size() % 4) options.push_back(0);
    std::vector<std::uint8_t> seg(20 + options.size(), 0);
    seg[12] = static_cast<std::uint8_t>((seg.size() / 4) << 4);
    std::copy(options.begin(), options.end(), seg.begin() + 20);
    return parse_tcp(seg, kClient, kServer, false);
  };
  EXPECT_EQ(with_options({2, 0, 1, 1}).error, WireError::bad_option) << "length 0";
  EXPECT_EQ(with_options({2, 1, 1, 1}).error, WireError::bad_option) << "length 1";
  EXPECT_EQ(with_options({2, 3, 5, 1}).error, WireError::bad_option) << "MSS of length 3";
  EXPECT_EQ(with_options({1, 1, 1, 2}).error, WireError::bad_option) << "kind with no length byte";
  EXPECT_EQ(with_options({8, 12, 0, 0, 0, 0, 0, 0}).error, WireError::bad_option) << "runs past the header";
  EXPECT_EQ(with_options({5, 7, 0, 0, 0, 0, 0, 1}).error, WireError::bad_option) << "SACK of 5 bytes";
  EXPECT_TRUE(with_options({0, 2, 0, 0}).ok()) << "EOL ends the list; what follows is not read";
  auto unknown = with_options({30, 4, 9, 9, 2, 4, 5, 180});
  ASSERT_TRUE(unknown.ok()) << "unknown kinds are skipped by length";
  EXPECT_EQ(unknown.value.header.options.mss, 1460);
}

TEST(Tcp, FlagsPrintInTcpdumpOrder) {
  EXPECT_EQ(flags_to_string(kSyn | kAck), "SYN,ACK");
  EXPECT_EQ(flags_to_string(kFin | kPsh | kAck), "FIN,PSH,ACK");
  EXPECT_EQ(flags_to_string(0), "");
}

// Garbled input never reads out of bounds (the asan preset runs this under
// AddressSanitizer) and whatever parses re-emits to the same header.
TEST(Tcp, RandomMutationsNeverBreakTheCodec) {
  RandomStream rng(1, "wire-fuzz");
  const std::vector<std::uint8_t> payload(37, 0x5a);
  TcpHeader base = syn();
  base.options.window_scale.reset();
  const auto valid = emit(base, payload);
  int parsed = 0;
  for (int i = 0; i < 100'000; ++i) {
    std::vector<std::uint8_t> b = valid;
    const auto flips = 1 + rng.below(4);
    for (std::uint64_t f = 0; f < flips; ++f) b[rng.below(b.size())] = static_cast<std::uint8_t>(rng.next_u32());
    b.resize(rng.below(b.size() + 1));
    const auto p = parse_tcp(b, kClient, kServer, false);
    if (!p.ok()) continue;
    ++parsed;
    TcpHeader h = p.value.header;
    h.options.sack_count =
        static_cast<std::uint8_t>(std::min<std::size_t>(h.options.sack_count, h.options.sack_room()));
    std::vector<std::uint8_t> again(h.header_size() + p.value.payload.size());
    emit_tcp(h, p.value.payload, kClient, kServer, again);
    const auto q = parse_tcp(again, kClient, kServer, true);
    ASSERT_TRUE(q.ok());
    ASSERT_EQ(q.value.header, h);
  }
  EXPECT_GT(parsed, 1'000);
  // Random IPv4 bytes likewise.
  for (int i = 0; i < 100'000; ++i) {
    std::vector<std::uint8_t> b(rng.below(64));
    for (auto& x : b) x = static_cast<std::uint8_t>(rng.next_u32());
    if (!b.empty()) b[0] = static_cast<std::uint8_t>(0x40 | (b[0] & 0x0f));
    const auto p = parse_ipv4(b, false);
    if (p.ok()) {
      ASSERT_LE(p.value.payload.size(), b.size());
    }
  }
}

}  // namespace
}  // namespace shakedown::wire
