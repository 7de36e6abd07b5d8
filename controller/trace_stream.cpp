#include "controller/trace_stream.h"

#include "emulator/bytes.h"

#include <cstring>
#include <queue>
#include <stdexcept>
#include <tuple>
#include <type_traits>

#include <fmt/format.h>

#include "nodes/host.h"

namespace shakedown::controller {

namespace {

// Records are the reports' own structures, copied as bytes: every process of a run is
// the same binary.
static_assert(std::is_trivially_copyable_v<ConnFacts> && std::is_trivially_copyable_v<wire::Ipv4Header> &&
              std::is_trivially_copyable_v<wire::TcpHeader> && std::is_trivially_copyable_v<tcp::Event>);

enum Type : std::uint8_t { kSent, kReceived, kTcpEvent, kCrash, kPacket };

// Where a record falls in the order of one process.
struct Place {
  std::int64_t t;
  Owner owner, source;
  std::uint64_t count;
  std::uint32_t step;
  auto operator<=>(const Place&) const = default;
};
constexpr std::size_t kHeader = sizeof(std::int64_t) + 2 * sizeof(Owner) + sizeof(std::uint64_t) +
                                sizeof(std::uint32_t) + sizeof(std::uint8_t) + sizeof(std::uint32_t);

using bytes::put;
using bytes::take;

Place place_of(const char* p) {
  Place w{};
  w.t = take<std::int64_t>(p);
  w.owner = take<Owner>(p);
  w.source = take<Owner>(p);
  w.count = take<std::uint64_t>(p);
  w.step = take<std::uint32_t>(p);
  return w;
}

}  // namespace

// type, then the body's length, written when the body is done (see the callers).
void TraceShipper::header(std::uint8_t type, std::int64_t t) {
  const Scheduler::Key& k = engine_.running_key();
  put(out_, t);
  put(out_, k.owner);
  put(out_, k.source);
  put(out_, k.count);
  put(out_, engine_.running_step());
  put(out_, type);
  put(out_, std::uint32_t{0});
}

namespace {
// Fills in the body length of the record whose header ends at `body`.
void close_record(std::string& out, std::size_t body) {
  const auto n = static_cast<std::uint32_t>(out.size() - body);
  std::memcpy(out.data() + body - sizeof n, &n, sizeof n);
}
}  // namespace

namespace {
bool pure_ack(tcp::ConnId conn, const wire::TcpHeader& tcp, std::uint32_t payload) {
  return conn.valid() && tcp.flags == wire::tcp_flags::kAck && payload == 0;
}
}  // namespace

void TraceShipper::on_segment_sent(const Host& host, tcp::ConnId conn, const wire::Ipv4Header& ip,
                                   const wire::TcpHeader& tcp, std::uint32_t payload) {
  if (!needs_.pure_acks && pure_ack(conn, tcp, payload)) return;
  header(kSent, engine_.now().ns());
  const std::size_t body = out_.size();
  put(out_, host.node_id());
  put(out_, facts_of(host, conn));
  put(out_, ip);
  put(out_, tcp);
  put(out_, payload);
  close_record(out_, body);
}

void TraceShipper::on_segment_received(const Host& host, const tcp::Input& input, const wire::Ipv4Header& ip,
                                       const wire::TcpHeader& tcp, std::uint32_t payload) {
  if (!needs_.pure_acks && pure_ack(input.conn, tcp, payload)) return;
  header(kReceived, engine_.now().ns());
  const std::size_t body = out_.size();
  std::int64_t taken = -1;
  if (payload > 0 && input.given() && input.taken.length < payload) taken = input.taken.length;
  put(out_, host.node_id());
  put(out_, facts_of(host, input.conn));
  put(out_, taken);
  put(out_, ip);
  put(out_, tcp);
  put(out_, payload);
  close_record(out_, body);
}

void TraceShipper::on_tcp_event(const Host& host, tcp::ConnId conn, const tcp::Event& event) {
  if (!conn.valid()) return;  // the recorder ignores these
  switch (event.kind) {
    case tcp::EventKind::rtt_sample:
      if (!needs_.rtt) return;
      break;
    case tcp::EventKind::recovery:
      if (!needs_.recovery) return;
      break;
    case tcp::EventKind::timer_set:
      if (!needs_.timers) return;
      break;
    case tcp::EventKind::timer_fired:
      if (!needs_.timer_fired) return;
      break;
    case tcp::EventKind::peer_closed:
      return;  // nothing recorded of it
    default:
      break;
  }
  header(kTcpEvent, engine_.now().ns());
  const std::size_t body = out_.size();
  put(out_, host.node_id());
  put(out_, facts_of(host, conn));
  put(out_, event);
  close_record(out_, body);
}

bool LocalRecording::opens(const Host& host, tcp::ConnId conn) {
  return !conn.valid() || local_.side_of(host.node_id(), conn) == nullptr;
}

void LocalRecording::on_segment_sent(const Host& host, tcp::ConnId conn, const wire::Ipv4Header& ip,
                                     const wire::TcpHeader& tcp, std::uint32_t payload) {
  if (opens(host, conn)) shipper_.on_segment_sent(host, conn, ip, tcp, payload);
  local_.on_segment_sent(host, conn, ip, tcp, payload);
}

void LocalRecording::on_segment_received(const Host& host, const tcp::Input& input, const wire::Ipv4Header& ip,
                                         const wire::TcpHeader& tcp, std::uint32_t payload) {
  if (opens(host, input.conn)) shipper_.on_segment_received(host, input, ip, tcp, payload);
  local_.on_segment_received(host, input, ip, tcp, payload);
}

void LocalRecording::on_tcp_event(const Host& host, tcp::ConnId conn, const tcp::Event& event) {
  if (!conn.valid()) return;  // the recorder ignores these
  bool ends = false;
  switch (event.kind) {
    case tcp::EventKind::reset:
    case tcp::EventKind::refused:
    case tcp::EventKind::timed_out:
    case tcp::EventKind::closed:
      ends = true;
      break;
    default:
      break;
  }
  if (ends || opens(host, conn)) shipper_.on_tcp_event(host, conn, event);
  local_.on_tcp_event(host, conn, event);
}

void LocalRecording::on_crash(const Host& host) {
  shipper_.on_crash(host);
  local_.on_crash(host);
}

void TraceShipper::on_crash(const Host& host) {
  header(kCrash, engine_.now().ns());
  const std::size_t body = out_.size();
  put(out_, host.node_id());
  close_record(out_, body);
}

void TraceShipper::on_packet(const PacketEvent& e) {
  if (!every_packet_ && e.kind != PacketEventKind::drop) return;
  header(kPacket, e.time.ns());
  const std::size_t body = out_.size();
  put(out_, static_cast<std::uint8_t>(e.kind));
  put(out_, static_cast<std::uint8_t>(e.site.kind));
  put(out_, e.site.id);
  put(out_, e.site.direction);
  put(out_, static_cast<std::uint8_t>(e.reason));
  put(out_, static_cast<std::uint8_t>((e.packet.corrupted ? 1 : 0) | (e.packet.duplicate ? 2 : 0)));
  const auto bytes = e.packet.bytes();
  put(out_, static_cast<std::uint32_t>(bytes.size()));
  out_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  close_record(out_, body);
}

void TraceMerger::replay(const char* p, std::uint8_t type, std::int64_t t) {
  switch (type) {
    case kSent: {
      const auto host = take<std::uint32_t>(p);
      const auto facts = take<ConnFacts>(p);
      const auto ip = take<wire::Ipv4Header>(p);
      const auto tcp = take<wire::TcpHeader>(p);
      recorder_.segment_sent(t, host, facts, ip, tcp, take<std::uint32_t>(p));
      return;
    }
    case kReceived: {
      const auto host = take<std::uint32_t>(p);
      const auto facts = take<ConnFacts>(p);
      const auto taken = take<std::int64_t>(p);
      const auto ip = take<wire::Ipv4Header>(p);
      const auto tcp = take<wire::TcpHeader>(p);
      recorder_.segment_received(t, host, facts, taken, ip, tcp, take<std::uint32_t>(p));
      return;
    }
    case kTcpEvent: {
      const auto host = take<std::uint32_t>(p);
      const auto facts = take<ConnFacts>(p);
      recorder_.tcp_event(host, facts, take<tcp::Event>(p));
      return;
    }
    case kCrash:
      recorder_.crashed(t, take<std::uint32_t>(p));
      return;
    case kPacket: {
      const auto kind = static_cast<PacketEventKind>(take<std::uint8_t>(p));
      Site site;
      site.kind = static_cast<Site::Kind>(take<std::uint8_t>(p));
      site.id = take<std::uint32_t>(p);
      site.direction = take<std::uint8_t>(p);
      const auto reason = static_cast<DropReason>(take<std::uint8_t>(p));
      const auto flags = take<std::uint8_t>(p);
      const auto n = take<std::uint32_t>(p);
      PacketPtr packet = pool_.make(n);
      std::memcpy(packet->bytes().data(), p, n);
      packet->corrupted = (flags & 1) != 0;
      packet->duplicate = (flags & 2) != 0;
      packets_.on_packet(PacketEvent{TimePoint::from_ns(t), kind, site, reason, *packet});
      return;
    }
    default:
      throw std::runtime_error(fmt::format("a trace record of unknown type {}", type));
  }
}

void TraceMerger::merge(const std::vector<std::string_view>& streams) {
  struct Head {
    Place place;
    std::size_t rank;
    const char* at;
  };
  const auto later = [](const Head& a, const Head& b) { return std::tie(a.place, a.rank) > std::tie(b.place, b.rank); };
  std::priority_queue<Head, std::vector<Head>, decltype(later)> heads(later);
  std::vector<const char*> ends(streams.size());
  for (std::size_t r = 0; r < streams.size(); ++r) {
    ends[r] = streams[r].data() + streams[r].size();
    if (!streams[r].empty()) heads.push(Head{place_of(streams[r].data()), r, streams[r].data()});
  }
  while (!heads.empty()) {
    Head h = heads.top();
    heads.pop();
    if (!heads.empty() && heads.top().place == h.place)
      throw std::runtime_error(fmt::format(
          "ranks {} and {} both reported at {} ns in one event (owner {}, step {}): the order of the traces "
          "would depend on the partition",
          h.rank, heads.top().rank, h.place.t, h.place.owner, h.place.step));
    const char* q = h.at + kHeader - sizeof(std::uint32_t) - sizeof(std::uint8_t);
    const auto type = take<std::uint8_t>(q);
    const auto length = take<std::uint32_t>(q);
    replay(q, type, h.place.t);
    const char* next = q + length;
    // The rest of this rank's records at the same place come before anyone else's.
    while (next < ends[h.rank] && place_of(next) == h.place) {
      const char* r = next + kHeader - sizeof(std::uint32_t) - sizeof(std::uint8_t);
      const auto t2 = take<std::uint8_t>(r);
      const auto n2 = take<std::uint32_t>(r);
      replay(r, t2, h.place.t);
      next = r + n2;
    }
    if (next < ends[h.rank]) heads.push(Head{place_of(next), h.rank, next});
  }
}

}  // namespace shakedown::controller
