// The receive path: RFC 9293 section 3.10.7, SEGMENT ARRIVES, in its order.
#include <algorithm>

#include "nodes/tcp/connection.h"

namespace shakedown::tcp {

using namespace wire::tcp_flags;

void Connection::on_segment(TimePoint now, const wire::TcpHeader& h, std::uint32_t length) {
  last_taken_ = {};
  switch (state_) {
    case State::closed:
    case State::listen:
      return;  // the endpoint answers segments for no connection (3.10.7.1, 3.10.7.2)
    case State::syn_sent:
      return segment_in_syn_sent(now, h, length);
    default:
      break;
  }
  const Seq seq(h.seq);
  heard_from_peer(now);
  // SYN and FIN occupy sequence space (3.3.1).
  const std::uint32_t seg_len = length + (h.has(kSyn) ? 1 : 0) + (h.has(kFin) ? 1 : 0);

  // Simultaneous open (RFC 9293 figure 8, line 6): the peer's SYN-ACK repeats the SYN
  // we already took, so the acceptability test would reject it, yet the figure moves
  // SYN-RECEIVED to ESTABLISHED on it. Take its ACK and nothing else.
  if (state_ == State::syn_received && !passive_ && h.has(kSyn) && h.has(kAck) && !h.has(kRst) && seq == irs_) {
    process_ack(now, h, 0);
    return;
  }

  // RFC 7323 5.3, PAWS: with timestamps, a segment whose TSval is older than the one we
  // last echoed is an old duplicate from an earlier incarnation of the sequence space;
  // drop it and ACK, unless it is a RST.
  if (ts_ok_ && h.options.timestamps && !h.has(kRst) && paws_rejects(h, length)) {
    ack_pending_ = true;
    return;
  }

  // First: the acceptability test (3.10.7.4).
  if (!acceptable(seq, seg_len)) {
    if (h.has(kRst)) return;
    if (state_ == State::syn_received && h.has(kSyn) && !h.has(kAck) && seq == irs_) {
      // The peer sent its SYN again: our SYN-ACK was lost or is late. Answer with the
      // SYN-ACK again, as Linux does for a request socket.
      snd_nxt_ = iss_;
      rewind_cause_ = RetransmitCause::duplicate_syn;
      return;
    }
    if (state_ == State::time_wait && h.has(kFin) && seq + length + 1 == rcv_nxt_) {
      // A retransmitted FIN: our last ACK was lost. ACK it and restart 2 MSL (3.10.7.4,
      // eighth, TIME_WAIT).
      ack_pending_ = true;
      set_timer(Timer::time_wait, now, config_.time_wait());
      return;
    }
    ack_pending_ = true;
    return;
  }

  // RFC 7323 4.3: remember the peer's newest timestamp from a segment that covers
  // RCV.NXT (the last ACK we sent), to echo it.
  // Never backwards: a segment PAWS let through with an older TSval (a disordered ACK)
  // leaves it (RFC 7323 4.3, Linux tcp_replace_ts_recent).
  if (ts_ok_ && h.options.timestamps && seq <= rcv_nxt_ &&
      static_cast<std::int32_t>(h.options.timestamps->value - ts_recent_) >= 0)
    ts_recent_ = h.options.timestamps->value;

  // Second: RST (with RFC 5961 3.2: only an exact match resets).
  if (h.has(kRst)) return process_rst(now, seq);

  // Fourth: SYN in a synchronized state or SYN_RECEIVED (RFC 5961 4.2, 3.10.7.4).
  if (h.has(kSyn)) {
    if (state_ == State::syn_received && passive_) return transition(now, State::closed, EventKind::reset);
    ack_pending_ = true;  // challenge ACK
    return;
  }

  // Fifth: the ACK field.
  if (!h.has(kAck)) return;
  if (!process_ack(now, h, length)) return;

  // Sixth and seventh: text; eighth: FIN.
  process_text_and_fin(now, h, length);
}

// RFC 7323 5.3 with Linux's two allowances (tcp_paws_discard), unless strict_paws: a
// TSval one tick older than TS.Recent passes (TCP_PAWS_WINDOW), and so does a
// "disordered ACK" (tcp_disordered_ack): a pure duplicate ACK at RCV.NXT that would not
// update the window and is no older than one RTO. Overtaken in the network, it is still
// news of a segment that left, and counts toward fast retransmit.
bool Connection::paws_rejects(const wire::TcpHeader& h, std::uint32_t length) const {
  const auto behind = static_cast<std::int32_t>(ts_recent_ - h.options.timestamps->value);
  if (behind <= 0) return false;
  if (config_.strict_paws) return true;
  if (behind <= 1) return false;
  const Seq seq(h.seq), ack(h.ack);
  const std::uint32_t window = peer_window(h);
  const bool pure_duplicate =
      h.flags == kAck && length == 0 && seq == rcv_nxt_ && ack == snd_una_;
  const bool updates_window = snd_wl1_ < seq || (seq == snd_wl1_ && (window > snd_wnd_ || window == 0));
  // Linux compares against the RTO in timestamp ticks (icsk_rto * 1024 / HZ): ours are ms.
  const std::int64_t replay_window = rtt_.rto().ns() / 1'000'000 * 1024 / 1000;
  return !(pure_duplicate && !updates_window && behind <= replay_window);
}

// 3.10.7.3: SYN-SENT.
void Connection::segment_in_syn_sent(TimePoint now, const wire::TcpHeader& h, std::uint32_t length) {
  const Seq ack(h.ack);
  // First: an ACK that does not acknowledge our SYN.
  if (h.has(kAck) && (ack <= iss_ || ack > snd_max_)) {
    if (h.has(kRst)) return;
    // The two-way variant ignores an unexpected SYN-ACK, as the textbook argument has it.
    if (config_.two_way_handshake) return;
    queue_rst(ack);
    return;
  }
  const bool ack_ok = h.has(kAck);
  // Second: RST, only with an acceptable ACK.
  if (h.has(kRst)) {
    if (ack_ok) transition(now, State::closed, EventKind::refused);
    return;
  }
  // Fourth: SYN.
  if (!h.has(kSyn)) return;
  irs_ = Seq(h.seq);
  rcv_nxt_ = irs_ + 1;
  if (h.options.mss) peer_mss_ = clamp_peer_mss(*h.options.mss);
  negotiate(h.options, /*we_offered=*/true);
  if (ack_ok) {
    advance_una(ack);
    timers_.cancel(Timer::retransmission);
    retries_ = 0;
    sample_from_ack(now, h);
  }
  snd_wnd_ = peer_window(h);
  max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
  snd_wl1_ = Seq(h.seq);
  snd_wl2_ = ack;
  if (snd_una_ > iss_) {
    transition(now, State::established);
    handshake_done();
    ack_pending_ = true;
    // Data or a FIN riding on the SYN-ACK (sixth and later steps) is handled as in
    // ESTABLISHED; the SYN itself is already counted.
    if (length > 0 || h.has(kFin)) {
      wire::TcpHeader rest = h;
      rest.seq = (Seq(h.seq) + 1).raw();
      rest.flags &= static_cast<std::uint8_t>(~kSyn);
      process_text_and_fin(now, rest, length);
    }
    return;
  }
  // Simultaneous open: both SYNs crossed. Answer with SYN-ACK from our ISS.
  transition(now, State::syn_received);
  snd_nxt_ = iss_;
  syn_reply_ = true;
}

// 3.10.7.4, first: the four cases of segment length and receive window.
bool Connection::acceptable(Seq seq, std::uint32_t length) const {
  // The window we offered: what remains up to the right edge last advertised.
  const std::uint32_t window = rcv_adv_set_ ? offered_remaining() : buffer_limit();
  const Seq lo = rcv_nxt_;
  const Seq hi = rcv_nxt_ + window;
  if (length == 0) return window == 0 ? seq == lo : in_window(seq, lo, hi);
  if (window == 0) return false;
  return in_window(seq, lo, hi) || in_window(seq + (length - 1), lo, hi);
}

// 3.10.7.4, second, with RFC 5961 3.2: an in-window RST that is not exactly at
// RCV.NXT only earns a challenge ACK; a blind attacker must guess the exact number.
void Connection::process_rst(TimePoint now, Seq seq) {
  if (seq != rcv_nxt_) {
    ack_pending_ = true;
    return;
  }
  switch (state_) {
    case State::closing:
    case State::last_ack:
    case State::time_wait:
      return transition(now, State::closed, EventKind::closed);
    case State::syn_received:
      // 3.10.7.4 second: an active open (simultaneous, so in SYN_RECEIVED) was refused.
      return transition(now, State::closed, passive_ ? EventKind::reset : EventKind::refused);
    default:
      return transition(now, State::closed, EventKind::reset);
  }
}

void Connection::advance_una(Seq ack) {
  board_.advance(static_cast<std::uint32_t>(ack - snd_una_));
  snd_una_ = ack;
}

void Connection::enter_recovery(TimePoint now) {
  in_recovery_ = true;
  recover_ = snd_max_;
  cc_->on_congestion(now, static_cast<std::uint32_t>(snd_max_ - snd_una_));
  if (sack_ok_) cc_->cwnd_to_ssthresh();  // RFC 6675 5 step 4; no inflation follows
  board_.begin_recovery();
  rtx_seq_ = snd_una_;
  rtx_cause_ = RetransmitCause::fast_retransmit;
  rtt_.stop_timing();  // Karn
  Event e{EventKind::recovery, now};
  e.bytes = cc_->cwnd();
  emit(e);
}

// An ACK of new data (or of the SYN) times the segment being timed; failing that, the
// echoed timestamp times even a retransmitted segment, which Karn's algorithm cannot
// (RFC 7323 4.1): after a lost SYN, the SYN-ACK echoes the TSval of the SYN it answers.
// Linux likewise prefers its own timing and falls back on the echo. Millisecond
// resolution.
void Connection::sample_from_ack(TimePoint now, const wire::TcpHeader& h) {
  if (const auto rtt = rtt_.acknowledged(snd_una_, now)) {
    sample_rtt(now, *rtt);
  } else if (!rtt_.timing() && ts_ok_ && h.options.timestamps && h.options.timestamps->echo != 0) {
    const auto ms = static_cast<std::int32_t>(ts_now(now) - h.options.timestamps->echo);
    if (ms >= 0) sample_rtt(now, Duration::milliseconds(ms));
  }
}

// What a retransmitted SYN or SYN-ACK leaves behind once the handshake is done.
void Connection::handshake_done() {
  if (syn_retransmits_ == 0) return;
  // RFC 6298 5.7: no sample (Karn, no timestamps) after a SYN timeout.
  rtt_.fall_back_after_syn_timeout(config_.initial_rto, config_.max_rto);
  // RFC 5681 3.1: the initial window is one segment after a lost SYN or SYN-ACK.
  if (config_.syn_loss_window_after > 0 && syn_retransmits_ >= config_.syn_loss_window_after)
    cc_->restart_from_one_segment();
}

void Connection::on_new_ack(TimePoint now, Seq ack, std::uint32_t acked, const wire::TcpHeader& h) {
  advance_una(ack);
  if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
  retries_ = 0;
  dupacks_ = 0;
  sample_from_ack(now, h);
  // RFC 6298 5.2 and 5.3: stop the timer when all is acknowledged, else restart it.
  if (snd_una_ == snd_max_) {
    timers_.cancel(Timer::retransmission);
  } else {
    arm_retransmission(now);
  }
  if (!in_recovery_) {
    cc_->on_ack(now, acked, rtt_.srtt());
    return;
  }
  const auto flight = static_cast<std::uint32_t>(snd_max_ - snd_una_);
  if (ack >= recover_ || cc_->partial_ack_ends_recovery()) {
    // A full ACK (RFC 6582 step 3), or Reno, for which any new ACK ends recovery.
    in_recovery_ = false;
    cc_->on_recovery_end(flight);
    return;
  }
  if (sack_ok_) return;  // RFC 6675: the send loop works from the scoreboard
  // RFC 6582 step 3, partial ACK: the next hole is lost too. Send it again, deflate
  // the window by what was acknowledged and add back one segment.
  rtx_seq_ = snd_una_;
  rtx_cause_ = RetransmitCause::partial_ack;
  cc_->deflate(acked);
}

void Connection::on_duplicate_ack(TimePoint now) {
  ++dupacks_;
  if (in_recovery_) {
    // Without SACK: RFC 5681 3.2 step 4, a segment left the network. With SACK the
    // scoreboard's pipe estimate does that accounting (RFC 6675).
    if (!sack_ok_) cc_->inflate(cc_->mss());
    return;
  }
  if (dupacks_ != config_.dupack_threshold) return;
  // RFC 6582 step 2: only if the ACK covers more than `recover` — duplicate ACKs for
  // data sent before the last recovery or timeout start no new one.
  if (!(snd_una_ > recover_)) return;
  enter_recovery(now);
}

void Connection::update_window(const wire::TcpHeader& h) {
  // 3.10.7.4, fifth: take the window from the newest segment only.
  const Seq seq(h.seq), ack(h.ack);
  if (snd_wl1_ < seq || (snd_wl1_ == seq && snd_wl2_ <= ack)) {
    snd_wnd_ = peer_window(h);
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seq;
    snd_wl2_ = ack;
  }
}

// 3.10.7.4, fifth. Returns false when the segment is to be dropped here.
bool Connection::process_ack(TimePoint now, const wire::TcpHeader& h, std::uint32_t length) {
  const Seq ack(h.ack);
  const bool opening = state_ == State::syn_received;
  if (opening) {
    if (!(snd_una_ < ack && ack <= snd_max_)) {
      queue_rst(ack);
      return false;
    }
    transition(now, State::established);
    snd_wnd_ = peer_window(h);
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = Seq(h.seq);
    snd_wl2_ = ack;
  }
  if (ack > snd_max_) {
    // Acknowledges something not yet sent: ACK and drop.
    ack_pending_ = true;
    return false;
  }
  // RFC 5961 5.2: an ACK older than the largest window the peer has offered cannot come
  // from the peer; a blind attacker guessed. Challenge ACK, and drop the segment (with
  // any data it carries).
  if (ack < snd_una_ - std::max<std::uint32_t>(max_snd_wnd_, 1)) {
    ack_pending_ = true;
    return false;
  }
  if (sack_ok_) board_.record(h.options, snd_una_, snd_max_);
  if (snd_una_ < ack) {
    const auto acked = static_cast<std::uint32_t>(ack - snd_una_);
    on_new_ack(now, ack, acked, h);
    if (opening) handshake_done();  // after the ACK's RTT sample
  } else if (ack == snd_una_ && length == 0 && !h.has(kSyn) && !h.has(kFin) && peer_window(h) == snd_wnd_ &&
             snd_una_ < snd_max_) {
    // RFC 5681 2: a duplicate ACK — no data, no window change, data outstanding.
    on_duplicate_ack(now);
  }
  if (snd_una_ <= ack) update_window(h);
  // RFC 6675 5: the scoreboard alone may show the first segment lost (when ACKs were
  // lost or thinned, fewer than DupThresh duplicates arrive).
  if (sack_ok_ && !in_recovery_ && !board_.empty() && lost_below() > board_.una() && snd_una_ > recover_)
    enter_recovery(now);

  // The states whose next step is our FIN being acknowledged.
  if (fin_acked()) {
    switch (state_) {
      case State::fin_wait_1:
        transition(now, State::fin_wait_2);
        if (orphaned_) set_timer(Timer::fin_wait_2, now, config_.fin_wait_2_timeout);
        break;
      case State::closing:
        transition(now, State::time_wait);
        return false;
      case State::last_ack:
        transition(now, State::closed, EventKind::closed);
        return false;
      default:
        break;
    }
  }
  return true;
}

// 3.10.7.4, seventh and eighth. Data beyond RCV.NXT is remembered (as stream ranges;
// the bytes are the host's) and delivered when the hole before it fills; so is a FIN.
void Connection::process_text_and_fin(TimePoint now, const wire::TcpHeader& h, std::uint32_t length) {
  const bool can_receive = state_ == State::established || state_ == State::fin_wait_1 || state_ == State::fin_wait_2;
  // Stream offset of `seq`, for sequence numbers at or after RCV.NXT.
  auto offset_of = [this](Seq s) { return bytes_received_ + static_cast<std::uint64_t>(s - rcv_nxt_); };
  Seq seq(h.seq);
  std::uint32_t len = length;
  if (seq < rcv_nxt_) {  // trim what we already have
    const auto dup = static_cast<std::uint32_t>(rcv_nxt_ - seq);
    len = dup >= len ? 0 : len - dup;
    seq = rcv_nxt_;
  }
  const Seq fin_seq = seq + len;
  if (len > 0 && can_receive && !peer_fin_ && orphaned_) {
    // RFC 1122 4.2.2.13: new data after CLOSE can never be read; a RST tells the peer
    // it was lost (Linux does the same).
    queue_rst(snd_max_);
    return transition(now, State::closed, EventKind::reset);
  }
  if (len > 0 && can_receive && !peer_fin_) {
    const bool in_order = seq == rcv_nxt_;
    const bool fills_hole = in_order && !ooo_.empty();
    last_ooo_offset_ = offset_of(seq);
    last_taken_ = Taken{length - len, len};
    ooo_.add(offset_of(seq), offset_of(seq) + len);
    deliver_in_order(now);
    // RFC 5681 4.2: out-of-order data (a duplicate ACK) and data that fills a hole are
    // ACKed at once; in-order data may wait for a second full-sized segment or the
    // delayed-ACK timer (RFC 9293 3.8.6.3: at most 0.5 s).
    if (!in_order || fills_hole || config_.delayed_ack == Duration::zero()) {
      ack_pending_ = true;
    } else {
      unacked_bytes_ += len;
      if (unacked_bytes_ >= 2u * config_.mss) {
        ack_pending_ = true;
      } else if (!timers_.armed(Timer::delayed_ack)) {
        set_timer(Timer::delayed_ack, now, config_.delayed_ack);
      }
    }
  } else if (length > 0) {
    ack_pending_ = true;
  }

  if (h.has(kFin) && !peer_fin_) {
    if (fin_seq < rcv_nxt_) {
      ack_pending_ = true;
    } else {
      peer_fin_offset_ = offset_of(fin_seq);
      ack_pending_ = true;
    }
  } else if (h.has(kFin)) {
    ack_pending_ = true;  // a repeated FIN
  }
  if (peer_fin_offset_ && *peer_fin_offset_ == bytes_received_ && !peer_fin_) take_fin(now);
}

void Connection::deliver_in_order(TimePoint now) {
  const std::uint64_t end = ooo_.contiguous_end(bytes_received_);
  if (end == bytes_received_) return;
  const auto n = end - bytes_received_;
  ooo_.remove_below(end);
  rcv_nxt_ += static_cast<std::uint32_t>(n);
  bytes_received_ = end;
  if (config_.application_reads) unread_ += n;
  Event e{EventKind::data_received, now};
  e.bytes = n;
  emit(e);
}

void Connection::take_fin(TimePoint now) {
  peer_fin_ = true;
  rcv_nxt_ += 1;
  ack_pending_ = true;
  emit(Event{EventKind::peer_closed, now});
  switch (state_) {
    case State::syn_received:
    case State::established:
      transition(now, State::close_wait);
      break;
    case State::fin_wait_1:
      if (fin_acked()) {
        transition(now, State::time_wait);
      } else {
        transition(now, State::closing);  // simultaneous close
      }
      break;
    case State::fin_wait_2:
      transition(now, State::time_wait);
      break;
    default:
      break;
  }
}

}  // namespace shakedown::tcp
