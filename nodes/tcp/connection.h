// One TCP connection: a pure state machine (ARCHITECTURE rule 3, STYLE rule 1).
//
// Calling protocol (sans-IO, after quinn-proto and smoltcp):
//   inputs    on_segment(now, header, length)    a segment for this connection's 4-tuple
//             on_timeout(now)                    when now >= next_deadline()
//   commands  connect(now) | accept(now, syn)    open actively | from a listener's SYN
//             send(bytes), shutdown(now), close(now), abort(now)
//   outputs   poll_transmit(now)                 segments to send, until it returns nothing
//             next_deadline()                    when to call on_timeout next
//             poll_event()                       state changes, retransmissions, timer
//                                                firings, RTT samples, data, closure
// `now` never goes backwards. After any input or command the host drains
// poll_transmit() and poll_event(), then arms one engine wake-up at next_deadline().
// Nothing here reads a clock, touches a link, schedules an event or prints.
//
// The send stream is virtual: send(n) appends n bytes, and a transmitted segment names
// the stream offset and length of its payload; the host fills the bytes (from the
// application, or generated from (connection, offset) for bulk workloads). Received
// payload is handed over the same way: in order, by count.
//
// What it implements, in brief (docs/tcp.md has the whole list): every transition of
// RFC 9293 3.10 with RFC 5961's challenge ACKs; RFC 6298 retransmission; fast
// retransmit and recovery (RFC 5681, RFC 6582) or, with SACK, RFC 6675; Reno, NewReno
// and CUBIC; delayed ACKs, Nagle, silly-window avoidance on both sides; window
// scaling, timestamps and PAWS (RFC 7323); flow control with zero-window probes;
// keepalive; the two-way handshake as a teaching variant.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "emulator/time.h"
#include "nodes/tcp/config.h"
#include "nodes/tcp/events.h"
#include "nodes/tcp/ranges.h"
#include "nodes/tcp/rtt.h"
#include "nodes/tcp/scoreboard.h"
#include "nodes/tcp/seq.h"
#include "nodes/tcp/state.h"
#include "nodes/tcp/timers.h"
#include "nodes/wire/tcp.h"

namespace shakedown::tcp {

// A segment to put on the wire: the header, and which bytes of the send stream to
// carry as payload (the host copies or generates them).
struct Transmit {
  wire::TcpHeader header;
  std::uint64_t stream_offset = 0;
  std::uint32_t length = 0;
  SegmentKind kind = SegmentKind::ack;
  bool retransmission = false;
};

class Connection {
 public:
  Connection(const Config& config, std::uint16_t local_port, std::uint16_t remote_port, std::uint32_t iss);

  // --- commands -------------------------------------------------------------------------
  // CLOSED -> SYN_SENT (RFC 9293 3.10.1, active OPEN).
  void connect(TimePoint now);
  // A listener received this SYN: CLOSED -> SYN_RECEIVED (3.10.7.2), or ESTABLISHED
  // in the two-way handshake variant.
  void accept(TimePoint now, const wire::TcpHeader& syn);
  // Appends bytes to the send stream. Ignored once the send side is shut.
  void send(std::uint64_t bytes);
  // The application read this many received bytes (with Config::application_reads);
  // the window reopens, and a window update goes out when it grew enough.
  void read(std::uint64_t bytes);
  std::uint64_t unread() const { return unread_; }
  // No more data will be sent: a FIN follows the queued data (half-close).
  void shutdown(TimePoint now);
  // The application is done with the connection: shutdown, and an orphaned
  // FIN_WAIT_2 will time out (Linux tcp_fin_timeout).
  void close(TimePoint now);
  // Sends RST (in synchronized states) and goes to CLOSED at once (3.10.5).
  void abort(TimePoint now);

  // --- inputs ---------------------------------------------------------------------------
  void on_segment(TimePoint now, const wire::TcpHeader& header, std::uint32_t payload_length);
  void on_timeout(TimePoint now);

  // --- outputs --------------------------------------------------------------------------
  std::optional<Transmit> poll_transmit(TimePoint now);
  std::optional<Event> poll_event();
  TimePoint next_deadline() const { return timers_.next(); }

  // --- inspection -----------------------------------------------------------------------
  State state() const { return state_; }
  std::uint16_t local_port() const { return local_port_; }
  std::uint16_t remote_port() const { return remote_port_; }
  Seq iss() const { return iss_; }
  Seq irs() const { return irs_; }  // meaningful once the peer's SYN arrived
  Seq snd_una() const { return snd_una_; }
  Seq snd_nxt() const { return snd_nxt_; }
  Seq rcv_nxt() const { return rcv_nxt_; }
  Duration rto() const { return rtt_.rto(); }
  std::uint64_t bytes_received() const { return bytes_received_; }
  // The part of the last segment's payload this connection took into its receive
  // queue, in order or out of order: `length` bytes starting `skip` bytes into the
  // payload. Zero length when it took none — a duplicate, a segment refused by the
  // acceptability test or by PAWS, a segment with no data.
  struct Taken {
    std::uint32_t skip = 0;
    std::uint32_t length = 0;
  };
  Taken last_taken() const { return last_taken_; }
  std::uint64_t bytes_acked() const;
  const TimerTable& timers() const { return timers_; }
  const CongestionControl& congestion() const { return *cc_; }
  bool in_recovery() const { return in_recovery_; }
  bool sack_enabled() const { return sack_ok_; }
  // RFC 6675's estimate of bytes in the network (meaningful during SACK recovery).
  std::uint64_t pipe_estimate() const { return pipe(); }
  bool timestamps_enabled() const { return ts_ok_; }
  bool window_scaling_enabled() const { return ws_ok_; }
  std::uint32_t send_window_limit() const { return snd_wnd_; }
  std::uint16_t peer_mss() const { return peer_mss_; }

 private:
  // Sequence space: ISS is the SYN; stream byte k is ISS + 1 + k; the FIN follows.
  Seq data_seq(std::uint64_t offset) const { return iss_ + 1 + static_cast<std::uint32_t>(offset); }
  Seq data_end() const { return data_seq(app_bytes_); }
  // Only a FIN occupies the number after the last data byte, so an ACK beyond it
  // acknowledges the FIN, whether or not the FIN is being retransmitted right now.
  bool fin_acked() const { return fin_requested_ && snd_una_ > data_end(); }

  // Every state change goes through here: it reports the change, then does what
  // entering the state means (STYLE rule 4: classify, transition, act). Into CLOSED,
  // `why` is the event that says how the connection ended.
  void transition(TimePoint now, State to, EventKind why = EventKind::closed);
  void emit(Event e) { events_.push_back(e); }
  // A RST with this sequence number goes out next (RFC 9293 3.10.7.1, 3.10.5).
  void queue_rst(Seq seq) {
    rst_pending_ = true;
    rst_seq_ = seq;
  }
  // Arms a timer, and reports it when asked to (Config::report_timer_sets).
  void set_timer(Timer t, TimePoint now, Duration after) {
    timers_.set(t, now + after);
    if (config_.report_timer_sets) {
      Event e{EventKind::timer_set, now};
      e.timer = t;
      e.deadline = now + after;
      emit(e);
    }
  }

  // Receive path (connection_rx.cpp), in the order of RFC 9293 3.10.7.
  void segment_in_syn_sent(TimePoint now, const wire::TcpHeader& h, std::uint32_t length);
  bool acceptable(Seq seq, std::uint32_t length) const;
  void process_rst(TimePoint now, Seq seq);
  bool process_ack(TimePoint now, const wire::TcpHeader& h, std::uint32_t length);
  void on_new_ack(TimePoint now, Seq ack, std::uint32_t acked, const wire::TcpHeader& h);
  void sample_from_ack(TimePoint now, const wire::TcpHeader& h);
  void handshake_done();
  bool paws_rejects(const wire::TcpHeader& h, std::uint32_t length) const;
  void negotiate(const wire::TcpOptions& peer, bool we_offered);
  std::uint32_t peer_window(const wire::TcpHeader& h) const;
  std::uint32_t rcv_wnd() const;
  std::uint32_t buffer_limit() const;
  // What is left of the window last advertised: from RCV.NXT to its right edge.
  std::uint32_t offered_remaining() const {
    const std::int64_t remaining = rcv_adv_ - rcv_nxt_;
    return remaining > 0 ? static_cast<std::uint32_t>(remaining) : 0;
  }
  std::uint8_t offered_wscale() const;
  std::uint32_t ts_now(TimePoint now) const;
  void decorate(Transmit& t, TimePoint now) const;
  void on_duplicate_ack(TimePoint now);
  std::uint64_t unwrap(Seq s) const { return board_.unwrap(s, snd_una_); }
  void advance_una(Seq ack);
  // RFC 6675: the scoreboard's view of what is lost and what is in the network.
  bool sack_recovery() const { return in_recovery_ && sack_ok_; }
  std::uint64_t lost_below() const {  // every unSACKed byte below this is lost (IsLost)
    return board_.lost_below(data_mss(), static_cast<std::uint64_t>(config_.dupack_threshold));
  }
  std::uint64_t pipe() const {  // SetPipe
    return board_.pipe(unwrap(snd_max_), data_mss(), static_cast<std::uint64_t>(config_.dupack_threshold));
  }
  void enter_recovery(TimePoint now);
  void process_text_and_fin(TimePoint now, const wire::TcpHeader& h, std::uint32_t length);
  void update_window(const wire::TcpHeader& h);
  void deliver_in_order(TimePoint now);
  void take_fin(TimePoint now);

  // Send path and timers (connection_tx.cpp).
  Transmit make(SegmentKind kind, Seq seq, std::uint8_t flags) const;
  void arm_retransmission(TimePoint now);
  void ack_sent();
  void note_advertised(const Transmit& t);
  void on_keepalive_timeout(TimePoint now);
  void heard_from_peer(TimePoint now);
  void on_retransmission_timeout(TimePoint now);
  void sample_rtt(TimePoint now, Duration rtt);  // and report it
  std::uint32_t send_window() const;
  // RFC 9293 3.7.1: the effective send MSS is the smaller of ours and the peer's, less
  // the TCP options every segment carries (timestamps: 12 bytes). Linux sends 1448-byte
  // segments on a 1500-byte MTU with timestamps for the same reason.
  std::uint32_t data_mss() const {
    const std::uint32_t mss = std::min<std::uint32_t>(config_.mss, peer_mss_);
    return ts_ok_ ? mss - 12 : mss;
  }
  bool sack_next_segment();

  Config config_;
  std::uint16_t local_port_;
  std::uint16_t remote_port_;
  State state_ = State::closed;
  bool passive_ = false;
  bool opened_ = false;  // connect() or accept() happened: a connection opens once
  bool syn_reply_ = false;  // the next SYN-ACK answers a simultaneous open

  // RFC 9293 3.3.1 send and receive variables.
  Seq iss_;
  Seq snd_una_;
  Seq snd_nxt_;
  Seq snd_max_;  // highest sequence number sent so far (snd_nxt rewinds on timeout)
  std::uint32_t snd_wnd_ = 0;
  std::uint32_t max_snd_wnd_ = 0;  // largest window the peer has offered
  Seq snd_wl1_;
  Seq snd_wl2_;
  Seq irs_;
  Seq rcv_nxt_;
  std::uint16_t peer_mss_ = 536;  // RFC 9293 3.7.1 default when none is announced
  // A peer announcing a tiny MSS (0, or less than the options every segment carries)
  // would make segments of no data: Linux sends at least tcp_min_snd_mss = 48 bytes
  // (the CVE-2019-11479 fix), and so does this.
  static std::uint16_t clamp_peer_mss(std::uint16_t announced) { return std::max<std::uint16_t>(announced, 48); }

  // Options agreed in the handshake (RFC 7323, RFC 2018): each side must offer it.
  bool sack_ok_ = false;
  bool ts_ok_ = false;
  bool ws_ok_ = false;
  std::uint8_t snd_wscale_ = 0;  // the peer's shift, applied to windows it announces
  std::uint8_t rcv_wscale_ = 0;  // ours
  std::uint32_t ts_recent_ = 0;  // RFC 7323 4.3: the TSval to echo

  // The virtual send stream.
  std::uint64_t app_bytes_ = 0;
  bool fin_requested_ = false;
  bool fin_sent_ = false;
  bool orphaned_ = false;  // close() rather than shutdown()
  std::uint64_t bytes_received_ = 0;
  RangeSet ooo_;                       // received stream bytes beyond RCV.NXT
  std::uint64_t last_ooo_offset_ = 0;  // where the newest segment landed, for SACK order
  Taken last_taken_;
  std::uint64_t unread_ = 0;           // delivered in order, not yet read by the application
  Seq rcv_adv_;                        // right edge of the window last advertised
  bool rcv_adv_set_ = false;
  // Zero-window probing (RFC 9293 3.8.6.1).
  bool probe_pending_ = false;
  bool sws_override_ = false;
  int keepalive_probes_sent_ = 0;
  Duration persist_interval_;
  std::optional<std::uint64_t> peer_fin_offset_;
  bool peer_fin_ = false;

  // Pending control output.
  bool ack_pending_ = false;
  std::uint32_t unacked_bytes_ = 0;  // in-order bytes received since our last ACK
  bool rst_pending_ = false;  // queue_rst()
  Seq rst_seq_;

  RttEstimator rtt_;     // RFC 6298
  int retries_ = 0;      // consecutive timeouts of the current segment
  int syn_retransmits_ = 0;  // of our SYN or SYN-ACK, for RFC 6298 5.7 and RFC 5681 3.1
  std::unique_ptr<CongestionControl> cc_;

  // Loss recovery (RFC 5681 3.2, RFC 6582).
  int dupacks_ = 0;
  bool in_recovery_ = false;
  Seq recover_;                 // snd_max when recovery began
  std::optional<Seq> rtx_seq_;  // send the segment starting here again, now
  RetransmitCause rtx_cause_ = RetransmitCause::fast_retransmit;
  SackScoreboard board_;  // RFC 6675
  RetransmitCause rewind_cause_ = RetransmitCause::timeout;

  TimerTable timers_;
  // Events wait here until polled. A vector, not a deque: an empty deque allocates
  // ~600 bytes, an empty vector nothing, and a million idle connections notice.
  std::vector<Event> events_;
  std::size_t events_read_ = 0;
};

}  // namespace shakedown::tcp
