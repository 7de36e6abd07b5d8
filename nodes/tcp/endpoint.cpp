#include "nodes/tcp/endpoint.h"

#include <algorithm>

namespace shakedown::tcp {

using namespace wire::tcp_flags;

Endpoint::Endpoint(const Config& config, wire::Ipv4Address address, RandomStream isn_rng)
    : config_(config), address_(address), isn_rng_(isn_rng), isn_secret_(config.isn_clock ? isn_rng_.next_u64() : 0) {}

void Endpoint::listen(std::uint16_t port, std::uint32_t backlog, std::uint32_t syn_backlog) {
  listeners_[port] = Listener{std::max<std::uint32_t>(backlog, 1), std::max<std::uint32_t>(syn_backlog, 1), 0, {}};
}

ConnId Endpoint::create(TimePoint now, const Key& key) {
  std::uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(Slot{Connection(config_, 0, 0, 0), key, 0, false, false, std::nullopt, false});
  }
  Slot& s = slots_[index];
  std::uint32_t isn = 0;
  if (config_.isn_clock) {
    // RFC 9293 3.4.1 and RFC 6528: ISN = M + F(localip, localport, remoteip,
    // remoteport, secretkey), M a 4 us timer.
    std::uint64_t f = isn_secret_ ^ (static_cast<std::uint64_t>(key.remote) << 32) ^
                      (static_cast<std::uint64_t>(key.local_port) << 16) ^ key.remote_port ^
                      (static_cast<std::uint64_t>(address_.value) << 20);
    isn = static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.ns() / 4000) + splitmix64(f));
  } else {
    isn = isn_rng_.next_u32();
  }
  s.conn = Connection(config_, key.local_port, key.remote_port, isn);
  s.key = key;
  s.used = true;
  s.marked = false;
  s.listener.reset();
  s.queued_for_accept = false;
  ++live_;
  const ConnId id{index, s.generation};
  table_.put(packed(key), id);
  return id;
}

void Endpoint::release(ConnId id) {
  Slot& s = slots_[id.index];
  table_.erase(packed(s.key));
  if (s.listener) {
    auto it = listeners_.find(*s.listener);
    if (it != listeners_.end()) {
      if (s.queued_for_accept) {
        it->second.ready.erase_if([id](ConnId c) { return c == id; });
      } else if (it->second.half_open > 0) {
        --it->second.half_open;
      }
    }
  }
  s.used = false;
  ++s.generation;
  free_.push_back(id.index);
  --live_;
}

std::optional<ConnId> Endpoint::connect(TimePoint now, wire::Ipv4Address remote, std::uint16_t remote_port) {
  // Linux picks ports by a hash and a search; a rotating cursor over the same range
  // gives the same guarantee (a free port if one exists) and stays deterministic.
  const std::uint32_t range = kEphemeralLast - kEphemeralFirst + 1;
  for (std::uint32_t tried = 0; tried < range; ++tried) {
    const std::uint16_t port = next_port_;
    next_port_ = next_port_ == kEphemeralLast ? kEphemeralFirst : static_cast<std::uint16_t>(next_port_ + 1);
    const Key key{port, remote_port, remote.value};
    if (table_.contains(packed(key)) || listeners_.contains(port)) continue;
    const ConnId id = create(now, key);
    slots_[id.index].conn.connect(now);
    drain(now, id);
    return id;
  }
  return std::nullopt;
}

std::optional<ConnId> Endpoint::connect_from(TimePoint now, std::uint16_t local_port, wire::Ipv4Address remote,
                                             std::uint16_t remote_port) {
  const Key key{local_port, remote_port, remote.value};
  if (table_.contains(packed(key))) return std::nullopt;
  const ConnId id = create(now, key);
  slots_[id.index].conn.connect(now);
  drain(now, id);
  return id;
}

std::optional<ConnId> Endpoint::accept(std::uint16_t port) {
  auto it = listeners_.find(port);
  if (it == listeners_.end() || it->second.ready.empty()) return std::nullopt;
  const ConnId id = it->second.ready.pop_front();
  Slot& s = slots_[id.index];
  s.listener.reset();
  s.queued_for_accept = false;
  return id;
}

std::size_t Endpoint::accept_queue(std::uint16_t port) const {
  auto it = listeners_.find(port);
  return it == listeners_.end() ? 0 : it->second.ready.size();
}

std::size_t Endpoint::syn_queue(std::uint16_t port) const {
  auto it = listeners_.find(port);
  return it == listeners_.end() ? 0 : it->second.half_open;
}

// RFC 9293 3.10.7.1: a segment for no connection. A RST is never answered; otherwise
// the RST is made acceptable to the sender: <SEQ=SEG.ACK><CTL=RST> if the segment had
// an ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
void Endpoint::answer_no_connection(wire::Ipv4Address to, const wire::TcpHeader& h, std::uint32_t payload_length) {
  if (h.has(kRst)) return;
  // The two-way teaching variant: the client ignores an unexpected SYN-ACK instead of
  // refusing it, which is exactly what leaves the server with a dead connection.
  if (config_.two_way_handshake && h.has(kSyn) && h.has(kAck)) return;
  Transmit t;
  t.kind = SegmentKind::rst;
  t.header.src_port = h.dst_port;
  t.header.dst_port = h.src_port;
  if (h.has(kAck)) {
    t.header.seq = h.ack;
    t.header.flags = kRst;
  } else {
    t.header.seq = 0;
    t.header.ack = h.seq + payload_length + (h.has(kSyn) ? 1 : 0) + (h.has(kFin) ? 1 : 0);
    t.header.flags = kRst | kAck;
  }
  ++stats_.rst_sent_no_connection;
  out_.push_back(Outgoing{address_, to, t, ConnId{}});
}

Input Endpoint::on_segment(TimePoint now, wire::Ipv4Address src, wire::Ipv4Address dst, const wire::TcpHeader& h,
                          std::uint32_t payload_length) {
  const auto dropped = [this](EndpointDrop why) {
    ++stats_.drops[static_cast<int>(why)];
    Input in;
    in.outcome = Input::Outcome::dropped;
    in.reason = why;
    return in;
  };
  const auto given = [this](ConnId id) {
    Input in;
    in.outcome = Input::Outcome::given;
    in.conn = id;
    in.taken = slots_[id.index].conn.last_taken();
    return in;
  };
  if (dst != address_) return dropped(EndpointDrop::bad_segment);
  const Key key{h.dst_port, h.src_port, src.value};
  if (const ConnId* found = table_.find(packed(key)); found != nullptr) {
    const ConnId id = *found;
    Slot& s = slots_[id.index];
    if (s.conn.state() == State::syn_received && s.listener && h.has(kAck) && !h.has(kRst) && !h.has(kSyn)) {
      const Listener& l = listeners_.at(*s.listener);
      // Linux: the final ACK finds the accept queue full and is dropped; the SYN-ACK
      // will be retransmitted and the client's next ACK may find room.
      if (l.ready.size() >= l.backlog) return dropped(EndpointDrop::accept_queue_full);
    }
    s.conn.on_segment(now, h, payload_length);
    drain(now, id);
    return given(id);
  }
  // RFC 9293 3.10.7.2: LISTEN.
  auto lit = listeners_.find(h.dst_port);
  if (lit == listeners_.end()) {
    answer_no_connection(src, h, payload_length);
    return dropped(EndpointDrop::no_listener);
  }
  if (h.has(kRst)) return Input{};  // first: ignore
  if (h.has(kAck)) {                // second
    answer_no_connection(src, h, payload_length);
    Input in;
    in.outcome = Input::Outcome::answered;
    return in;
  }
  if (!h.has(kSyn)) return Input{};  // fourth: drop
  Listener& l = lit->second;
  if (l.half_open >= l.syn_backlog) return dropped(EndpointDrop::syn_queue_full);
  if (l.ready.size() >= l.backlog) return dropped(EndpointDrop::accept_queue_full);
  const ConnId id = create(now, key);
  Slot& s = slots_[id.index];
  s.listener = h.dst_port;
  ++l.half_open;
  s.conn.accept(now, h);
  drain(now, id);
  return given(id);
}

void Endpoint::on_timeout(TimePoint now, ConnId id) {
  if (!alive(id)) return;
  Connection& c = slots_[id.index].conn;
  if (c.next_deadline() > now) return;  // moved since the wake-up was armed
  c.on_timeout(now);
  drain(now, id);
}

void Endpoint::drain(TimePoint now, ConnId id) {
  collect(now, id);
  Slot& s = slots_[id.index];
  if (s.marked) return;
  s.marked = true;
  changed_.push_back(id);
}

// Drains a connection's output and events; moves it to the accept queue when its
// handshake completes; frees it once it is CLOSED with nothing left to send.
void Endpoint::collect(TimePoint now, ConnId id) {
  Slot& s = slots_[id.index];
  while (auto t = s.conn.poll_transmit(now))
    out_.push_back(Outgoing{address_, wire::Ipv4Address{s.key.remote}, *t, id});
  while (auto e = s.conn.poll_event()) events_.push_back(TaggedEvent{id, *e});
  if (s.listener && !s.queued_for_accept && synchronized(s.conn.state())) {
    Listener& l = listeners_.at(*s.listener);
    if (l.half_open > 0) --l.half_open;
    l.ready.push_back(id);
    s.queued_for_accept = true;
  }
}

std::optional<Outgoing> Endpoint::poll_transmit() {
  if (out_.empty()) return std::nullopt;
  return out_.pop_front();
}

std::optional<TaggedEvent> Endpoint::next_unreported() {
  if (reported_ >= events_.size()) return std::nullopt;
  return *(events_.begin() + static_cast<std::ptrdiff_t>(reported_++));
}

std::optional<TaggedEvent> Endpoint::poll_event() {
  if (events_.empty()) return std::nullopt;
  if (reported_ > 0) --reported_;
  return events_.pop_front();
}

std::optional<ConnId> Endpoint::poll_changed() {
  while (!changed_.empty()) {
    const ConnId id = changed_.pop_front();
    Slot& s = slots_[id.index];
    if (!s.marked || s.generation != id.generation) continue;
    s.marked = false;
    // A CLOSED connection is freed here and still returned: its deadline is now
    // TimePoint::max(), so the host cancels the wake-up it holds, which would otherwise
    // fire for nothing and carry the run's clock past its last real event.
    if (s.conn.state() == State::closed) release(id);
    return id;
  }
  return std::nullopt;
}

}  // namespace shakedown::tcp
