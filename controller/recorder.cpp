#include "controller/recorder.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "emulator/random.h"

namespace shakedown::controller {

namespace {

constexpr std::pair<const char*, std::uint32_t> kKinds[] = {
    {"state", kEventState},   {"segment", kEventSegment},   {"retransmit", kEventRetransmit},
    {"timer", kEventTimer},   {"rtt", kEventRtt},           {"recovery", kEventRecovery},
    {"drop", kEventDrop},     {"end", kEventEnd},           {"cwnd", kEventCwnd},
};

// "SYN,ACK" for every value of the flags byte, made once (wire::flags_to_string
// allocates; a trace line must not).
std::string_view flag_names(std::uint8_t f) {
  static const auto table = [] {
    std::array<std::string, 256> t;
    for (int i = 0; i < 256; ++i) t[static_cast<std::size_t>(i)] = wire::flags_to_string(static_cast<std::uint8_t>(i));
    return t;
  }();
  return table[f];
}

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

std::string_view cause_name(tcp::RetransmitCause c) {
  switch (c) {
    case tcp::RetransmitCause::timeout:
      return "rto";
    case tcp::RetransmitCause::fast_retransmit:
      return "fast_retransmit";
    case tcp::RetransmitCause::partial_ack:
      return "partial_ack";
    case tcp::RetransmitCause::sack:
      return "sack";
    case tcp::RetransmitCause::duplicate_syn:
      return "duplicate_syn";
  }
  return "?";
}

std::string_view segment_kind_name(tcp::SegmentKind k) {
  switch (k) {
    case tcp::SegmentKind::syn:
      return "syn";
    case tcp::SegmentKind::syn_ack:
      return "syn_ack";
    case tcp::SegmentKind::data:
      return "data";
    case tcp::SegmentKind::fin:
      return "fin";
    case tcp::SegmentKind::rst:
      return "rst";
    case tcp::SegmentKind::ack:
      return "ack";
  }
  return "?";
}

void first(std::int64_t& field, std::int64_t t) {
  if (field == kNever) field = t;
}

struct Endpoint {
  wire::Ipv4Address address;
  std::uint16_t port;
};

}  // namespace
}  // namespace shakedown::controller

template <>
struct fmt::formatter<shakedown::controller::Endpoint> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <typename Context>
  auto format(const shakedown::controller::Endpoint& e, Context& ctx) const {
    const std::uint32_t a = e.address.value;
    return fmt::format_to(ctx.out(), FMT_COMPILE("{}.{}.{}.{}:{}"), a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
                          a & 0xff, e.port);
  }
};

namespace shakedown::controller {
namespace {

std::string time_field(std::int64_t t) { return t == kNever ? std::string() : std::to_string(t); }

}  // namespace

std::uint32_t parse_event_kinds(const std::string& text) {
  if (text == "all") return kEventAll;
  if (text == "none" || text.empty()) return 0;
  std::uint32_t kinds = 0;
  std::stringstream in(text);
  for (std::string k; std::getline(in, k, ',');) {
    bool known = false;
    for (const auto& [name, bit] : kKinds) {
      if (k == name) {
        kinds |= bit;
        known = true;
      }
    }
    if (!known) throw std::invalid_argument(fmt::format("unknown event kind '{}': expected all, none, or some of {}", k, kEventKindNames));
  }
  return kinds;
}

int segment_class(std::string_view name) {
  static constexpr std::string_view names[] = {"SYN", "SYN-ACK", "ACK", "FIN", "RST", "DATA"};
  for (int i = 0; i < kSegmentClasses; ++i)
    if (names[i] == name) return i;
  return -1;
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::open:
      return "open";
    case Outcome::completed:
      return "completed";
    case Outcome::reset:
      return "reset";
    case Outcome::refused:
      return "refused";
    case Outcome::timed_out:
      return "timed_out";
    case Outcome::crashed:
      return "crashed";
  }
  return "?";
}

std::string_view retransmit_kind_name(int kind) {
  static constexpr std::string_view names[] = {"syn", "syn_ack", "data", "fin"};
  return names[kind];
}

Outcome Connection::outcome() const {
  bool all_completed = true;
  for (const Side& s : side) {
    if (!s.present() || !s.has_conn) continue;
    if (s.outcome != Outcome::completed && s.outcome != Outcome::open) return s.outcome;
    if (s.outcome != Outcome::completed) all_completed = false;
  }
  return all_completed ? Outcome::completed : Outcome::open;
}

std::int64_t Connection::handshake() const {
  const Side& c = side[0];
  if (c.syn_sent == kNever || c.established == kNever) return kNever;
  return c.established - c.syn_sent;
}

Connection::Data Connection::data() const {
  Data d;
  for (const Side& s : side) {
    if (!s.has_conn) continue;
    d.delivered += s.bytes_received;
    d.on_wire += s.bytes_on_wire;
    if (s.first_data_sent != kNever && (d.begin == kNever || s.first_data_sent < d.begin)) d.begin = s.first_data_sent;
    if (s.last_data_received != kNever) d.end = std::max(d.end, s.last_data_received);
  }
  return d;
}

double Connection::Data::bps(std::uint64_t bytes) const {
  return span() > 0 && bytes > 0 ? static_cast<double>(bytes) * 8e9 / static_cast<double>(span()) : -1;
}

double Connection::goodput_bps() const {
  const Data d = data();
  return d.bps(d.delivered);
}

double Connection::throughput_bps() const {
  const Data d = data();
  return d.bps(d.on_wire);
}

std::int64_t Connection::teardown() const {
  std::int64_t start = kNever, end = 0;
  for (const Side& s : side) {
    if (!s.has_conn) continue;
    if (s.fin_sent != kNever && (start == kNever || s.fin_sent < start)) start = s.fin_sent;
    // Done with the exchange of FINs: TIME_WAIT (the active closer) or CLOSED (the
    // passive one, or a simultaneous close's TIME_WAIT).
    std::int64_t done = s.time_wait_entered;
    if (done == kNever && s.outcome == Outcome::completed) done = s.closed;
    if (done == kNever) return kNever;
    end = std::max(end, done);
  }
  return start == kNever ? kNever : end - start;
}

std::size_t Recorder::TupleHash::operator()(const Tuple& t) const {
  std::uint64_t ports = static_cast<std::uint64_t>(t.sport) << 16 | t.dport;
  std::uint64_t x = (static_cast<std::uint64_t>(t.src) << 32 | t.dst) ^ splitmix64(ports);
  return static_cast<std::size_t>(splitmix64(x));
}

std::size_t Recorder::PairKeyHash::operator()(const PairKey& k) const {
  std::uint64_t isn = k.isn;
  return TupleHash{}(k.tuple) ^ static_cast<std::size_t>(splitmix64(isn));
}

Recorder::Recorder(const topology::Topology& topology, const Network& network, const std::string& events_path,
                   std::uint32_t event_kinds)
    : topology_(topology), network_(network), kinds_(event_kinds) {
  if (!events_path.empty()) {
    events_.emplace(events_path);
  } else {
    kinds_ = 0;
  }
  slots_.resize(network.node_count());
  for (std::uint32_t n = 0; n < network.node_count(); ++n)
    if (network.is_host(n)) host_by_address_[network.address(n).value] = n;
}

Recorder::~Recorder() = default;

void Recorder::flush() {
  if (events_) events_->flush();
}

// --- events.jsonl -----------------------------------------------------------------------

void Recorder::begin_line(std::int64_t t, std::string_view host, std::uint32_t row, std::string_view ev) {
  line_.clear();
  if (row == 0)
    fmt::format_to(fmt::appender(line_), FMT_COMPILE(R"({{"t":{},"host":"{}","conn":null,"ev":"{}")"), t, host, ev);
  else
    fmt::format_to(fmt::appender(line_), FMT_COMPILE(R"({{"t":{},"host":"{}","conn":{},"ev":"{}")"), t, host, row,
                   ev);
}

void Recorder::end_line() {
  line_.append(std::string_view("}\n"));
  events_->add(std::string_view(line_.data(), line_.size()));
  events_->end();
  ++events_written_;
}

void Recorder::segment_line(std::string_view ev, std::int64_t t, const std::string& host, std::uint32_t row,
                            const wire::Ipv4Header& ip, const wire::TcpHeader& tcp, std::uint32_t payload,
                            std::optional<std::uint32_t> taken) {
  begin_line(t, host, row, ev);
  fmt::format_to(fmt::appender(line_),
                 FMT_COMPILE(R"(,"src":"{}","dst":"{}","flags":"{}","seq":{},"ack":{},"len":{},"win":{},"ipid":{})"),
                 Endpoint{ip.src, tcp.src_port}, Endpoint{ip.dst, tcp.dst_port}, flag_names(tcp.flags), tcp.seq,
                 tcp.ack, payload, tcp.window, ip.identification);
  if (taken) fmt::format_to(fmt::appender(line_), FMT_COMPILE(R"(,"taken":{})"), *taken);
  end_line();
}

std::string Recorder::site_name(const Site& s) const {
  if (s.kind == Site::Kind::node) return network_.name(s.id);
  const topology::Link& l = topology_.links(static_cast<int>(s.id));
  const std::uint32_t from = s.direction == 0 ? l.a() : l.b(), to = s.direction == 0 ? l.b() : l.a();
  return fmt::format("{}->{}", network_.name(from), network_.name(to));
}

// --- pairing the two ends ---------------------------------------------------------------

Recorder::Where Recorder::adopt(const Host& host, tcp::ConnId conn) {
  const tcp::Connection& c = host.tcp().connection(conn);
  const std::uint32_t local = host.address().value, remote = host.tcp().remote_address(conn).value;
  const Tuple mine{local, remote, c.local_port(), c.remote_port()};
  const Tuple theirs{remote, local, c.remote_port(), c.local_port()};
  Where w;
  if (c.state() == tcp::State::syn_sent) {
    // An active open; or the second of a simultaneous open, which joins the first.
    if (const std::uint32_t* first = opening_.find(theirs);
        first != nullptr && !rows_[*first - 1].side[1].has_conn) {
      w = {*first, 1};
      const Side& other = rows_[*first - 1].side[0];
      unpaired_.erase(PairKey{theirs, other.isn});
      opening_.erase(theirs);
    } else {
      rows_.push_back(Connection{rows_.size() + 1, {}});
      w = {static_cast<std::uint32_t>(rows_.size()), 0};
      unpaired_.put(PairKey{mine, c.iss().raw()}, w.row);
      opening_.put(mine, w.row);
      ++live_rows_;
    }
  } else {
    // A passive open: the client with this four-tuple and ISN, if it still waits for
    // its server; otherwise (an old duplicate SYN) a row of its own.
    if (const std::uint32_t* client = unpaired_.find(PairKey{theirs, c.irs().raw()}); client != nullptr) {
      w = {*client, 1};
      unpaired_.erase(PairKey{theirs, c.irs().raw()});
      opening_.erase(theirs);
    } else {
      rows_.push_back(Connection{rows_.size() + 1, {}});
      w = {static_cast<std::uint32_t>(rows_.size()), 1};
      ++live_rows_;
    }
  }
  Side& s = side(w);
  s.host = host.node_id();
  s.address = host.address();
  s.port = c.local_port();
  s.isn = c.iss().raw();
  s.has_conn = true;
  s.state = c.state();
  by_tuple_.put(mine, w);
  // The peer's address is known even before its side is: a client whose SYN never
  // reaches a server is still drawn against that server.
  Side& peer = rows_[w.row - 1].side[1 - w.side];
  if (!peer.present()) {
    if (auto h = host_by_address_.find(remote); h != host_by_address_.end()) peer.host = h->second;
    peer.address = wire::Ipv4Address{remote};
    peer.port = c.remote_port();
  }
  return w;
}

Recorder::Where Recorder::locate(const Host& host, tcp::ConnId conn, const wire::Ipv4Header& ip,
                                 const wire::TcpHeader& tcp, bool sent) {
  if (conn.valid()) {
    auto& v = slots_[host.node_id()];
    if (v.size() <= conn.index) v.resize(conn.index + 1);
    Slot& slot = v[conn.index];
    if (slot.row != 0 && slot.generation == conn.generation) return {slot.row, slot.side};
    const Where w = adopt(host, conn);
    slot = Slot{conn.generation, w.row, w.side};
    return w;
  }
  // A segment no connection owns (a RST for a stray segment, a refused SYN): it
  // belongs to the connection of whoever sent on the reverse tuple.
  const Tuple sender = sent ? Tuple{ip.dst.value, ip.src.value, tcp.dst_port, tcp.src_port}
                            : Tuple{ip.src.value, ip.dst.value, tcp.src_port, tcp.dst_port};
  const Where* latest = by_tuple_.find(sender);
  if (latest == nullptr) return {};
  const Where w{latest->row, static_cast<std::uint8_t>(1 - latest->side)};
  Side& s = side(w);
  if (!s.present()) {
    s.host = host.node_id();
    s.address = host.address();
    s.port = sent ? tcp.src_port : tcp.dst_port;
  }
  return w;
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
  const std::int64_t t = host.now().ns();
  const Where w = locate(host, conn, ip, tcp, true);
  if (!seen_.empty()) note_seen(host.node_id(), tcp, payload, true, t, w.row);
  if (w.row != 0 && conn.valid()) {
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
  if ((kinds_ & kEventSegment) != 0) segment_line("send", t, network_.name(host.node_id()), w.row, ip, tcp, payload);
}

void Recorder::on_segment_received(const Host& host, tcp::ConnId conn, const wire::Ipv4Header& ip,
                                   const wire::TcpHeader& tcp, std::uint32_t payload) {
  const std::int64_t t = host.now().ns();
  const Where w = locate(host, conn, ip, tcp, false);
  if (!seen_.empty()) note_seen(host.node_id(), tcp, payload, false, t, w.row);
  if (w.row != 0 && conn.valid()) {
    Side& s = side(w);
    if (tcp.has(wire::tcp_flags::kSyn)) first(tcp.has(wire::tcp_flags::kAck) ? s.synack_received : s.syn_received, t);
    if (payload > 0) s.last_data_received = t;
    if (tcp.has(wire::tcp_flags::kFin)) first(s.fin_received, t);
  }
  if ((kinds_ & kEventSegment) != 0) {
    // How much of the payload TCP took, when not all of it: a duplicate, or a segment
    // refused (PAWS, outside the window) — the ladder marks those.
    std::optional<std::uint32_t> taken;
    if (payload > 0 && conn.valid() && host.tcp().alive(conn)) {
      const std::uint32_t n = host.tcp().connection(conn).last_taken().length;
      if (n < payload) taken = n;
    }
    segment_line("recv", t, network_.name(host.node_id()), w.row, ip, tcp, payload, taken);
  }
  if ((kinds_ & kEventCwnd) != 0 && w.row != 0 && conn.valid()) check_cwnd(host, conn, w, t);
}

void Recorder::check_cwnd(const Host& host, tcp::ConnId conn, Where w, std::int64_t t) {
  if (!host.tcp().alive(conn)) return;
  const auto& cc = host.tcp().connection(conn).congestion();
  Side& s = side(w);
  if (cc.cwnd() == s.cwnd) return;
  s.cwnd = cc.cwnd();
  begin_line(t, network_.name(host.node_id()), w.row, "cwnd");
  fmt::format_to(fmt::appender(line_), FMT_COMPILE(R"(,"cwnd":{},"ssthresh":{})"), cc.cwnd(), cc.ssthresh());
  end_line();
}

void Recorder::end_side(Where w, Outcome outcome, std::int64_t t) {
  Side& s = side(w);
  if (s.ended) return;
  s.ended = true;
  s.outcome = outcome;
  if (s.closed == kNever) s.closed = t;
  if (timelines_ && (s.timeline.empty() || s.timeline.back().second != tcp::State::closed))
    s.timeline.emplace_back(t, tcp::State::closed);
  Connection& row = rows_[w.row - 1];
  if (w.side == 0) {
    unpaired_.erase(PairKey{Tuple{s.address.value, row.side[1].address.value, s.port, row.side[1].port}, s.isn});
    opening_.erase(Tuple{s.address.value, row.side[1].address.value, s.port, row.side[1].port});
  }
  bool done = true;
  for (const Side& x : row.side)
    if (x.has_conn && !x.ended) done = false;
  if (done) {
    --live_rows_;
    // Forget the tuples, unless a newer connection already took them over.
    for (std::uint8_t i = 0; i < 2; ++i) {
      const Side& x = row.side[i];
      if (!x.has_conn) continue;
      const Tuple tup{x.address.value, row.side[1 - i].address.value, x.port, row.side[1 - i].port};
      if (const Where* latest = by_tuple_.find(tup); latest != nullptr && latest->row == w.row) by_tuple_.erase(tup);
    }
  }
}

void Recorder::on_tcp_event(const Host& host, tcp::ConnId conn, const tcp::Event& e) {
  if (!conn.valid()) return;
  const std::int64_t t = e.time.ns();
  const Where w = locate(host, conn, wire::Ipv4Header{}, wire::TcpHeader{}, false);
  if (w.row == 0) return;
  Side& s = side(w);
  const bool write = events_.has_value();
  const std::string& name = network_.name(host.node_id());
  switch (e.kind) {
    case tcp::EventKind::state_changed:
      s.state = e.to;
      if (timelines_) s.timeline.emplace_back(t, e.to);
      if (e.to == tcp::State::established) first(s.established, t);
      if (e.to == tcp::State::time_wait) first(s.time_wait_entered, t);
      if (e.from == tcp::State::time_wait) first(s.time_wait_left, t);
      if (write && (kinds_ & kEventState) != 0) {
        begin_line(t, name, w.row, "state");
        fmt::format_to(fmt::appender(line_), FMT_COMPILE(R"(,"from":"{}","to":"{}")"), tcp::to_string(e.from),
                       tcp::to_string(e.to));
        end_line();
      }
      break;
    case tcp::EventKind::retransmission:
      if (const int k = retransmit_kind(e.segment); k >= 0) ++s.retransmissions[k];
      if (write && (kinds_ & kEventRetransmit) != 0) {
        begin_line(t, name, w.row, "retransmit");
        fmt::format_to(fmt::appender(line_), FMT_COMPILE(R"(,"segment":"{}","seq":{},"cause":"{}")"),
                       segment_kind_name(e.segment), e.seq, cause_name(e.cause));
        end_line();
      }
      break;
    case tcp::EventKind::recovery:
      if (write && (kinds_ & kEventRecovery) != 0) {
        begin_line(t, name, w.row, "recovery");
        fmt::format_to(fmt::appender(line_), FMT_COMPILE(R"(,"cwnd":{})"), e.bytes);
        end_line();
      }
      break;
    case tcp::EventKind::timer_fired:
      if (write && (kinds_ & kEventTimer) != 0) {
        begin_line(t, name, w.row, "timer");
        fmt::format_to(fmt::appender(line_), FMT_COMPILE(R"(,"timer":"{}")"), tcp::to_string(e.timer));
        end_line();
      }
      if (write && (kinds_ & kEventCwnd) != 0 && e.timer == tcp::Timer::retransmission) check_cwnd(host, conn, w, t);
      break;
    case tcp::EventKind::timer_set:
      if (write && (kinds_ & kEventTimer) != 0) {
        begin_line(t, name, w.row, "timer_set");
        fmt::format_to(fmt::appender(line_), FMT_COMPILE(R"(,"timer":"{}","deadline":{})"), tcp::to_string(e.timer),
                       e.deadline.ns());
        end_line();
      }
      break;
    case tcp::EventKind::rtt_sample:
      if (write && (kinds_ & kEventRtt) != 0) {
        begin_line(t, name, w.row, "rtt");
        fmt::format_to(fmt::appender(line_), FMT_COMPILE(R"(,"rtt":{},"rto":{})"), e.rtt.ns(), e.rto.ns());
        end_line();
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
      end_side(w, o, t);
      if (write && (kinds_ & kEventEnd) != 0) {
        begin_line(t, name, w.row, "end");
        fmt::format_to(fmt::appender(line_), FMT_COMPILE(R"(,"outcome":"{}")"), to_string(o));
        end_line();
      }
      break;
    }
  }
}

void Recorder::on_crash(const Host& host) {
  const std::int64_t t = host.now().ns();
  auto& v = slots_[host.node_id()];
  for (const Slot& slot : v) {
    if (slot.row == 0) continue;
    const Where w{slot.row, slot.side};
    if (side(w).ended) continue;
    end_side(w, Outcome::crashed, t);
    if (events_.has_value() && (kinds_ & kEventEnd) != 0) {
      begin_line(t, network_.name(host.node_id()), w.row, "end");
      line_.append(std::string_view(R"(,"outcome":"crashed")"));
      end_line();
    }
  }
  // A restarted host numbers its connections afresh.
  v.clear();
}

void Recorder::on_packet(const PacketEvent& e) {
  if (e.kind != PacketEventKind::drop) return;
  if (!events_.has_value() || (kinds_ & kEventDrop) == 0) return;
  // A corrupted packet may not parse; it is still a drop, written without its headers.
  const auto ip = wire::parse_ipv4(e.packet.bytes(), /*verify_checksum=*/false);
  std::uint32_t row = 0;
  std::string host = "?";
  std::string fields;
  if (ip.ok()) {
    const auto seg = wire::parse_tcp(ip.value.payload, ip.value.header.src, ip.value.header.dst, false);
    if (auto h = host_by_address_.find(ip.value.header.src.value); h != host_by_address_.end())
      host = network_.name(h->second);
    if (seg.ok()) {
      const wire::TcpHeader& th = seg.value.header;
      const Tuple tup{ip.value.header.src.value, ip.value.header.dst.value, th.src_port, th.dst_port};
      if (const Where* latest = by_tuple_.find(tup); latest != nullptr) row = latest->row;
      fields = fmt::format(R"(,"src":"{}:{}","dst":"{}:{}","flags":"{}","seq":{},"ack":{},"len":{},"ipid":{})",
                           wire::to_string(ip.value.header.src), th.src_port, wire::to_string(ip.value.header.dst),
                           th.dst_port, flag_names(th.flags), th.seq, th.ack, seg.value.payload.size(),
                           ip.value.header.identification);
    }
  }
  begin_line(e.time.ns(), host, row, "drop");
  fmt::format_to(fmt::appender(line_), FMT_COMPILE(R"(,"reason":"{}","at":"{}")"), to_string(e.reason), site_name(e.site));
  line_.append(std::string_view(fields));
  end_line();
}

// --- connections.csv --------------------------------------------------------------------

void Recorder::write_connections(const std::string& path) const {
  // Under a temporary name, renamed into place when whole (as write_file does).
  const std::string tmp = path + ".partial";
  std::ofstream out(tmp, std::ios::binary);
  if (!out) throw std::runtime_error(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  out << "id,outcome,client,client_address,server,server_address,handshake_ns,teardown_ns";
  for (const char* who : {"client", "server"}) {
    for (const char* f : {"isn", "syn_sent_ns", "syn_received_ns", "synack_sent_ns", "synack_received_ns",
                          "established_ns", "first_data_sent_ns", "last_data_received_ns", "fin_sent_ns",
                          "fin_received_ns", "time_wait_entered_ns", "time_wait_left_ns", "closed_ns", "bytes_sent",
                          "bytes_received", "retx_syn", "retx_syn_ack", "retx_data", "retx_fin", "outcome"})
      out << ',' << who << '_' << f;
  }
  out << '\n';
  std::string line;
  for (const Connection& c : rows_) {
    line.clear();
    const auto name = [&](const Side& s) { return s.present() ? network_.name(s.host) : std::string(); };
    const auto addr = [&](const Side& s) {
      return s.address.value == 0 ? std::string() : fmt::format("{}:{}", wire::to_string(s.address), s.port);
    };
    fmt::format_to(std::back_inserter(line), "{},{},{},{},{},{},{},{}", c.id, to_string(c.outcome()), name(c.side[0]),
                   addr(c.side[0]), name(c.side[1]), addr(c.side[1]), time_field(c.handshake()),
                   time_field(c.teardown()));
    for (const Side& s : c.side) {
      if (!s.has_conn) {
        line += std::string(20, ',');
        continue;
      }
      fmt::format_to(std::back_inserter(line), ",{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", s.isn,
                     time_field(s.syn_sent), time_field(s.syn_received), time_field(s.synack_sent),
                     time_field(s.synack_received), time_field(s.established), time_field(s.first_data_sent),
                     time_field(s.last_data_received), time_field(s.fin_sent), time_field(s.fin_received),
                     time_field(s.time_wait_entered), time_field(s.time_wait_left), time_field(s.closed),
                     s.bytes_sent, s.bytes_received, s.retransmissions[0], s.retransmissions[1],
                     s.retransmissions[2], s.retransmissions[3], to_string(s.outcome));
    }
    line += '\n';
    out << line;
  }
  out.close();
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path));
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
}

}  // namespace shakedown::controller
