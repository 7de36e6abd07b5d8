#include "controller/real_side.h"

#include "emulator/random.h"
#include "nodes/wire/ipv4.h"
#include "nodes/wire/tcp.h"

namespace shakedown::controller {

namespace {

using namespace wire::tcp_flags;
using tcp::State;

// a < b in sequence space (RFC 9293 3.4).
bool before(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) < 0; }

tcp::Event event(tcp::EventKind kind, std::int64_t t) {
  tcp::Event e{};
  e.kind = kind;
  e.time = TimePoint::from_ns(t);
  return e;
}

}  // namespace

std::size_t RealSide::KeyHash::operator()(const Key& k) const {
  std::uint64_t x = static_cast<std::uint64_t>(k.host) << 32 | k.remote;
  std::uint64_t ports = static_cast<std::uint64_t>(k.local_port) << 16 | k.remote_port;
  x ^= splitmix64(ports);
  return static_cast<std::size_t>(splitmix64(x));
}

ConnFacts RealSide::facts(const Key& k, const Shadow& s) const {
  ConnFacts f;
  if (!s.opened) return f;  // a segment no connection owns (yet)
  f.conn = s.id;
  f.alive = s.state != State::closed;
  f.remote = wire::Ipv4Address{k.remote};
  f.local_port = k.local_port;
  f.remote_port = k.remote_port;
  f.state = s.state;
  f.iss = s.iss;
  f.irs = s.irs;
  return f;
}

void RealSide::change(std::uint32_t host, std::int64_t t, const Key& k, Shadow& s, State to) {
  tcp::Event e = event(tcp::EventKind::state_changed, t);
  e.from = s.state;
  e.to = to;
  s.state = to;
  recorder_.tcp_event(host, facts(k, s), e);
  // Its exchange of FINs is done; the 60 s that Linux then waits are not seen to end.
  if (to == State::time_wait)
    if (Side* side = recorder_.side_of(host, s.id)) side->outcome = Outcome::completed;
}

void RealSide::retransmitted(std::uint32_t host, std::int64_t t, const Key& k, const Shadow& s,
                             tcp::SegmentKind kind, std::uint32_t seq) {
  tcp::Event e = event(tcp::EventKind::retransmission, t);
  e.segment = kind;
  e.seq = seq;
  e.cause = tcp::RetransmitCause::unknown;
  recorder_.tcp_event(host, facts(k, s), e);
}

void RealSide::ended(std::uint32_t host, std::int64_t t, const Key& k, Shadow& s, tcp::EventKind why) {
  if (s.state == State::closed) return;
  change(host, t, k, s, State::closed);
  recorder_.tcp_event(host, facts(k, s), event(why, t));
}

void RealSide::sent(std::uint32_t host, std::int64_t t, std::span<const std::uint8_t> packet) {
  const auto ip = wire::parse_ipv4(packet, /*verify_checksum=*/true);
  if (!ip.ok() || ip.value.header.protocol != wire::kProtocolTcp) return;
  const wire::Ipv4Header& h = ip.value.header;
  const auto seg = wire::parse_tcp(ip.value.payload, h.src, h.dst, /*verify_checksum=*/false);
  if (!seg.ok()) return;
  const wire::TcpHeader& th = seg.value.header;
  const auto len = static_cast<std::uint32_t>(seg.value.payload.size());
  const Key k{host, h.dst.value, th.src_port, th.dst_port};
  auto it = shadows_.find(k);
  const auto report = [&](const Shadow* s) {
    recorder_.segment_sent(t, host, s != nullptr ? facts(k, *s) : ConnFacts{}, h, th, len);
  };

  if (th.has(kSyn) && !th.has(kAck)) {  // an active open, or its SYN again
    if (it != shadows_.end() && it->second.opened && it->second.state == State::syn_sent &&
        it->second.iss == th.seq) {
      retransmitted(host, t, k, it->second, tcp::SegmentKind::syn, th.seq);
      return report(&it->second);
    }
    Shadow s;
    s.id = tcp::ConnId{next_slot_++, 1};
    s.opened = true;
    s.state = State::closed;
    s.iss = th.seq;
    s.snd_max = th.seq + 1;
    it = shadows_.insert_or_assign(k, s).first;
    change(host, t, k, it->second, State::syn_sent);
    return report(&it->second);
  }
  if (it == shadows_.end()) return report(nullptr);
  Shadow& s = it->second;
  if (th.has(kSyn)) {  // SYN-ACK: answering the SYN it was handed
    if (!s.opened && s.have_irs && th.ack == s.irs + 1) {
      s.id = tcp::ConnId{next_slot_++, 1};
      s.opened = true;
      s.iss = th.seq;
      s.snd_max = th.seq + 1;
      s.rcv_acked = th.ack;
      change(host, t, k, s, State::syn_received);
      if (Side* side = recorder_.side_of(host, s.id); side != nullptr && side->syn_received == kNever)
        side->syn_received = s.syn_arrived;
    } else if (s.opened && s.state == State::syn_received && th.seq == s.iss) {
      retransmitted(host, t, k, s, tcp::SegmentKind::syn_ack, th.seq);
    }
    return report(&s);
  }
  if (!s.opened || s.state == State::closed) return report(s.opened ? &s : nullptr);
  if (th.has(kRst)) {
    report(&s);
    return ended(host, t, k, s, tcp::EventKind::reset);
  }
  if (th.has(kAck)) {
    // Its ACK says what it has taken: the SYN-ACK (an active open is established),
    // bytes in order, the peer's FIN.
    if (s.state == State::syn_sent && s.have_irs && th.ack == s.irs + 1) change(host, t, k, s, State::established);
    if (s.have_irs && s.state != State::syn_sent && before(s.rcv_acked, th.ack)) {
      s.rcv_acked = th.ack;
      std::uint64_t taken = static_cast<std::uint32_t>(th.ack - (s.irs + 1));
      if (s.peer_fin && !before(th.ack, s.peer_fin_seq + 1) && taken > 0) --taken;  // the FIN is no byte
      if (taken > s.taken) {
        tcp::Event e = event(tcp::EventKind::data_received, t);
        e.bytes = taken - s.taken;
        s.taken = taken;
        recorder_.tcp_event(host, facts(k, s), e);
      }
    }
    if (before(s.handed_in_order, th.ack)) s.handed_in_order = th.ack;  // all it had, holes filled
    if (s.peer_fin && !s.peer_fin_taken && !before(th.ack, s.peer_fin_seq + 1)) take_peer_fin(host, t, k, s);
  }
  if (len > 0 && before(th.seq, s.snd_max)) retransmitted(host, t, k, s, tcp::SegmentKind::data, th.seq);
  if (before(s.snd_max, th.seq + len)) s.snd_max = th.seq + len;
  if (th.has(kFin)) {
    const std::uint32_t fin = th.seq + len;
    if (!s.fin_sent) {
      s.fin_sent = true;
      s.fin_seq = fin;
      s.snd_max = fin + 1;
      if (s.state == State::established || s.state == State::syn_received) change(host, t, k, s, State::fin_wait_1);
      else if (s.state == State::close_wait) change(host, t, k, s, State::last_ack);
    } else if (fin == s.fin_seq && len == 0) {
      retransmitted(host, t, k, s, tcp::SegmentKind::fin, fin);
    }
  }
  report(&s);
}

void RealSide::delivered(std::uint32_t host, std::int64_t t, std::span<const std::uint8_t> packet) {
  // A corrupted packet is dropped unread by Linux: it changes nothing.
  const auto ip = wire::parse_ipv4(packet, /*verify_checksum=*/true);
  if (!ip.ok() || ip.value.header.protocol != wire::kProtocolTcp) return;
  const wire::Ipv4Header& h = ip.value.header;
  const auto seg = wire::parse_tcp(ip.value.payload, h.src, h.dst, /*verify_checksum=*/true);
  if (!seg.ok()) return;
  const wire::TcpHeader& th = seg.value.header;
  const auto len = static_cast<std::uint32_t>(seg.value.payload.size());
  const Key k{host, h.src.value, th.dst_port, th.src_port};
  auto it = shadows_.find(k);
  const auto report = [&](const Shadow* s) {
    const std::int64_t taken = -1;
    recorder_.segment_received(t, host, s != nullptr && s->opened ? facts(k, *s) : ConnFacts{}, taken, h, th, len);
  };

  if (th.has(kSyn) && !th.has(kAck)) {  // a SYN for it: a connection, if it answers
    if (it != shadows_.end() && it->second.opened && it->second.state == State::syn_sent)
      return report(&it->second);  // a simultaneous open: not followed further
    const bool known = it != shadows_.end() && it->second.have_irs && it->second.irs == th.seq &&
                       it->second.state != State::closed;
    if (!known) {
      Shadow s;
      s.irs = th.seq;
      s.have_irs = true;
      s.syn_arrived = t;
      s.handed_max = th.seq + 1;
      s.handed_in_order = th.seq + 1;
      it = shadows_.insert_or_assign(k, s).first;
    }
    return report(&it->second);
  }
  if (it == shadows_.end() || !it->second.opened || it->second.state == State::closed)
    return report(it == shadows_.end() ? nullptr : &it->second);
  Shadow& s = it->second;
  report(&s);
  if (th.has(kRst)) {
    // RFC 9293 3.10.7.3: in SYN-SENT a RST acknowledging the SYN refuses it; else (RFC
    // 5961 3.2, which Linux follows) only one at the next sequence number expected
    // resets — one elsewhere in the window draws a challenge ACK.
    const bool refuses = s.state == State::syn_sent && th.has(kAck) && th.ack == s.iss + 1;
    const bool resets = s.state != State::syn_sent && !before(th.seq, s.rcv_acked) && !before(s.handed_max, th.seq);
    if (!refuses && !resets) return;
    // RFC 9293 3.10.7.4 second: in CLOSING, LAST-ACK and TIME-WAIT a RST only ends
    // what the exchange of FINs already finished (Linux's TIME_WAIT cut short, say):
    // closed, as shakedown's own TCP reports it, not reset.
    const bool finished = s.state == State::closing || s.state == State::last_ack || s.state == State::time_wait;
    const tcp::EventKind means = refuses    ? tcp::EventKind::refused
                                 : finished ? tcp::EventKind::closed
                                            : tcp::EventKind::reset;
    if (ends_reported_) {
      s.rst_at = t;
      s.rst_means = means;
    } else {
      ended(host, t, k, s, means);
    }
    return;
  }
  if (th.has(kSyn)) {  // the SYN-ACK to its SYN: the irs (established when it ACKs it)
    if (s.state == State::syn_sent && th.has(kAck) && th.ack == s.iss + 1) {
      s.irs = th.seq;
      s.have_irs = true;
      s.rcv_acked = th.seq;  // nothing taken yet
      s.handed_max = th.seq + 1;
      s.handed_in_order = th.seq + 1;
    }
    return;
  }
  if (before(s.handed_max, th.seq + len + (th.has(kFin) ? 1u : 0u)))
    s.handed_max = th.seq + len + (th.has(kFin) ? 1u : 0u);
  if (!before(s.handed_in_order, th.seq) && before(s.handed_in_order, th.seq + len)) s.handed_in_order = th.seq + len;
  if (th.has(kAck)) {
    if (s.state == State::syn_received && th.ack == s.iss + 1) change(host, t, k, s, State::established);
    if (s.fin_sent && !before(th.ack, s.fin_seq + 1)) {
      if (s.state == State::fin_wait_1) change(host, t, k, s, State::fin_wait_2);
      else if (s.state == State::closing) change(host, t, k, s, State::time_wait);
      else if (s.state == State::last_ack) ended(host, t, k, s, tcp::EventKind::closed);
    }
  }
  if (th.has(kFin) && !s.peer_fin) {
    s.peer_fin = true;
    s.peer_fin_seq = th.seq + len;
  }
  // A FIN handed to it with everything before it is taken there and then (Linux takes
  // what its device hands it in order); one beyond a hole, when its ACK covers it.
  if (s.peer_fin && !s.peer_fin_taken && s.handed_in_order == s.peer_fin_seq) take_peer_fin(host, t, k, s);
}

void RealSide::ended_by_timer(std::uint32_t host, std::int64_t t, wire::Ipv4Address remote,
                              std::uint16_t local_port, std::uint16_t remote_port, tcp::EventKind why) {
  const Key k{host, remote.value, local_port, remote_port};
  const auto it = shadows_.find(k);
  if (it == shadows_.end() || !it->second.opened) return;
  // Ended by the RST handed to it at this instant, not by a timer.
  if (it->second.rst_at == t) why = it->second.rst_means;
  ended(host, t, k, it->second, why);
}

void RealSide::take_peer_fin(std::uint32_t host, std::int64_t t, const Key& k, Shadow& s) {
  s.peer_fin_taken = true;
  if (s.state == State::established || s.state == State::syn_received) change(host, t, k, s, State::close_wait);
  else if (s.state == State::fin_wait_1) change(host, t, k, s, State::closing);
  else if (s.state == State::fin_wait_2) change(host, t, k, s, State::time_wait);
}

}  // namespace shakedown::controller
