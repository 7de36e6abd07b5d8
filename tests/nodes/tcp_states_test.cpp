// Tier 1: the bare core, one fixture per state of RFC 9293, segment in and segment out.
// Each row puts a connection in a state, hands it one segment, and checks the segment
// it answers with (or none) and the state it ends in — the transitions of 3.10.7.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nodes/tcp/connection.h"
#include "tcp_segments.h"

namespace shakedown::tcp {
inline void PrintTo(State s, std::ostream* os) { *os << to_string(s); }

namespace {

using namespace wire::tcp_flags;

constexpr std::uint32_t kIss = 1000;  // ours
constexpr std::uint32_t kIrs = 5000;  // the peer's
const TimePoint t0 = TimePoint::zero();

Config plain() {
  Config c;  // options off: the tables speak of sequence numbers only
  c.sack = false;
  c.timestamps = false;
  c.window_scaling = false;
  c.delayed_ack = Duration::zero();
  return c;
}

using testing::seg;

void drain(Connection& c, TimePoint now) {
  while (c.poll_transmit(now)) {
  }
  while (c.poll_event()) {
  }
}

// Drives a fresh connection into `s`. Our SYN is ISS 1000, the peer's ISN 5000; in the
// closing states our FIN is at 1001 and the peer's at 5001 (no data exchanged).
Connection in_state(State s) {
  Connection c(plain(), 40000, 80, kIss);
  const auto synack = [&] { c.on_segment(t0, seg(kIrs, kIss + 1, kSyn | kAck), 0); };
  switch (s) {
    case State::syn_sent:
      c.connect(t0);
      break;
    case State::syn_received:
      c.accept(t0, seg(kIrs, 0, kSyn));
      break;
    case State::established:
      c.connect(t0);
      drain(c, t0);
      synack();
      break;
    case State::fin_wait_1:
      c = in_state(State::established);
      c.close(t0);
      break;
    case State::fin_wait_2:
      c = in_state(State::fin_wait_1);
      drain(c, t0);
      c.on_segment(t0, seg(kIrs + 1, kIss + 2, kAck), 0);
      break;
    case State::close_wait:
      c = in_state(State::established);
      drain(c, t0);
      c.on_segment(t0, seg(kIrs + 1, kIss + 1, kFin | kAck), 0);
      break;
    case State::closing:
      c = in_state(State::fin_wait_1);
      drain(c, t0);
      c.on_segment(t0, seg(kIrs + 1, kIss + 1, kFin | kAck), 0);  // FIN, ours not yet acked
      break;
    case State::last_ack:
      c = in_state(State::close_wait);
      drain(c, t0);
      c.close(t0);
      break;
    case State::time_wait:
      c = in_state(State::fin_wait_2);
      drain(c, t0);
      c.on_segment(t0, seg(kIrs + 1, kIss + 2, kFin | kAck), 0);
      break;
    default:
      break;
  }
  drain(c, t0);
  EXPECT_EQ(c.state(), s) << "fixture";
  return c;
}

struct Reply {
  std::uint8_t flags;
  std::uint32_t seq;
  std::uint32_t ack;  // checked only when the reply has ACK
};

struct Row {
  std::string name;
  State state;
  wire::TcpHeader in;
  std::uint32_t payload = 0;
  std::optional<Reply> reply;  // nullopt: no answer at all
  State after;
};

// Sequence numbers, per state, once the fixture has run:
//   snd_nxt: SYN_SENT 1001; ESTABLISHED/CLOSE_WAIT 1001; after our FIN 1002.
//   rcv_nxt: 5001; after the peer's FIN 5002.
std::vector<Row> rows() {
  const std::uint32_t una = kIss + 1;  // our SYN acked
  const std::uint32_t fin_acked = kIss + 2;
  return {
      // --- SYN_SENT (3.10.7.3) --------------------------------------------------
      {"syn_sent/synack", State::syn_sent, seg(kIrs, una, kSyn | kAck), 0, Reply{kAck, una, kIrs + 1},
       State::established},
      {"syn_sent/simultaneous_syn", State::syn_sent, seg(kIrs, 0, kSyn), 0, Reply{kSyn | kAck, kIss, kIrs + 1},
       State::syn_received},
      {"syn_sent/bad_ack", State::syn_sent, seg(kIrs, 77, kSyn | kAck), 0, Reply{kRst, 77, 0}, State::syn_sent},
      {"syn_sent/rst_with_good_ack", State::syn_sent, seg(0, una, kRst | kAck), 0, std::nullopt, State::closed},
      {"syn_sent/rst_without_ack", State::syn_sent, seg(0, 0, kRst), 0, std::nullopt, State::syn_sent},
      {"syn_sent/bare_ack", State::syn_sent, seg(kIrs, una, kAck), 0, std::nullopt, State::syn_sent},
      // --- SYN_RECEIVED ---------------------------------------------------------
      {"syn_received/ack", State::syn_received, seg(kIrs + 1, una, kAck), 0, std::nullopt, State::established},
      {"syn_received/bad_ack", State::syn_received, seg(kIrs + 1, 9999, kAck), 0, Reply{kRst, 9999, 0},
       State::syn_received},
      {"syn_received/rst", State::syn_received, seg(kIrs + 1, 0, kRst), 0, std::nullopt, State::closed},
      {"syn_received/repeated_syn", State::syn_received, seg(kIrs, 0, kSyn), 0, Reply{kSyn | kAck, kIss, kIrs + 1},
       State::syn_received},
      {"syn_received/fin", State::syn_received, seg(kIrs + 1, una, kFin | kAck), 0, Reply{kAck, una, kIrs + 2},
       State::close_wait},
      // --- ESTABLISHED ----------------------------------------------------------
      {"established/data", State::established, seg(kIrs + 1, una, kAck | kPsh), 100, Reply{kAck, una, kIrs + 101},
       State::established},
      {"established/fin", State::established, seg(kIrs + 1, una, kFin | kAck), 0, Reply{kAck, una, kIrs + 2},
       State::close_wait},
      {"established/rst_exact", State::established, seg(kIrs + 1, 0, kRst), 0, std::nullopt, State::closed},
      {"established/rst_in_window", State::established, seg(kIrs + 500, 0, kRst), 0, Reply{kAck, una, kIrs + 1},
       State::established},
      {"established/rst_outside", State::established, seg(kIrs + 100'000, 0, kRst), 0, std::nullopt,
       State::established},
      {"established/syn", State::established, seg(kIrs + 1, 0, kSyn), 0, Reply{kAck, una, kIrs + 1},
       State::established},
      {"established/old_segment", State::established, seg(kIrs - 200, una, kAck), 100, Reply{kAck, una, kIrs + 1},
       State::established},
      {"established/future_ack", State::established, seg(kIrs + 1, una + 5000, kAck), 0, Reply{kAck, una, kIrs + 1},
       State::established},
      {"established/ancient_ack", State::established, seg(kIrs + 1, una - 200'000, kAck), 10,
       Reply{kAck, una, kIrs + 1}, State::established},
      {"established/no_ack_flag", State::established, seg(kIrs + 1, 0, kPsh), 100, std::nullopt, State::established},
      // --- FIN_WAIT_1 -----------------------------------------------------------
      {"fin_wait_1/ack_of_fin", State::fin_wait_1, seg(kIrs + 1, fin_acked, kAck), 0, std::nullopt, State::fin_wait_2},
      {"fin_wait_1/fin", State::fin_wait_1, seg(kIrs + 1, una, kFin | kAck), 0, Reply{kAck, fin_acked, kIrs + 2},
       State::closing},
      {"fin_wait_1/fin_and_ack", State::fin_wait_1, seg(kIrs + 1, fin_acked, kFin | kAck), 0,
       Reply{kAck, fin_acked, kIrs + 2}, State::time_wait},
      {"fin_wait_1/rst", State::fin_wait_1, seg(kIrs + 1, 0, kRst), 0, std::nullopt, State::closed},
      {"fin_wait_1/syn", State::fin_wait_1, seg(kIrs + 1, 0, kSyn), 0, Reply{kAck, fin_acked, kIrs + 1},
       State::fin_wait_1},
      // --- FIN_WAIT_2 -----------------------------------------------------------
      {"fin_wait_2/fin", State::fin_wait_2, seg(kIrs + 1, fin_acked, kFin | kAck), 0, Reply{kAck, fin_acked, kIrs + 2},
       State::time_wait},
      {"fin_wait_2/rst", State::fin_wait_2, seg(kIrs + 1, 0, kRst), 0, std::nullopt, State::closed},
      {"fin_wait_2/syn", State::fin_wait_2, seg(kIrs + 1, 0, kSyn), 0, Reply{kAck, fin_acked, kIrs + 1},
       State::fin_wait_2},
      // --- CLOSE_WAIT -----------------------------------------------------------
      {"close_wait/repeated_fin", State::close_wait, seg(kIrs + 1, una, kFin | kAck), 0, Reply{kAck, una, kIrs + 2},
       State::close_wait},
      {"close_wait/rst", State::close_wait, seg(kIrs + 2, 0, kRst), 0, std::nullopt, State::closed},
      {"close_wait/syn", State::close_wait, seg(kIrs + 2, 0, kSyn), 0, Reply{kAck, una, kIrs + 2}, State::close_wait},
      // --- CLOSING --------------------------------------------------------------
      {"closing/ack_of_fin", State::closing, seg(kIrs + 2, fin_acked, kAck), 0, std::nullopt, State::time_wait},
      {"closing/rst", State::closing, seg(kIrs + 2, 0, kRst), 0, std::nullopt, State::closed},
      // --- LAST_ACK -------------------------------------------------------------
      {"last_ack/ack_of_fin", State::last_ack, seg(kIrs + 2, fin_acked, kAck), 0, std::nullopt, State::closed},
      {"last_ack/rst", State::last_ack, seg(kIrs + 2, 0, kRst), 0, std::nullopt, State::closed},
      {"last_ack/repeated_fin", State::last_ack, seg(kIrs + 1, una, kFin | kAck), 0, Reply{kAck, fin_acked, kIrs + 2},
       State::last_ack},
      // --- TIME_WAIT ------------------------------------------------------------
      {"time_wait/repeated_fin", State::time_wait, seg(kIrs + 1, fin_acked, kFin | kAck), 0,
       Reply{kAck, fin_acked, kIrs + 2}, State::time_wait},
      {"time_wait/rst", State::time_wait, seg(kIrs + 2, 0, kRst), 0, std::nullopt, State::closed},
      {"time_wait/syn", State::time_wait, seg(kIrs + 2, 0, kSyn), 0, Reply{kAck, fin_acked, kIrs + 2},
       State::time_wait},
  };
}

void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

class StateTable : public ::testing::TestWithParam<Row> {};

TEST_P(StateTable, SegmentInSegmentOut) {
  const Row& row = GetParam();
  Connection c = in_state(row.state);
  const TimePoint now = t0 + 1_ms;
  c.on_segment(now, row.in, row.payload);
  std::vector<Transmit> out;
  while (auto t = c.poll_transmit(now)) out.push_back(*t);
  // Data a test pushes in first is never the subject; a reply is the first segment.
  if (!row.reply) {
    EXPECT_TRUE(out.empty()) << "answered with " << wire::flags_to_string(out[0].header.flags);
  } else {
    ASSERT_FALSE(out.empty()) << "no answer";
    EXPECT_EQ(wire::flags_to_string(out[0].header.flags), wire::flags_to_string(row.reply->flags));
    EXPECT_EQ(out[0].header.seq, row.reply->seq);
    if (row.reply->flags & kAck) {
      EXPECT_EQ(out[0].header.ack, row.reply->ack);
    }
  }
  EXPECT_EQ(c.state(), row.after);
}

INSTANTIATE_TEST_SUITE_P(Rfc9293, StateTable, ::testing::ValuesIn(rows()), [](const ::testing::TestParamInfo<Row>& p) {
  std::string n = p.param.name;
  for (char& ch : n)
    if (ch == '/') ch = '_';
  return n;
});

TEST(StateFixtures, TimeWaitLastsTwoMslAndTheTimerIsTheOnlyOne) {
  Connection c = in_state(State::time_wait);
  EXPECT_EQ(c.next_deadline(), t0 + 60_s);
  c.on_timeout(t0 + 60_s);
  EXPECT_EQ(c.state(), State::closed);
  EXPECT_EQ(c.next_deadline(), TimePoint::max());
}

TEST(StateFixtures, ZeroLengthTimeWaitAcknowledgesTheFinThenClosesAtOnce) {
  Config cfg = plain();
  cfg.msl = Duration::zero();
  Connection c(cfg, 40000, 80, kIss);
  c.connect(t0);
  drain(c, t0);
  c.on_segment(t0, seg(kIrs, kIss + 1, kSyn | kAck), 0);
  c.close(t0);
  drain(c, t0);
  c.on_segment(t0, seg(kIrs + 1, kIss + 2, kFin | kAck), 0);
  EXPECT_EQ(c.state(), State::time_wait);
  EXPECT_EQ(c.next_deadline(), t0) << "due in this same instant";
  const auto ack = c.poll_transmit(t0);
  ASSERT_TRUE(ack.has_value()) << "the peer's FIN is acknowledged, or it retransmits it";
  EXPECT_EQ(ack->header.ack, kIrs + 2);
  c.on_timeout(t0);
  EXPECT_EQ(c.state(), State::closed);
}

}  // namespace
}  // namespace shakedown::tcp
