#include "controller/event_log.h"

#include <algorithm>
#include <array>
#include <sstream>
#include <stdexcept>

#include <fmt/compile.h>

#include "nodes/wire/tcp.h"

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
    case tcp::RetransmitCause::unknown:
      return "unknown";
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
    if (!known)
      throw std::invalid_argument(
          fmt::format("unknown event kind '{}': expected all, none, or some of {}", k, kEventKindNames));
  }
  return kinds;
}

std::string_view to_string(TraceRecord::Kind k) {
  using K = TraceRecord::Kind;
  switch (k) {
    case K::state:
      return "state";
    case K::send:
      return "send";
    case K::recv:
      return "recv";
    case K::retransmit:
      return "retransmit";
    case K::timer:
      return "timer";
    case K::timer_set:
      return "timer_set";
    case K::rtt:
      return "rtt";
    case K::recovery:
      return "recovery";
    case K::cwnd:
      return "cwnd";
    case K::drop:
      return "drop";
    case K::end:
      return "end";
  }
  return "?";
}

void set_segment(TraceRecord& r, const wire::Ipv4Header& ip, const wire::TcpHeader& tcp, std::uint32_t payload) {
  r.has_segment = true;
  r.src = ip.src;
  r.dst = ip.dst;
  r.sport = tcp.src_port;
  r.dport = tcp.dst_port;
  r.flags = tcp.flags;
  r.seq = tcp.seq;
  r.ack = tcp.ack;
  r.len = payload;
  r.window = tcp.window;
  r.ipid = ip.identification;
}

bool TraceNames::is_real(std::uint32_t node) const {
  return std::find(real.begin(), real.end(), node) != real.end();
}

const std::string& TraceNames::node(std::uint32_t id) const {
  static const std::string unknown = "?";
  return id < nodes.size() ? nodes[id] : unknown;
}

std::string TraceNames::site(const Site& s) const {
  if (s.kind == Site::Kind::node) return node(s.id);
  const auto [a, b] = links.at(s.id);
  return fmt::format("{}->{}", node(s.direction == 0 ? a : b), node(s.direction == 0 ? b : a));
}

void format_record(fmt::memory_buffer& line, const TraceRecord& r, const TraceNames& names) {
  using K = TraceRecord::Kind;
  const auto out = fmt::appender(line);
  if (r.conn == 0)
    fmt::format_to(out, FMT_COMPILE(R"({{"t":{},"host":"{}","conn":null,"ev":"{}")"), r.t, names.node(r.host),
                   to_string(r.kind));
  else
    fmt::format_to(out, FMT_COMPILE(R"({{"t":{},"host":"{}","conn":{},"ev":"{}")"), r.t, names.node(r.host), r.conn,
                   to_string(r.kind));
  switch (r.kind) {
    case K::state:
      fmt::format_to(out, FMT_COMPILE(R"(,"from":"{}","to":"{}")"), tcp::to_string(r.from), tcp::to_string(r.to));
      break;
    case K::send:
    case K::recv:
      fmt::format_to(out,
                     FMT_COMPILE(R"(,"src":"{}","dst":"{}","flags":"{}","seq":{},"ack":{},"len":{},"win":{},"ipid":{})"),
                     Endpoint{r.src, r.sport}, Endpoint{r.dst, r.dport}, flag_names(r.flags), r.seq, r.ack, r.len,
                     r.window, r.ipid);
      if (r.taken >= 0) fmt::format_to(out, FMT_COMPILE(R"(,"taken":{})"), r.taken);
      break;
    case K::retransmit:
      fmt::format_to(out, FMT_COMPILE(R"(,"segment":"{}","seq":{},"cause":"{}")"), segment_kind_name(r.segment), r.seq,
                     cause_name(r.cause));
      break;
    case K::timer:
      fmt::format_to(out, FMT_COMPILE(R"(,"timer":"{}")"), tcp::to_string(r.timer));
      break;
    case K::timer_set:
      fmt::format_to(out, FMT_COMPILE(R"(,"timer":"{}","deadline":{})"), tcp::to_string(r.timer), r.deadline);
      break;
    case K::rtt:
      fmt::format_to(out, FMT_COMPILE(R"(,"rtt":{},"rto":{})"), r.rtt, r.rto);
      break;
    case K::recovery:
      fmt::format_to(out, FMT_COMPILE(R"(,"cwnd":{})"), r.cwnd);
      break;
    case K::cwnd:
      fmt::format_to(out, FMT_COMPILE(R"(,"cwnd":{},"ssthresh":{})"), r.cwnd, r.ssthresh);
      break;
    case K::end:
      fmt::format_to(out, FMT_COMPILE(R"(,"outcome":"{}")"), to_string(r.outcome));
      break;
    case K::drop:
      fmt::format_to(out, FMT_COMPILE(R"(,"reason":"{}","at":"{}")"), to_string(r.reason), names.site(r.site));
      if (r.has_segment)
        fmt::format_to(out, FMT_COMPILE(R"(,"src":"{}","dst":"{}","flags":"{}","seq":{},"ack":{},"len":{},"ipid":{})"),
                       Endpoint{r.src, r.sport}, Endpoint{r.dst, r.dport}, flag_names(r.flags), r.seq, r.ack, r.len,
                       r.ipid);
      break;
  }
  line.append(std::string_view("}\n"));
}

EventLog::EventLog(const std::string& path, bool keep, const TraceNames& names) : keep_(keep), names_(names) {
  if (!path.empty()) file_.emplace(path);
}

void EventLog::add(const TraceRecord& r) {
  if (file_) {
    line_.clear();
    format_record(line_, r, names_);
    file_->add(std::string_view(line_.data(), line_.size()));
    file_->end();
  }
  if (keep_) kept_.push_back(r);
  ++written_;
}

void EventLog::flush() {
  if (file_) file_->flush();
}

}  // namespace shakedown::controller
