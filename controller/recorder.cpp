#include "controller/recorder.h"

#include "controller/resources.h"

namespace shakedown::controller {

namespace {

int retransmit_kind(tcp::SegmentKind k) {
  switch (k) {
    case tcp::SegmentKind::syn:
      return kRetransmitSyn;
    case tcp::SegmentKind::syn_ack:
      return kRetransmitSynAck;
    case tcp::SegmentKind::data:
      return kRetransmitData;
    case tcp::SegmentKind::fin:
      return kRetransmitFin;
    default:
      return -1;
  }
}

void first(std::int64_t& field, std::int64_t t) {
  if (field == kNever) field = t;
}

TraceNames names_of(const topology::Topology& topology, const Network& network) {
  TraceNames n;
  n.nodes.reserve(network.node_count());
  for (std::uint32_t i = 0; i < network.node_count(); ++i) n.nodes.push_back(network.name(i));
  n.links.reserve(static_cast<std::size_t>(topology.links_size()));
  for (const auto& l : topology.links()) n.links.emplace_back(l.a(), l.b());
  for (int i = 0; i < topology.nodes_size(); ++i)
    if (topology.nodes(i).has_real()) n.real.push_back(static_cast<std::uint32_t>(i));
  return n;
}

}  // namespace

int segment_class(std::string_view name) {
  static constexpr std::string_view names[] = {"SYN", "SYN-ACK", "ACK", "FIN", "RST", "DATA"};
  static_assert(std::size(names) == kSegmentClasses);
  for (int i = 0; i < kSegmentClasses; ++i)
    if (names[i] == name) return i;
  return -1;
}

Recorder::Recorder(const topology::Topology& topology, const Network& network, const std::string& events_path,
                   std::uint32_t event_kinds, bool keep_events)
    : names_(names_of(topology, network)),
      table_(static_cast<std::uint32_t>(network.node_count())),
      kinds_(events_path.empty() && !keep_events ? 0 : event_kinds),
      log_(kinds_ != 0 ? events_path : std::string(), keep_events, names_) {
  addresses_.resize(network.node_count());
  for (std::uint32_t n = 0; n < network.node_count(); ++n)
    if (network.is_host(n)) {
      addresses_[n] = network.address(n);
      table_.add_host(n, network.address(n));
    }
  // Room for the rows the workloads plan, so that the table never moves them all at
  // once mid-run (a pause of tens of milliseconds at 10^5 rows, which in a distributed
  // run every process waits out): address space only, until rows are made.
  std::uint64_t planned = 0;
  for (const auto& w : topology.workloads())
    planned += static_cast<std::uint64_t>(w.clients_size()) * static_cast<std::uint64_t>(std::max(w.connections(), 1u));
  const std::uint64_t room = std::min<std::uint64_t>(available_memory() / 2, std::uint64_t{8} << 30) / sizeof(ConnectionRow);
  table_.reserve(static_cast<std::size_t>(std::min(planned, room)));
}

ReportNeeds report_needs(std::uint32_t kinds, bool seen) {
  ReportNeeds n;
  n.pure_acks = (kinds & (kEventSegment | kEventCwnd)) != 0 || seen;
  n.rtt = (kinds & kEventRtt) != 0;
  n.recovery = (kinds & kEventRecovery) != 0;
  n.timers = (kinds & kEventTimer) != 0;
  n.timer_fired = (kinds & (kEventTimer | kEventCwnd)) != 0;
  return n;
}

ConnFacts facts_of(const Host& host, tcp::ConnId conn) {
  ConnFacts f;
  f.conn = conn;
  if (!conn.valid() || !host.tcp().alive(conn)) return f;
  const tcp::Connection& c = host.tcp().connection(conn);
  f.alive = true;
  f.remote = host.tcp().remote_address(conn);
  f.local_port = c.local_port();
  f.remote_port = c.remote_port();
  f.state = c.state();
  f.iss = c.iss().raw();
  f.irs = c.irs().raw();
  f.cwnd = c.congestion().cwnd();
  f.ssthresh = c.congestion().ssthresh();
  return f;
}

Recorder::~Recorder() = default;

TraceRecord Recorder::record(std::int64_t t, std::uint32_t host, std::uint32_t row, TraceRecord::Kind kind) const {
  TraceRecord r;
  r.t = t;
  r.host = host;
  r.conn = row;
  r.kind = kind;
  return r;
}

void Recorder::segment_record(TraceRecord::Kind kind, std::int64_t t, std::uint32_t host, std::uint32_t row,
                              const wire::Ipv4Header& ip, const wire::TcpHeader& tcp, std::uint32_t payload,
                              std::int64_t taken) {
  TraceRecord r = record(t, host, row, kind);
  set_segment(r, ip, tcp, payload);
  r.taken = taken;
  log_.add(r);
}

void Recorder::end_record(std::int64_t t, std::uint32_t host, std::uint32_t row, Outcome o) {
  if (!wants(kEventEnd)) return;
  TraceRecord r = record(t, host, row, TraceRecord::Kind::end);
  r.outcome = o;
  log_.add(r);
}

// --- pairing the two ends ---------------------------------------------------------------

Recorder::Where Recorder::locate(std::uint32_t host, const ConnFacts& c, const wire::Ipv4Header& ip,
                                 const wire::TcpHeader& tcp, bool sent) {
  if (c.conn.valid()) {
    if (const Where w = table_.find(host, c.conn.index, c.conn.generation); w.row != 0) return w;
    return table_.open(c.conn.index, c.conn.generation,
                       ConnectionTable::Opened{host, addresses_[host], c.remote, c.local_port, c.remote_port, c.state,
                                               c.iss, c.irs});
  }
  const ConnectionTable::Tuple sender = sent ? ConnectionTable::Tuple{ip.dst.value, ip.src.value, tcp.dst_port, tcp.src_port}
                                             : ConnectionTable::Tuple{ip.src.value, ip.dst.value, tcp.src_port, tcp.dst_port};
  return table_.stray(host, addresses_[host], sender, sent ? tcp.src_port : tcp.dst_port);
}

// --- what the hosts report --------------------------------------------------------------

void Recorder::note_seen(std::uint32_t host, const wire::TcpHeader& tcp, std::uint32_t payload, bool sent,
                         std::int64_t t, std::uint32_t row) {
  using namespace wire::tcp_flags;
  const auto note = [&](int c) {
    Seen& s = seen_[(host * kSegmentClasses + static_cast<std::size_t>(c)) * 2 + (sent ? 1 : 0)];
    if (s.first == kNever) {
      s.first = t;
      s.first_row = row;
    }
    s.last = t;
    s.last_row = row;
  };
  if (tcp.has(kRst)) note(kSeenRst);
  if (tcp.has(kSyn)) note(tcp.has(kAck) ? kSeenSynAck : kSeenSyn);
  if (tcp.has(kFin)) note(kSeenFin);
  if (payload > 0) note(kSeenData);
  if (tcp.flags == kAck && payload == 0) note(kSeenAck);
}

void Recorder::on_segment_sent(const Host& host, tcp::ConnId conn, const wire::Ipv4Header& ip,
                               const wire::TcpHeader& tcp, std::uint32_t payload) {
  segment_sent(host.now().ns(), host.node_id(), facts_of(host, conn), ip, tcp, payload);
}

void Recorder::segment_sent(std::int64_t t, std::uint32_t host, const ConnFacts& c, const wire::Ipv4Header& ip,
                            const wire::TcpHeader& tcp, std::uint32_t payload) {
  const Where w = locate(host, c, ip, tcp, true);
  if (!seen_.empty()) note_seen(host, tcp, payload, true, t, w.row);
  if (w.row != 0 && c.conn.valid()) {
    Side& s = side(w);
    if (tcp.has(wire::tcp_flags::kSyn)) first(tcp.has(wire::tcp_flags::kAck) ? s.synack_sent : s.syn_sent, t);
    if (payload > 0) {
      first(s.first_data_sent, t);
      const std::uint32_t offset = tcp.seq - (s.isn + 1) + (tcp.has(wire::tcp_flags::kSyn) ? 1u : 0u);
      s.bytes_sent = std::max<std::uint64_t>(s.bytes_sent, static_cast<std::uint64_t>(offset) + payload);
      s.bytes_on_wire += payload;
    }
    if (tcp.has(wire::tcp_flags::kFin)) first(s.fin_sent, t);
  }
  if (wants(kEventSegment)) segment_record(TraceRecord::Kind::send, t, host, w.row, ip, tcp, payload);
}

void Recorder::on_segment_received(const Host& host, const tcp::Input& input, const wire::Ipv4Header& ip,
                                   const wire::TcpHeader& tcp, std::uint32_t payload) {
  // How much of the payload TCP took, when not all of it: a duplicate, or a segment
  // refused (PAWS, outside the window) — the ladder marks those.
  std::int64_t taken = -1;
  if (payload > 0 && input.given() && input.taken.length < payload) taken = input.taken.length;
  segment_received(host.now().ns(), host.node_id(), facts_of(host, input.conn), taken, ip, tcp, payload);
}

void Recorder::segment_received(std::int64_t t, std::uint32_t host, const ConnFacts& c, std::int64_t taken,
                                const wire::Ipv4Header& ip, const wire::TcpHeader& tcp, std::uint32_t payload) {
  const Where w = locate(host, c, ip, tcp, false);
  if (!seen_.empty()) note_seen(host, tcp, payload, false, t, w.row);
  if (w.row != 0 && c.conn.valid()) {
    Side& s = side(w);
    if (tcp.has(wire::tcp_flags::kSyn)) first(tcp.has(wire::tcp_flags::kAck) ? s.synack_received : s.syn_received, t);
    if (payload > 0) s.last_data_received = t;
    if (tcp.has(wire::tcp_flags::kFin)) first(s.fin_received, t);
  }
  if (wants(kEventSegment)) segment_record(TraceRecord::Kind::recv, t, host, w.row, ip, tcp, payload, taken);
  if (wants(kEventCwnd) && w.row != 0 && c.conn.valid()) check_cwnd(host, c, w, t);
}

void Recorder::check_cwnd(std::uint32_t host, const ConnFacts& c, Where w, std::int64_t t) {
  if (!c.alive) return;
  Side& s = side(w);
  if (c.cwnd == s.cwnd) return;
  s.cwnd = c.cwnd;
  TraceRecord r = record(t, host, w.row, TraceRecord::Kind::cwnd);
  r.cwnd = c.cwnd;
  r.ssthresh = c.ssthresh;
  log_.add(r);
}

void Recorder::on_tcp_event(const Host& host, tcp::ConnId conn, const tcp::Event& e) {
  if (!conn.valid()) return;
  tcp_event(host.node_id(), facts_of(host, conn), e);
}

void Recorder::tcp_event(std::uint32_t h, const ConnFacts& c, const tcp::Event& e) {
  if (!c.conn.valid()) return;
  const std::int64_t t = e.time.ns();
  const Where w = locate(h, c, wire::Ipv4Header{}, wire::TcpHeader{}, false);
  if (w.row == 0) return;
  Side& s = side(w);
  using K = TraceRecord::Kind;
  switch (e.kind) {
    case tcp::EventKind::state_changed:
      s.state = e.to;
      if (timelines_) s.timeline.emplace_back(t, e.to);
      if (e.to == tcp::State::established) first(s.established, t);
      if (e.to == tcp::State::time_wait) first(s.time_wait_entered, t);
      if (e.from == tcp::State::time_wait) first(s.time_wait_left, t);
      if (wants(kEventState)) {
        TraceRecord r = record(t, h, w.row, K::state);
        r.from = e.from;
        r.to = e.to;
        log_.add(r);
      }
      break;
    case tcp::EventKind::retransmission:
      if (const int k = retransmit_kind(e.segment); k >= 0) ++s.retransmissions[k];
      if (wants(kEventRetransmit)) {
        TraceRecord r = record(t, h, w.row, K::retransmit);
        r.segment = e.segment;
        r.seq = e.seq;
        r.cause = e.cause;
        log_.add(r);
      }
      break;
    case tcp::EventKind::recovery:
      if (wants(kEventRecovery)) {
        TraceRecord r = record(t, h, w.row, K::recovery);
        r.cwnd = static_cast<std::uint32_t>(e.bytes);
        log_.add(r);
      }
      break;
    case tcp::EventKind::timer_fired:
      if (wants(kEventTimer)) {
        TraceRecord r = record(t, h, w.row, K::timer);
        r.timer = e.timer;
        log_.add(r);
      }
      if (wants(kEventCwnd) && e.timer == tcp::Timer::retransmission) check_cwnd(h, c, w, t);
      break;
    case tcp::EventKind::timer_set:
      if (wants(kEventTimer)) {
        TraceRecord r = record(t, h, w.row, K::timer_set);
        r.timer = e.timer;
        r.deadline = e.deadline.ns();
        log_.add(r);
      }
      break;
    case tcp::EventKind::rtt_sample:
      if (wants(kEventRtt)) {
        TraceRecord r = record(t, h, w.row, K::rtt);
        r.rtt = e.rtt.ns();
        r.rto = e.rto.ns();
        log_.add(r);
      }
      break;
    case tcp::EventKind::data_received:
      s.bytes_received += e.bytes;
      break;
    case tcp::EventKind::peer_closed:
      break;
    case tcp::EventKind::reset:
    case tcp::EventKind::refused:
    case tcp::EventKind::timed_out:
    case tcp::EventKind::closed: {
      Outcome o = Outcome::completed;
      if (e.kind == tcp::EventKind::timed_out) o = Outcome::timed_out;
      if (e.kind == tcp::EventKind::reset) o = Outcome::reset;
      if (e.kind == tcp::EventKind::refused) o = Outcome::refused;
      table_.end(w, o, t, timelines_);
      end_record(t, h, w.row, o);
      break;
    }
  }
}

void Recorder::on_crash(const Host& host) { crashed(host.now().ns(), host.node_id()); }

void Recorder::crashed(std::int64_t t, std::uint32_t host) {
  for (const Where w : table_.crash(host, t, timelines_)) end_record(t, host, w.row, Outcome::crashed);
}

void Recorder::on_packet(const PacketEvent& e) {
  if (e.kind != PacketEventKind::drop || !wants(kEventDrop)) return;
  TraceRecord r = record(e.time.ns(), TraceRecord::kUnknownHost, 0, TraceRecord::Kind::drop);
  r.reason = e.reason;
  r.site = e.site;
  // A corrupted packet may not parse; it is still a drop, written without its headers.
  const auto ip = wire::parse_ipv4(e.packet.bytes(), /*verify_checksum=*/false);
  if (ip.ok()) {
    const auto& h = ip.value.header;
    r.host = table_.host_of(h.src);
    const auto seg = wire::parse_tcp(ip.value.payload, h.src, h.dst, false);
    if (seg.ok()) {
      const wire::TcpHeader& th = seg.value.header;
      r.conn = table_.row_sending(ConnectionTable::Tuple{h.src.value, h.dst.value, th.src_port, th.dst_port});
      set_segment(r, h, th, static_cast<std::uint32_t>(seg.value.payload.size()));
    }
  }
  log_.add(r);
}

}  // namespace shakedown::controller
