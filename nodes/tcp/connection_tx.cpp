// Application commands, the send path and timers.
#include <algorithm>

#include "nodes/tcp/connection.h"

namespace shakedown::tcp {

using namespace wire::tcp_flags;

Connection::Connection(const Config& config, std::uint16_t local_port, std::uint16_t remote_port, std::uint32_t iss)
    : config_(config),
      local_port_(local_port),
      remote_port_(remote_port),
      iss_(iss),
      snd_una_(iss),
      snd_nxt_(iss),
      snd_max_(iss),
      rtt_(config.initial_rto),
      cc_(make_congestion_control(config.congestion, config.mss, config.initial_window)),
      recover_(iss) {}

void Connection::transition(TimePoint now, State to, EventKind why) {
  if (to != state_) {
    Event e{EventKind::state_changed, now};
    e.from = state_;
    e.to = to;
    state_ = to;
    emit(e);
    if (to == State::established) heard_from_peer(now);
  }
  switch (to) {
    case State::closed:
      timers_.cancel_all();
      ack_pending_ = false;
      emit(Event{why, now});
      break;
    case State::time_wait:
      timers_.cancel_all();
      // RFC 9293 3.6.1: 2 MSL. A zero-length TIME_WAIT (a teaching variant) closes in
      // this same instant, but only after the ACK of the peer's FIN has gone out: the
      // timer is due now, and the host services it after collecting the segment.
      set_timer(Timer::time_wait, now, config_.time_wait());
      break;
    default:
      break;
  }
}

std::uint64_t Connection::bytes_acked() const {
  if (snd_una_ == iss_) return 0;  // not even the SYN
  const std::int64_t acked = snd_una_ - (iss_ + 1);
  return static_cast<std::uint64_t>(std::clamp<std::int64_t>(acked, 0, static_cast<std::int64_t>(app_bytes_)));
}

// RFC 9293 3.10.1: OPEN in CLOSED, active.
void Connection::connect(TimePoint now) {
  // A connection opens once: after CLOSED its TCB is gone (RFC 9293 3.10.7), and the
  // endpoint makes a new one for a new connection.
  if (state_ != State::closed || opened_) return;
  opened_ = true;
  snd_nxt_ = iss_;
  transition(now, State::syn_sent);
}

// RFC 9293 3.10.7.2, LISTEN, third: a SYN creates the connection in SYN_RECEIVED.
void Connection::accept(TimePoint now, const wire::TcpHeader& syn) {
  if (state_ != State::closed || opened_) return;
  opened_ = true;
  passive_ = true;
  irs_ = Seq(syn.seq);
  rcv_nxt_ = irs_ + 1;
  snd_wnd_ = syn.window;  // never scaled in a SYN (RFC 7323 2.2)
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = Seq(syn.seq);
  if (syn.options.mss) peer_mss_ = clamp_peer_mss(*syn.options.mss);
  negotiate(syn.options, /*we_offered=*/true);
  snd_nxt_ = iss_;
  // The textbook two-way handshake: the server counts the connection open as soon as it
  // answers; nothing waits for the client to confirm it asked.
  transition(now, config_.two_way_handshake ? State::established : State::syn_received);
}

void Connection::send(std::uint64_t bytes) {
  if (fin_requested_) return;
  if (state_ == State::closed || state_ == State::listen) return;
  app_bytes_ += bytes;
}

// RFC 9293 3.10.4, CLOSE: queue a FIN after the data. In SYN_SENT nothing was sent
// yet that needs closing: the connection simply ends.
void Connection::shutdown(TimePoint now) {
  if (fin_requested_) return;
  switch (state_) {
    case State::closed:
    case State::listen:
      return;
    case State::syn_sent:
      return transition(now, State::closed, EventKind::closed);
    default:
      fin_requested_ = true;
  }
}

void Connection::close(TimePoint now) {
  orphaned_ = true;
  if (state_ == State::fin_wait_2) set_timer(Timer::fin_wait_2, now, config_.fin_wait_2_timeout);
  shutdown(now);
}

// RFC 9293 3.10.5, ABORT: RST in SYN_RECEIVED and the synchronized states before the
// closing ones; then CLOSED either way.
void Connection::abort(TimePoint now) {
  switch (state_) {
    case State::syn_received:
    case State::established:
    case State::fin_wait_1:
    case State::fin_wait_2:
    case State::close_wait:
      queue_rst(snd_max_);
      break;
    default:
      break;
  }
  if (state_ != State::closed) transition(now, State::closed, EventKind::reset);
}

// RFC 6675 NextSeg, rules 1 and 3 (rule 2, new data, is the ordinary send path, which
// send_window() limits by pipe during SACK recovery). Sets rtx_seq_; false if nothing
// should be retransmitted now.
bool Connection::sack_next_segment() {
  const std::uint32_t mss = data_mss();
  if (cc_->cwnd() < pipe() + mss) return false;
  const std::uint64_t lost = lost_below();
  const auto hole = board_.next_hole();
  if (!hole) return false;
  const std::uint64_t h = *hole;
  // Rule 1: a lost hole. Rule 3 (a hole not yet known lost) only when no new data can go.
  const bool new_data_possible = snd_nxt_ < data_end() && send_window() > 0;
  if (h >= lost && new_data_possible) return false;
  const std::uint64_t una = board_.una();
  rtx_seq_ = snd_una_ + static_cast<std::uint32_t>(h - una);
  rtx_cause_ = h == una && board_.high_rxt() == una ? RetransmitCause::fast_retransmit : RetransmitCause::sack;
  return true;
}

std::uint32_t Connection::send_window() const {
  if (sack_recovery()) {
    // New data in SACK recovery: what cwnd leaves beside pipe, within the peer's window.
    const std::uint64_t p = pipe();
    const std::uint32_t cwnd = cc_->cwnd();
    const std::uint32_t by_cwnd = p >= cwnd ? 0 : static_cast<std::uint32_t>(cwnd - p);
    const std::int64_t in_window = static_cast<std::int64_t>(snd_wnd_) - (snd_nxt_ - snd_una_);
    return std::min<std::uint32_t>(by_cwnd, in_window > 0 ? static_cast<std::uint32_t>(in_window) : 0);
  }
  const std::uint32_t wnd = std::min(snd_wnd_, cc_->cwnd());
  const std::int64_t in_flight = snd_nxt_ - snd_una_;
  return in_flight >= static_cast<std::int64_t>(wnd) ? 0 : wnd - static_cast<std::uint32_t>(in_flight);
}

Transmit Connection::make(SegmentKind kind, Seq seq, std::uint8_t flags) const {
  Transmit t;
  t.kind = kind;
  t.header.src_port = local_port_;
  t.header.dst_port = remote_port_;
  t.header.seq = seq.raw();
  t.header.flags = flags;
  if (flags & kAck) t.header.ack = rcv_nxt_.raw();
  // RFC 7323 2.2: the window of a SYN is never scaled.
  const std::uint32_t window = (flags & kSyn) ? std::min<std::uint32_t>(rcv_wnd(), 65535) : rcv_wnd() >> rcv_wscale_;
  t.header.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(window, 65535));
  t.retransmission = seq < snd_max_;
  return t;
}

std::uint8_t Connection::offered_wscale() const {
  std::uint8_t shift = 0;
  while (shift < 14 && (config_.receive_buffer >> shift) > 65535) ++shift;
  return shift;
}

std::uint32_t Connection::buffer_limit() const {
  return ws_ok_ ? config_.receive_buffer : std::min<std::uint32_t>(config_.receive_buffer, 65535);
}

// The window to offer. RFC 9293 3.8.6.2.2, receiver silly-window avoidance: the right
// edge moves only when it can move by min(buffer / 2, MSS); until then the rest of the
// old offer stands (the window never shrinks).
std::uint32_t Connection::rcv_wnd() const {
  const std::uint32_t limit = buffer_limit();
  const auto unread = static_cast<std::uint32_t>(std::min<std::uint64_t>(unread_, limit));
  const std::uint32_t available = limit - unread;
  if (!rcv_adv_set_) return available;
  const std::uint32_t current = offered_remaining();
  const std::uint32_t step = std::min<std::uint32_t>(limit / 2, config_.mss);
  return available >= current + step ? available : current;
}

void Connection::read(std::uint64_t bytes) {
  const std::uint32_t before = rcv_wnd();
  unread_ -= std::min(bytes, unread_);
  // Tell the peer when the window grew enough to matter (a window update).
  if (rcv_wnd() > before && synchronized(state_)) ack_pending_ = true;
}

std::uint32_t Connection::peer_window(const wire::TcpHeader& h) const {
  if (h.has(kSyn)) return h.window;
  return static_cast<std::uint32_t>(h.window) << snd_wscale_;
}

// A millisecond timestamp clock (RFC 7323 5.4 asks for 1 ms to 1 s per tick), offset by
// one so that a timestamp is never zero, which TSecr uses for "none".
std::uint32_t Connection::ts_now(TimePoint now) const { return static_cast<std::uint32_t>(now.ns() / 1'000'000) + 1; }

// An option is used only if both sides put it in their SYN (RFC 7323 2.2, 3.2; RFC
// 2018 2). The passive side decides on the SYN; the active side on the SYN-ACK.
void Connection::negotiate(const wire::TcpOptions& peer, bool we_offered) {
  sack_ok_ = we_offered && config_.sack && peer.sack_permitted;
  ts_ok_ = we_offered && config_.timestamps && peer.timestamps.has_value();
  ws_ok_ = we_offered && config_.window_scaling && peer.window_scale.has_value();
  snd_wscale_ = ws_ok_ ? std::min<std::uint8_t>(*peer.window_scale, 14) : 0;
  rcv_wscale_ = ws_ok_ ? offered_wscale() : 0;
  if (peer.timestamps) ts_recent_ = peer.timestamps->value;
  // Congestion control counts in segments of the size actually sent.
  cc_ = make_congestion_control(config_.congestion, data_mss(), config_.initial_window);
}

// Options on every segment after the SYN: timestamps, and SACK blocks describing the
// out-of-order data, the block with the newest arrival first (RFC 2018 4).
void Connection::decorate(Transmit& t, TimePoint now) const {
  if (t.header.has(kRst) || t.header.has(kSyn)) return;
  if (ts_ok_) t.header.options.timestamps = wire::TcpTimestamps{ts_now(now), ts_recent_};
  if (sack_ok_ && t.header.has(kAck) && !ooo_.empty()) {
    std::size_t room = t.header.options.sack_room();
    if (t.length > 0) {
      // On a data segment, SACK blocks must not push it past the effective MSS.
      const std::uint32_t limit = std::min<std::uint32_t>(config_.mss, peer_mss_);
      const std::uint32_t used = t.length + static_cast<std::uint32_t>(t.header.options.encoded_size());
      room = used + 12 > limit ? 0 : std::min<std::size_t>(room, (limit - used - 4) / 8);
    }
    auto to_seq = [this](std::uint64_t offset) {
      return (rcv_nxt_ + static_cast<std::uint32_t>(offset - bytes_received_)).raw();
    };
    std::uint8_t n = 0;
    const auto& ranges = ooo_.ranges();
    // The newest arrival's block first, then the others from the highest down.
    std::size_t newest = ranges.size();
    for (std::size_t i = 0; i < ranges.size(); ++i)
      if (ranges[i].begin <= last_ooo_offset_ && last_ooo_offset_ < ranges[i].end) newest = i;
    if (newest < ranges.size() && n < room)
      t.header.options.sack[n++] = wire::SackBlock{to_seq(ranges[newest].begin), to_seq(ranges[newest].end)};
    for (std::size_t i = ranges.size(); i-- > 0 && n < room;)
      if (i != newest) t.header.options.sack[n++] = wire::SackBlock{to_seq(ranges[i].begin), to_seq(ranges[i].end)};
    t.header.options.sack_count = n;
  }
}

std::optional<Transmit> Connection::poll_transmit(TimePoint now) {
  if (rst_pending_) {
    rst_pending_ = false;
    Transmit t = make(SegmentKind::rst, rst_seq_, kRst);
    t.header.window = 0;
    t.retransmission = false;
    return t;
  }
  Transmit t;
  bool have = false;
  std::optional<RetransmitCause> retransmit_cause;
  const bool syn_unacked = snd_una_ == iss_;
  if ((state_ == State::syn_sent || (state_ == State::syn_received) ||
       (passive_ && syn_unacked && synchronized(state_))) &&
      snd_nxt_ == iss_) {
    // The SYN (or SYN-ACK), first sent or sent again after a timeout.
    const bool synack = state_ != State::syn_sent;
    t = make(synack ? SegmentKind::syn_ack : SegmentKind::syn, iss_, synack ? (kSyn | kAck) : kSyn);
    t.header.options.mss = config_.mss;
    if (!synack) {
      // The active side offers what it is configured for.
      t.header.options.sack_permitted = config_.sack;
      if (config_.timestamps) t.header.options.timestamps = wire::TcpTimestamps{ts_now(now), 0};
      if (config_.window_scaling) t.header.options.window_scale = offered_wscale();
    } else {
      // The passive side answers only what was offered.
      t.header.options.sack_permitted = sack_ok_;
      if (ts_ok_) t.header.options.timestamps = wire::TcpTimestamps{ts_now(now), ts_recent_};
      if (ws_ok_) t.header.options.window_scale = rcv_wscale_;
    }
    // A retransmission if an earlier one went unanswered; not the SYN-ACK a
    // simultaneous open answers with (RFC 9293 3.10.7.3, fourth).
    t.retransmission = snd_max_ > iss_ && !syn_reply_;
    syn_reply_ = false;
    if (t.retransmission) ++syn_retransmits_;
    snd_nxt_ = iss_ + 1;
    have = true;
  } else if (sack_recovery() && !rtx_seq_ && synchronized(state_) && sack_next_segment()) {
    // RFC 6675 NextSeg chose a hole to send again (rtx_seq_ is now set); it is sent
    // by the branch below on this same call.
    return poll_transmit(now);
  } else if (rtx_seq_ && synchronized(state_) && snd_una_ < snd_max_ && *rtx_seq_ >= snd_una_) {
    // Fast retransmit, a retransmission at a partial ACK, or a hole the SACK scoreboard
    // shows: one segment, whatever the window says (RFC 5681 3.2 step 3), never running
    // into data the receiver already SACKed.
    const Seq from = *rtx_seq_;
    rtx_seq_.reset();
    const Seq end = data_end();
    const std::uint32_t mss = data_mss();
    if (from < end) {
      const std::uint64_t limit = board_.next_sacked_above(unwrap(from), unwrap(end));
      const auto len = static_cast<std::uint32_t>(std::min<std::uint64_t>(mss, limit - unwrap(from)));
      t = make(SegmentKind::data, from, kAck | kPsh);
      t.stream_offset = static_cast<std::uint64_t>(from - (iss_ + 1));
      t.length = len;
      if (fin_sent_ && from + len == end) t.header.flags |= kFin;
      board_.retransmitted_to(unwrap(from) + len);
    } else {
      t = make(SegmentKind::fin, end, kFin | kAck);
    }
    t.retransmission = true;
    retransmit_cause = rtx_cause_;
    have = true;
  } else if (synchronized(state_) && state_ != State::time_wait) {
    const Seq end = data_end();
    if (snd_nxt_ < end) {
      const std::uint32_t window = send_window();
      const std::uint32_t mss = data_mss();
      const auto left = static_cast<std::uint32_t>(end - snd_nxt_);
      std::uint32_t len = std::min({mss, left, window});
      // RFC 9293 3.8.6.2.1, sender silly-window avoidance: send less than a full segment
      // only if it is all that is left and (Nagle, RFC 896) nothing small is in flight,
      // or if it is at least half the largest window the peer offered — or when the
      // override timeout (the persist timer, below) says to. The piece that will carry
      // the FIN is never held by Nagle: after close() Linux sends it at once
      // (tcp_nagle_test passes any segment with FIN).
      if (len > 0 && len < mss && !sws_override_) {
        const bool last_piece = len == left && (!config_.nagle || snd_nxt_ == snd_una_ || fin_requested_);
        const bool half_window = len >= max_snd_wnd_ / 2;
        if (!last_piece && !half_window) len = 0;
      }
      sws_override_ = false;
      if (len == 0 && snd_una_ == snd_max_) {
        // Data waits, and nothing in flight will bring news of the window: the persist
        // timer probes a closed window (RFC 9293 3.8.6.1) or overrides silly-window
        // avoidance for a small one, with backoff, for as long as the peer answers.
        if (!timers_.armed(Timer::persist)) {
          if (persist_interval_ == Duration::zero()) persist_interval_ = rtt_.rto();
          set_timer(Timer::persist, now, persist_interval_);
        }
      } else if (len > 0) {
        timers_.cancel(Timer::persist);
        persist_interval_ = Duration::zero();
      }
      if (len > 0) {
        t = make(SegmentKind::data, snd_nxt_, kAck | kPsh);
        t.stream_offset = static_cast<std::uint64_t>(snd_nxt_ - (iss_ + 1));
        t.length = len;
        snd_nxt_ += len;
        // Piggyback the FIN on the last data segment, as Linux does after close().
        if (fin_requested_ && snd_nxt_ == end) {
          t.header.flags |= kFin;
          snd_nxt_ += 1;
          fin_sent_ = true;
        }
        have = true;
      }
    } else if (fin_requested_ && snd_nxt_ == end && !fin_acked()) {
      t = make(SegmentKind::fin, end, kFin | kAck);
      snd_nxt_ = end + 1;
      fin_sent_ = true;
      have = true;
    }
  }
  if (!have) {
    if (!ack_pending_) return std::nullopt;
    ack_sent();
    // RFC 9293 SND.NXT is the highest number sent (snd_max_ here: snd_nxt_ rewinds for
    // retransmission); an ACK below the peer's RCV.NXT would fail its acceptability test.
    Transmit ack = make(SegmentKind::ack, snd_max_, kAck);
    if (probe_pending_) {
      // Linux's zero-window probe: an ACK with an old sequence number, which the
      // receiver must answer with an ACK carrying its current window.
      probe_pending_ = false;
      ack.header.seq = (snd_una_ - 1).raw();
    }
    decorate(ack, now);
    note_advertised(ack);
    return ack;
  }
  if (t.header.has(kAck)) ack_sent();
  decorate(t, now);
  note_advertised(t);
  const Seq seg_end = Seq(t.header.seq) + t.length + (t.header.has(kSyn) ? 1 : 0) + (t.header.has(kFin) ? 1 : 0);
  if (t.retransmission) {
    Event e{EventKind::retransmission, now};
    e.segment = t.kind;
    e.seq = t.header.seq;
    e.cause = retransmit_cause.value_or(rewind_cause_);
    emit(e);
  } else if (!rtt_.timing()) {
    // RFC 6298 3 / Karn: time one segment at a time, never a retransmitted one.
    rtt_.start_timing(seg_end, now);
  }
  snd_max_ = max(snd_max_, seg_end);
  // RFC 6298 5.1: start the timer if it is not running.
  if (!timers_.armed(Timer::retransmission)) arm_retransmission(now);
  // State changes caused by sending a FIN (RFC 9293 3.10.4).
  if (t.header.has(kFin)) {
    if (state_ == State::established) transition(now, State::fin_wait_1);
    if (state_ == State::close_wait) transition(now, State::last_ack);
  }
  return t;
}

// Every segment from the peer proves it alive: the keepalive clock starts again.
void Connection::heard_from_peer(TimePoint now) {
  keepalive_probes_sent_ = 0;
  if (config_.keepalive && (state_ == State::established || state_ == State::close_wait))
    set_timer(Timer::keepalive, now, config_.keepalive_time);
}

// RFC 1122 4.2.3.6 as Linux does it: probe an idle connection with an old sequence
// number (the peer must answer with an ACK), every keepalive_interval, and give up
// after keepalive_probes unanswered probes. Data in flight has its own timer.
void Connection::on_keepalive_timeout(TimePoint now) {
  if (!config_.keepalive || !(state_ == State::established || state_ == State::close_wait)) return;
  if (snd_una_ != snd_max_) {
    set_timer(Timer::keepalive, now, config_.keepalive_time);
    return;
  }
  if (keepalive_probes_sent_ >= config_.keepalive_probes) return transition(now, State::closed, EventKind::timed_out);
  ++keepalive_probes_sent_;
  probe_pending_ = true;
  ack_pending_ = true;
  set_timer(Timer::keepalive, now, config_.keepalive_interval);
}

void Connection::note_advertised(const Transmit& t) {
  if (!t.header.has(kAck) || t.header.has(kRst)) return;
  const std::uint32_t window =
      t.header.has(kSyn) ? t.header.window : static_cast<std::uint32_t>(t.header.window) << rcv_wscale_;
  const Seq edge = rcv_nxt_ + window;
  if (!rcv_adv_set_ || edge > rcv_adv_) rcv_adv_ = edge;
  rcv_adv_set_ = true;
}

// Any segment carrying an ACK satisfies what was pending, delayed or not.
void Connection::ack_sent() {
  ack_pending_ = false;
  unacked_bytes_ = 0;
  timers_.cancel(Timer::delayed_ack);
}

std::optional<Event> Connection::poll_event() {
  if (events_read_ == events_.size()) {
    // Drained: start over, and give back an unusually large buffer.
    events_.clear();
    events_read_ = 0;
    if (events_.capacity() > 16) events_.shrink_to_fit();
    return std::nullopt;
  }
  return events_[events_read_++];
}

void Connection::arm_retransmission(TimePoint now) { set_timer(Timer::retransmission, now, rtt_.rto()); }

// RFC 6298 2.2 and 2.3.
void Connection::sample_rtt(TimePoint now, Duration rtt) {
  Event e{EventKind::rtt_sample, now};
  e.rto = rtt_.sample(rtt, config_.min_rto, config_.max_rto);
  e.rtt = rtt;
  emit(e);
}

void Connection::on_timeout(TimePoint now) {
  Timer t;
  while (timers_.take_expired(now, t)) {
    Event fired{EventKind::timer_fired, now};
    fired.timer = t;
    emit(fired);
    switch (t) {
      case Timer::retransmission:
        on_retransmission_timeout(now);
        break;
      case Timer::time_wait:
        if (state_ == State::time_wait) transition(now, State::closed, EventKind::closed);
        break;
      case Timer::delayed_ack:
        ack_pending_ = true;
        break;
      case Timer::keepalive:
        on_keepalive_timeout(now);
        break;
      case Timer::persist:
        if (snd_nxt_ < data_end() && snd_una_ == snd_max_) {
          if (snd_wnd_ == 0) {
            probe_pending_ = true;
            ack_pending_ = true;
          } else {
            sws_override_ = true;  // send the small segment the window allows
          }
          persist_interval_ = std::min(persist_interval_ * 2, config_.max_rto);
          set_timer(Timer::persist, now, persist_interval_);
        }
        break;
      case Timer::fin_wait_2:
        if (state_ == State::fin_wait_2) transition(now, State::closed, EventKind::timed_out);
        break;
      default:
        break;
    }
  }
}

// RFC 6298 5.4-5.7: retransmit the earliest unacknowledged segment, back off, restart
// the timer. Retry limits are Linux's: SYN, SYN-ACK and data each have their own.
void Connection::on_retransmission_timeout(TimePoint now) {
  if (snd_una_ == snd_max_) return;  // nothing outstanding
  const bool syn = snd_una_ == iss_;
  const int limit =
      syn ? (state_ == State::syn_sent ? config_.syn_retries : config_.synack_retries) : config_.data_retries;
  if (retries_ >= limit) return transition(now, State::closed, EventKind::timed_out);
  ++retries_;
  rtt_.back_off(config_.max_rto);  // and Karn: the measurement in progress is void
  // RFC 5681 3.1: back to slow start from one segment; RFC 6582 step 4: remember how
  // far we had sent, so that duplicate ACKs for it start no new recovery.
  if (!syn) cc_->on_timeout(static_cast<std::uint32_t>(snd_max_ - snd_una_));
  in_recovery_ = false;
  dupacks_ = 0;
  // Not for the SYN: RFC 6582 3.2 step 1 starts `recover` at the ISS, and moving it to
  // ISS + 1 would equal SND.UNA after the handshake, barring fast retransmit of the
  // first loss until new data is acknowledged.
  if (!syn) recover_ = snd_max_;
  rtx_seq_.reset();
  board_.forget();  // RFC 6675 5.1: after a timeout, SACK information is not trusted
  rewind_cause_ = RetransmitCause::timeout;
  snd_nxt_ = snd_una_;
  if (fin_sent_ && snd_una_ <= data_end()) fin_sent_ = false;
  arm_retransmission(now);
}

}  // namespace shakedown::tcp
