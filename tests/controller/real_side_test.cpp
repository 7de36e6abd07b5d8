// A real host's side inferred from the segments at its device (controller/real_side.h),
// without Linux: each case is the segments a real stack sends and is handed, as a
// table of calls, and the side the recorder made of them.
#include "controller/real_side.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "controller/build.h"
#include "nodes/wire/ipv4.h"
#include "nodes/wire/tcp.h"
#include "topologies/loader.h"

namespace shakedown::controller {
namespace {

using namespace wire::tcp_flags;

constexpr std::int64_t kMs = 1'000'000;

struct Inferred : ::testing::Test {
  topology::Topology topo = topology::load_string(
      "name: inferred\nhosts:\n  a: {}\n  linux: {real: {netns: sd-inferred}}\nrouters: [r]\n"
      "links:\n  - {ends: [a, r]}\n  - {ends: [r, linux]}\n");
  Engine engine;
  PacketPool pool;
  Built built{engine, pool, topo};
  Recorder recorder{topo, built.network, "", 0};
  RealSide real{recorder};
  std::uint32_t linux_node = 1;
  wire::Ipv4Address linux_address = built.network.address(1), a_address = built.network.address(0);
  std::uint16_t linux_port = 40000, a_port = 80;

  void SetUp() override {
    ASSERT_EQ(built.network.name(1), "linux");
    recorder.keep_timelines();
  }

  // One segment between linux and a; `corrupt` flips a payload bit after the checksum.
  std::vector<std::uint8_t> segment(bool from_linux, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                                    std::uint32_t length = 0, bool corrupt = false) const {
    wire::TcpHeader th;
    th.src_port = from_linux ? linux_port : a_port;
    th.dst_port = from_linux ? a_port : linux_port;
    th.seq = seq;
    th.ack = ack;
    th.flags = flags;
    th.window = 65535;
    const std::size_t tcp_size = th.header_size() + length;
    std::vector<std::uint8_t> p(wire::kIpv4HeaderSize + tcp_size, 0);
    const std::span<std::uint8_t> bytes(p);
    const auto tcp_bytes = bytes.subspan(wire::kIpv4HeaderSize);
    wire::Ipv4Header ip;
    ip.src = from_linux ? linux_address : a_address;
    ip.dst = from_linux ? a_address : linux_address;
    wire::emit_tcp(th, tcp_bytes.subspan(th.header_size()), ip.src, ip.dst, tcp_bytes);
    wire::emit_ipv4(ip, static_cast<std::uint16_t>(tcp_size), bytes);
    if (corrupt) p.back() ^= 1;
    return p;
  }
  void sends(std::int64_t t, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint32_t length = 0) {
    real.sent(linux_node, t, segment(true, seq, ack, flags, length));
  }
  void gets(std::int64_t t, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint32_t length = 0,
            bool corrupt = false) {
    real.delivered(linux_node, t, segment(false, seq, ack, flags, length, corrupt));
  }

  const Side& linux_side() const {
    const auto& rows = recorder.connections();
    EXPECT_EQ(rows.size(), 1u);
    for (const Side& s : rows.at(0).side)
      if (s.host == linux_node && s.has_conn) return s;
    ADD_FAILURE() << "no side for linux";
    return rows.at(0).side[0];
  }
  std::string states() const {
    std::string out;
    for (const auto& [t, st] : linux_side().timeline) {
      if (!out.empty()) out += ' ';
      out += tcp::to_string(st);
    }
    return out;
  }
};

// An active open with its SYN sent twice, data with one retransmission, the peer's
// data, and the active close: FIN_WAIT_2 when the FIN's ACK is handed to it, TIME_WAIT
// when the peer's FIN is (with everything before it).
TEST_F(Inferred, ActiveOpenAndClose) {
  sends(0, 1000, 0, kSyn);
  sends(1000 * kMs, 1000, 0, kSyn);
  gets(1020 * kMs, 5000, 1001, kSyn | kAck);
  sends(1021 * kMs, 1001, 5001, kAck);
  sends(1022 * kMs, 1001, 5001, kAck | kPsh, 100);
  sends(1023 * kMs, 1101, 5001, kAck | kPsh, 100);
  sends(1300 * kMs, 1001, 5001, kAck | kPsh, 100);
  gets(1320 * kMs, 5001, 1201, kAck | kPsh, 50);
  sends(1321 * kMs, 1201, 5051, kAck);
  sends(1400 * kMs, 1201, 5051, kAck | kFin);
  EXPECT_EQ(states(), "SYN_SENT ESTABLISHED FIN_WAIT_1");
  gets(1420 * kMs, 5051, 1202, kAck);
  EXPECT_EQ(states(), "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2");
  gets(1430 * kMs, 5051, 1202, kAck | kFin);
  sends(1431 * kMs, 1202, 5052, kAck);
  const Side& s = linux_side();
  EXPECT_EQ(states(), "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
  EXPECT_EQ(s.isn, 1000u);
  EXPECT_EQ(s.syn_sent, 0);
  EXPECT_EQ(s.established, 1021 * kMs);
  EXPECT_EQ(s.time_wait_entered, 1430 * kMs);
  EXPECT_EQ(s.retransmissions[kRetransmitSyn], 1u);
  EXPECT_EQ(s.retransmissions[kRetransmitData], 1u);
  EXPECT_EQ(s.bytes_sent, 200u);
  EXPECT_EQ(s.bytes_on_wire, 300u);
  EXPECT_EQ(s.bytes_received, 50u);  // what its ACKs cover; the FIN is no byte
  EXPECT_EQ(s.outcome, Outcome::completed);  // its exchange of FINs is done
}

// A passive open and close: SYN_RECEIVED when it answers (syn_received when the SYN
// was handed to it), ESTABLISHED on the ACK, CLOSE_WAIT when it ACKs the peer's FIN,
// LAST_ACK with its own, CLOSED when that is acknowledged. A corrupted segment (which
// Linux drops unread) changes nothing.
TEST_F(Inferred, PassiveOpenAndClose) {
  gets(0, 7000, 0, kSyn);
  sends(1 * kMs, 3000, 7001, kSyn | kAck);
  gets(20 * kMs, 7001, 3001, kAck);
  gets(30 * kMs, 7001, 3001, kAck | kFin, 0, /*corrupt=*/true);
  gets(31 * kMs, 7001, 3001, kAck | kPsh | kFin, 10, /*corrupt=*/true);
  EXPECT_EQ(states(), "SYN_RECEIVED ESTABLISHED");
  gets(40 * kMs, 7001, 3001, kAck | kFin);
  sends(41 * kMs, 3001, 7002, kAck);
  sends(50 * kMs, 3001, 7002, kAck | kFin);
  sends(250 * kMs, 3001, 7002, kAck | kFin);  // the FIN again
  gets(260 * kMs, 7002, 3002, kAck);
  const Side& s = linux_side();
  EXPECT_EQ(states(), "SYN_RECEIVED ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
  EXPECT_EQ(s.syn_received, 0);
  EXPECT_EQ(s.synack_sent, 1 * kMs);
  EXPECT_EQ(s.retransmissions[kRetransmitFin], 1u);
  EXPECT_EQ(s.closed, 260 * kMs);
  EXPECT_EQ(s.outcome, Outcome::completed);
}

// A simultaneous close: its FIN leaves, then the peer's FIN (not acknowledging its
// own) is handed to it — CLOSING — then the ACK of its FIN — TIME_WAIT; even when its
// ACK of the peer's FIN is read from the device after that ACK was handed to it.
TEST_F(Inferred, SimultaneousClose) {
  sends(0, 1000, 0, kSyn);
  gets(20 * kMs, 5000, 1001, kSyn | kAck);
  sends(21 * kMs, 1001, 5001, kAck);
  sends(22 * kMs, 1001, 5001, kAck | kFin);
  gets(40 * kMs, 5001, 1001, kAck | kFin);
  gets(41 * kMs, 5002, 1002, kAck);
  sends(42 * kMs, 1002, 5002, kAck);
  EXPECT_EQ(states(), "SYN_SENT ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT");
  EXPECT_EQ(linux_side().time_wait_entered, 41 * kMs);
}

// A FIN handed beyond a hole is taken when the hole fills (Linux holds it until then),
// and not before.
TEST_F(Inferred, AFinBeyondAHoleWaitsForIt) {
  gets(0, 7000, 0, kSyn);
  sends(1 * kMs, 3000, 7001, kSyn | kAck);
  gets(20 * kMs, 7001, 3001, kAck | kPsh, 100);
  gets(21 * kMs, 7201, 3001, kAck | kFin);
  sends(22 * kMs, 3001, 7101, kAck);
  EXPECT_EQ(states(), "SYN_RECEIVED ESTABLISHED");
  gets(30 * kMs, 7101, 3001, kAck | kPsh, 100);
  EXPECT_EQ(states(), "SYN_RECEIVED ESTABLISHED CLOSE_WAIT");
  EXPECT_EQ(linux_side().fin_received, 21 * kMs);
}

// A RST resets only at the sequence number it expects next (RFC 5961 3.2); one
// elsewhere in the window draws a challenge ACK from Linux and changes nothing.
TEST_F(Inferred, ResetOnlyAtTheExpectedSequenceNumber) {
  gets(0, 7000, 0, kSyn);
  sends(1 * kMs, 3000, 7001, kSyn | kAck);
  gets(20 * kMs, 7001, 3001, kAck | kPsh, 100);
  sends(21 * kMs, 3001, 7101, kAck);
  gets(30 * kMs, 7151, 0, kRst);
  EXPECT_EQ(states(), "SYN_RECEIVED ESTABLISHED");
  gets(40 * kMs, 7101, 0, kRst);
  EXPECT_EQ(states(), "SYN_RECEIVED ESTABLISHED CLOSED");
  EXPECT_EQ(linux_side().outcome, Outcome::reset);
  EXPECT_EQ(linux_side().bytes_received, 100u);
}

// A RST handed to it in TIME_WAIT (its peer, already CLOSED, answering a stray
// segment) cuts TIME_WAIT short — Linux's default — and the connection still ended
// normally: closed, as RFC 9293 3.10.7.4 and shakedown's own TCP have it, not reset.
TEST_F(Inferred, ARstInTimeWaitEndsItClosedNotReset) {
  sends(0, 1000, 0, kSyn);
  gets(20 * kMs, 5000, 1001, kSyn | kAck);
  sends(21 * kMs, 1001, 5001, kAck);
  sends(22 * kMs, 1001, 5001, kAck | kFin);
  gets(42 * kMs, 5001, 1002, kAck | kFin);
  sends(43 * kMs, 1002, 5002, kAck);
  EXPECT_EQ(states(), "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
  gets(300 * kMs, 5002, 0, kRst);
  EXPECT_EQ(states(), "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED");
  EXPECT_EQ(linux_side().outcome, Outcome::completed);
  EXPECT_EQ(linux_side().closed, 300 * kMs);
  EXPECT_EQ(recorder.connections().at(0).outcome(), Outcome::completed);
}

// A SYN it answers with RST (nothing listens) makes no side; a SYN of its own that is
// refused ends as refused.
TEST_F(Inferred, RefusedBothWays) {
  gets(0, 7000, 0, kSyn);
  sends(1 * kMs, 0, 7001, kRst | kAck);
  EXPECT_TRUE(recorder.connections().empty());
  sends(10 * kMs, 1000, 0, kSyn);
  gets(30 * kMs, 0, 1001, kRst | kAck);
  EXPECT_EQ(states(), "SYN_SENT CLOSED");
  EXPECT_EQ(linux_side().outcome, Outcome::refused);
}

// Its RST ends its side as reset.
TEST_F(Inferred, ItsOwnReset) {
  sends(0, 1000, 0, kSyn);
  gets(20 * kMs, 5000, 1001, kSyn | kAck);
  sends(21 * kMs, 1001, 5001, kAck);
  sends(30 * kMs, 1001, 5001, kRst | kAck);
  EXPECT_EQ(states(), "SYN_SENT ESTABLISHED CLOSED");
  EXPECT_EQ(linux_side().outcome, Outcome::reset);
}

}  // namespace
}  // namespace shakedown::controller
