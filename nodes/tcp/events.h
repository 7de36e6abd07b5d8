// What a connection reports to its host, for the application and for the traces.
#pragma once

#include <cstdint>

#include "emulator/time.h"
#include "nodes/tcp/state.h"
#include "nodes/tcp/timers.h"

namespace shakedown::tcp {

enum class SegmentKind : std::uint8_t { syn, syn_ack, data, fin, rst, ack };

// Why a segment was sent again.
// `unknown`: a real host's, inferred from what crossed its link (its timers are not seen).
enum class RetransmitCause : std::uint8_t { timeout, fast_retransmit, partial_ack, sack, duplicate_syn, unknown };

enum class EventKind : std::uint8_t {
  state_changed,   // from -> to
  retransmission,  // kind, sequence number and cause of what was sent again
  recovery,        // fast recovery began (bytes = cwnd after the reduction)
  timer_fired,     // timer
  timer_set,       // timer armed for `deadline` (only with Config::report_timer_sets)
  rtt_sample,      // rtt, and the new rto
  data_received,   // `bytes` new in-order bytes are readable
  peer_closed,     // the peer's FIN arrived: no more data will come
  reset,           // an acceptable RST arrived: the connection is gone
  refused,         // our SYN was answered with RST: nothing listens there (RFC 9293
                   // 3.10.7.3, and 3.10.7.4 second for an active open in SYN_RECEIVED)
  timed_out,       // retransmissions ran out: the connection is gone
  closed,          // reached CLOSED by the normal path
};

struct Event {
  EventKind kind;
  TimePoint time;
  State from = State::closed;
  State to = State::closed;
  SegmentKind segment = SegmentKind::ack;
  RetransmitCause cause = RetransmitCause::timeout;
  Timer timer = Timer::retransmission;
  std::uint32_t seq = 0;
  std::uint64_t bytes = 0;
  Duration rtt;
  Duration rto;
  TimePoint deadline = TimePoint::max();
};

}  // namespace shakedown::tcp
