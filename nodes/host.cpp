#include "nodes/host.h"

#include <algorithm>

#include <fmt/format.h>

#include "nodes/payload.h"
#include "nodes/wire/ipv4.h"
#include "nodes/wire/tcp.h"

namespace shakedown {

Host::Host(Engine& engine, PacketPool& pool, std::uint32_t node_id, wire::Ipv4Address address,
           const tcp::Config& config, std::uint64_t run_seed, Observer* observer)
    : engine_(engine),
      pool_(pool),
      node_id_(node_id),
      config_(config),
      run_seed_(run_seed),
      address_(address),
      observer_(observer),
      endpoint_(config, address, RandomStream(run_seed, fmt::format("host/{}/isn", node_id))) {
  set_event_owner(owners::node(node_id));
}

void Host::drop(const Packet& packet, DropReason reason) {
  ++stats_.dropped[static_cast<int>(reason)];
  if (observer_ != nullptr)
    observer_->on_packet(
        PacketEvent{engine_.now(), PacketEventKind::drop, Site{Site::Kind::node, node_id_, 0}, reason, packet});
}

void Host::crash() {
  if (!up_) return;
  up_ = false;
  if (tcp_observer_ != nullptr) tcp_observer_->on_crash(*this);
  if (app_ != nullptr) app_->on_crash(*this);
  for (Wakeup& w : wakeups_) engine_.cancel(w.event);
  wakeups_.clear();
  echoed_.clear();
}

void Host::restart() {
  ++boots_;
  endpoint_ =
      tcp::Endpoint(config_, address_, RandomStream(run_seed_, fmt::format("host/{}/isn/{}", node_id_, boots_)));
  up_ = true;
  if (app_ != nullptr) app_->on_restart(*this);
  service();
}

void Host::receive(PacketPtr packet) {
  if (!up_) return drop(*packet, DropReason::host_down);
  ++stats_.packets_received;
  const auto ip = wire::parse_ipv4(packet->bytes(), /*verify_checksum=*/true);
  if (!ip.ok()) return drop(*packet, DropReason::corrupt);
  const wire::Ipv4Header& h = ip.value.header;
  if (h.dst != address_) return drop(*packet, DropReason::no_route);  // hosts do not forward
  if (h.protocol != wire::kProtocolTcp) return drop(*packet, DropReason::no_listener);
  const auto seg = wire::parse_tcp(ip.value.payload, h.src, h.dst, /*verify_checksum=*/true);
  if (!seg.ok()) return drop(*packet, DropReason::corrupt);
  const wire::TcpHeader& th = seg.value.header;

  const tcp::Input in =
      endpoint_.on_segment(engine_.now(), h.src, h.dst, th, static_cast<std::uint32_t>(seg.value.payload.size()));
  if (tcp_observer_ != nullptr)
    tcp_observer_->on_segment_received(*this, in, h, th, static_cast<std::uint32_t>(seg.value.payload.size()));
  if (in.dropped(tcp::EndpointDrop::no_listener)) drop(*packet, DropReason::no_listener);
  // Check every payload byte against the sender's stream, named by the sender's ISN,
  // which the connection knows once it has the peer's SYN. Bytes of another stream are
  // wrong if TCP took them, stale if it refused them. A real peer's bytes are its
  // program's: not checked, but kept while an echo server may send them back.
  const bool checked = checked_peer(h.src);
  if (in.given() && !seg.value.payload.empty()) {
    const tcp::Connection& c = endpoint_.connection(in.conn);
    if (c.state() != tcp::State::syn_sent) {
      const std::uint32_t first = th.seq + (th.has(wire::tcp_flags::kSyn) ? 1u : 0u);
      const std::uint32_t offset = first - (c.irs().raw() + 1);
      const auto payload = seg.value.payload;
      const tcp::Connection::Taken taken = in.taken;
      if (checked) {
        const std::uint64_t stream = payload_stream(h.src, th.src_port, h.dst, th.dst_port, c.irs().raw());
        const std::uint64_t all = payload_mismatches(stream, offset, payload);
        const std::uint64_t took = taken.length == payload.size() || all == 0
                                       ? all
                                       : payload_mismatches(stream, offset + taken.skip,
                                                            payload.subspan(taken.skip, taken.length));
        stats_.payload_bytes_wrong += took;
        stats_.payload_bytes_stale += all - took;
        stats_.payload_bytes_verified += payload.size();
      } else if (taken.length > 0) {
        keep_real_bytes(in.conn, offset + taken.skip, payload.subspan(taken.skip, taken.length));
      }
    }
  }
  service();
  if (in.given() && app_ != nullptr && endpoint_.alive(in.conn)) {
    app_->on_input(*this, in.conn);
    service();
  }
  if (in.given() && !checked) forget_unless_echoed(in.conn);
}

bool Host::checked_peer(wire::Ipv4Address a) const {
  return unchecked_peers_ == nullptr || unchecked_peers_->empty() ||
         std::find(unchecked_peers_->begin(), unchecked_peers_->end(), a.value) == unchecked_peers_->end();
}

Host::Echoed& Host::echoed(tcp::ConnId id) {
  Echoed& e = echoed_[id.index];
  if (e.generation != id.generation) e = Echoed{.generation = id.generation};
  return e;
}

void Host::echo_real_bytes(tcp::ConnId id) {
  if (!up_ || !endpoint_.alive(id) || checked_peer(endpoint_.remote_address(id))) return;
  echoed(id).echo = true;
}

// `offset` counts from the peer's first byte, modulo 2^32 as sequence numbers do; it
// is unwrapped next to what is already in order (TCP takes nothing farther from it
// than a window).
void Host::keep_real_bytes(tcp::ConnId id, std::uint32_t offset, std::span<const std::uint8_t> taken) {
  Echoed& e = echoed(id);
  const std::uint64_t have = e.in_order();
  const std::int64_t ahead_by = static_cast<std::int32_t>(offset - static_cast<std::uint32_t>(have));
  if (ahead_by + static_cast<std::int64_t>(taken.size()) <= 0) return;
  if (ahead_by > 0) {
    auto& held = e.ahead[have + static_cast<std::uint64_t>(ahead_by)];
    if (held.size() < taken.size()) held.assign(taken.begin(), taken.end());
    return;
  }
  e.bytes.insert(e.bytes.end(), taken.begin() + (-ahead_by), taken.end());
  // What waited beyond the hole this filled.
  while (!e.ahead.empty() && e.ahead.begin()->first <= e.in_order()) {
    const auto node = e.ahead.extract(e.ahead.begin());
    const std::uint64_t end = node.key() + node.mapped().size();
    if (end > e.in_order())
      e.bytes.insert(e.bytes.end(), node.mapped().end() - static_cast<std::ptrdiff_t>(end - e.in_order()),
                     node.mapped().end());
  }
}

// After a segment from a real peer: bytes of a connection that does not echo are not
// kept; those of one that does, once the peer acknowledged their return, neither.
void Host::forget_unless_echoed(tcp::ConnId id) {
  const auto it = echoed_.find(id.index);
  if (it == echoed_.end()) return;
  Echoed& e = it->second;
  if (e.generation != id.generation || !e.echo || !endpoint_.alive(id)) {
    echoed_.erase(it);
    return;
  }
  const tcp::Connection& c = endpoint_.connection(id);
  const std::uint32_t acked = c.snd_una().raw() - (c.iss().raw() + 1);
  const std::int64_t past_base = static_cast<std::int32_t>(acked - static_cast<std::uint32_t>(e.base));
  if (past_base <= 0) return;
  const auto drop = std::min<std::uint64_t>(static_cast<std::uint64_t>(past_base), e.bytes.size());
  e.bytes.erase(e.bytes.begin(), e.bytes.begin() + static_cast<std::ptrdiff_t>(drop));
  e.base += drop;
}

void Host::transmit(const tcp::Outgoing& o) {
  const wire::TcpHeader& th = o.segment.header;
  const std::size_t tcp_size = th.header_size() + o.segment.length;
  PacketPtr p = pool_.make(wire::kIpv4HeaderSize + tcp_size);
  auto bytes = p->bytes();
  auto tcp_bytes = bytes.subspan(wire::kIpv4HeaderSize);
  if (o.segment.length > 0 && o.conn.valid()) {
    const auto out = tcp_bytes.subspan(th.header_size(), o.segment.length);
    const auto e = echoed_.empty() ? echoed_.end() : echoed_.find(o.conn.index);
    if (e != echoed_.end() && e->second.echo && e->second.generation == o.conn.generation) {
      // An echo sends no byte before it received it, and what it sent stays kept until
      // acknowledged; a gap (none is expected) goes out as zeros, never as a stray byte.
      const Echoed& kept = e->second;
      std::fill(out.begin(), out.end(), std::uint8_t{0});
      const std::uint64_t from = std::max(o.segment.stream_offset, kept.base);
      const std::uint64_t to = std::min(o.segment.stream_offset + o.segment.length, kept.in_order());
      if (from < to)
        std::copy(kept.bytes.begin() + static_cast<std::ptrdiff_t>(from - kept.base),
                  kept.bytes.begin() + static_cast<std::ptrdiff_t>(to - kept.base),
                  out.begin() + static_cast<std::ptrdiff_t>(from - o.segment.stream_offset));
    } else {
      const tcp::Connection& c = endpoint_.connection(o.conn);
      const std::uint64_t stream = payload_stream(o.src, th.src_port, o.dst, th.dst_port, c.iss().raw());
      fill_payload(stream, static_cast<std::uint32_t>(o.segment.stream_offset), out);
    }
  }
  // The payload is generated in place; emit_tcp writes the header around it.
  wire::emit_tcp(th, tcp_bytes.subspan(th.header_size()), o.src, o.dst, tcp_bytes);
  wire::Ipv4Header ip;
  ip.src = o.src;
  ip.dst = o.dst;
  ip.identification = next_ip_id_++;
  wire::emit_ipv4(ip, static_cast<std::uint16_t>(tcp_size), bytes);
  ++stats_.packets_sent;
  if (tcp_observer_ != nullptr) tcp_observer_->on_segment_sent(*this, o.conn, ip, th, o.segment.length);
  if (out_ != nullptr) out_->send(std::move(p));
}

void Host::service() {
  if (servicing_ || !up_) return;
  servicing_ = true;
  // The application may command connections from its callbacks, which queues more
  // segments and events: drain until both are empty.
  // Events are taken before the segments of the same step, so that a trace reads in
  // causal order (SYN_SENT, then the SYN); the application still sees them after the
  // segments went out, as it always has.
  // One queue, the endpoint's: events are shown to the traces as they come and taken
  // for the application after the segments.
  const auto report_events = [this] {
    while (auto e = endpoint_.next_unreported())
      if (tcp_observer_ != nullptr) tcp_observer_->on_tcp_event(*this, e->conn, e->event);
  };
  for (bool more = true; more;) {
    more = false;
    report_events();
    while (auto o = endpoint_.poll_transmit()) {
      transmit(*o);
      more = true;
    }
    report_events();
    // Those reported so far; the application's commands queue more behind them, for
    // the next round.
    for (std::size_t n = endpoint_.reported(); n > 0; --n) {
      const tcp::TaggedEvent e = *endpoint_.poll_event();
      if (app_ != nullptr) app_->on_event(*this, e.conn, e.event);
      more = true;
    }
  }
  while (auto id = endpoint_.poll_changed()) arm(*id);
  servicing_ = false;
}

void Host::arm(tcp::ConnId id) {
  if (wakeups_.size() <= id.index) wakeups_.resize(id.index + 1);
  const TimePoint deadline = endpoint_.deadline(id);
  Wakeup& w = wakeups_[id.index];
  // A wake-up left by an earlier connection in the same slot carries its old tag.
  if (w.generation != id.generation) {
    engine_.cancel(w.event);
    w = Wakeup{EventId(), id.generation};
  }
  if (deadline == TimePoint::max()) {
    engine_.cancel(w.event);
    return;
  }
  const std::uint64_t tag = static_cast<std::uint64_t>(id.index) << 32 | id.generation;
  if (!engine_.reschedule(w.event, deadline)) w.event = engine_.at(deadline, *this, tag);
}

void Host::on_event(std::uint64_t tag) {
  const tcp::ConnId id{static_cast<std::uint32_t>(tag >> 32), static_cast<std::uint32_t>(tag)};
  endpoint_.on_timeout(engine_.now(), id);
  service();
}

}  // namespace shakedown
