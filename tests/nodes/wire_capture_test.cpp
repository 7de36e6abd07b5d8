// What the codecs emit is what Wireshark sees: a handshake, data and a teardown written
// to a capture and decoded by tshark, field by field, checksums validated.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "emulator/pcap.h"
#include "nodes/wire/ipv4.h"
#include "nodes/wire/tcp.h"
#include "support/files.h"

namespace shakedown::wire {
namespace {

using namespace tcp_flags;

std::vector<std::uint8_t> datagram(Ipv4Address src, Ipv4Address dst, const TcpHeader& tcp,
                                   std::span<const std::uint8_t> payload = {}) {
  std::vector<std::uint8_t> out(kIpv4HeaderSize + tcp.header_size() + payload.size());
  const std::size_t n = emit_tcp(tcp, payload, src, dst, std::span(out).subspan(kIpv4HeaderSize));
  Ipv4Header ip;
  ip.src = src;
  ip.dst = dst;
  emit_ipv4(ip, static_cast<std::uint16_t>(n), out);
  return out;
}

TEST(WireCapture, TsharkDecodesEveryFieldAndValidatesChecksums) {
  if (!testing::have_tshark()) GTEST_SKIP() << "tshark not installed";
  testing::TempDir dir;
  const std::string path = dir.file("handshake.pcap");
  const Ipv4Address c = Ipv4Address::of(198, 18, 0, 1), s = Ipv4Address::of(198, 18, 0, 2);
  const std::vector<std::uint8_t> data(100, 'x');
  {
    PcapWriter w(path);
    TcpHeader syn;
    syn.src_port = 40000;
    syn.dst_port = 80;
    syn.seq = 1000;
    syn.flags = kSyn;
    syn.window = 64240;
    syn.options.mss = 1460;
    syn.options.sack_permitted = true;
    syn.options.timestamps = TcpTimestamps{111, 0};
    syn.options.window_scale = 7;
    w.write(TimePoint::zero(), datagram(c, s, syn));

    TcpHeader synack = syn;
    std::swap(synack.src_port, synack.dst_port);
    synack.seq = 5000;
    synack.ack = 1001;
    synack.flags = kSyn | kAck;
    synack.options.timestamps = TcpTimestamps{222, 111};
    w.write(TimePoint::zero() + Duration::milliseconds(10), datagram(s, c, synack));

    TcpHeader ack;
    ack.src_port = 40000;
    ack.dst_port = 80;
    ack.seq = 1001;
    ack.ack = 5001;
    ack.flags = kAck | kPsh;
    ack.window = 502;
    ack.options.timestamps = TcpTimestamps{112, 222};
    w.write(TimePoint::zero() + Duration::milliseconds(20), datagram(c, s, ack, data));

    TcpHeader sack;
    sack.src_port = 80;
    sack.dst_port = 40000;
    sack.seq = 5001;
    sack.ack = 1101;
    sack.flags = kAck;
    sack.window = 509;
    sack.options.timestamps = TcpTimestamps{223, 112};
    sack.options.sack_count = 1;
    sack.options.sack[0] = SackBlock{2000, 3000};
    w.write(TimePoint::zero() + Duration::milliseconds(30), datagram(s, c, sack));

    TcpHeader fin = ack;
    fin.seq = 1101;
    fin.flags = kFin | kAck;
    w.write(TimePoint::zero() + Duration::milliseconds(40), datagram(c, s, fin));
  }
  const auto out = testing::tshark_fields(
      path,
      "-o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -o tcp.relative_sequence_numbers:FALSE -T fields "
      "-E separator=, -e tcp.flags -e tcp.seq -e tcp.ack -e tcp.len -e tcp.options.mss_val "
      "-e tcp.options.wscale.shift -e tcp.options.sack_perm -e tcp.options.timestamp.tsval "
      "-e tcp.options.timestamp.tsecr -e tcp.options.sack_le -e tcp.options.sack_re -e tcp.checksum.status "
      "-e ip.checksum.status");
  ASSERT_EQ(out.size(), 5u);
  // Checksum status 1 is Wireshark's "Good" (0 is "Bad"). sack_perm is the raw option.
  EXPECT_EQ(out[0], "0x0002,1000,0,0,1460,7,0402,111,0,,,1,1");
  EXPECT_EQ(out[1], "0x0012,5000,1001,0,1460,7,0402,222,111,,,1,1");
  EXPECT_EQ(out[2], "0x0018,1001,5001,100,,,,112,222,,,1,1");
  EXPECT_EQ(out[3], "0x0010,5001,1101,0,,,,223,112,2000,3000,1,1");
  EXPECT_EQ(out[4], "0x0011,1101,5001,0,,,,112,222,,,1,1");
}

}  // namespace
}  // namespace shakedown::wire
