// The run's events as data (TraceRecord), and the log that writes them to events.jsonl
// and, when asked, keeps them in memory for the library. docs/traces.md is the
// reference for every line and field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "controller/connection_table.h"
#include "emulator/record_file.h"
#include "emulator/trace.h"
#include "nodes/tcp/events.h"
#include "nodes/wire/ipv4.h"
#include "nodes/wire/tcp.h"

namespace shakedown::controller {

// The kinds of line events.jsonl may hold (bits of a filter); a run writes the ones
// asked for.
enum EventFilter : std::uint32_t {
  kEventState = 1u << 0,       // a state change
  kEventSegment = 1u << 1,     // a segment sent or received
  kEventRetransmit = 1u << 2,  // a retransmission, with its cause
  kEventTimer = 1u << 3,       // a timer fired
  kEventRtt = 1u << 4,         // an RTT sample and the new RTO
  kEventRecovery = 1u << 5,    // fast recovery began, with the reduced cwnd
  kEventDrop = 1u << 6,        // a packet dropped, with its reason and place
  kEventEnd = 1u << 7,         // a connection ended: closed, reset, timed out, crashed
  kEventCwnd = 1u << 8,        // the congestion window changed (after an ACK or a timeout)
  kEventAll = (1u << 9) - 1,
};
// "state,segment,drop", "all" or "none"; throws std::invalid_argument naming a bad kind.
std::uint32_t parse_event_kinds(const std::string& text);
inline constexpr const char* kEventKindNames = "state, segment, retransmit, timer, rtt, recovery, cwnd, drop, end";

// One line of events.jsonl, as data. Which fields mean something depends on the kind.
struct TraceRecord {
  enum class Kind : std::uint8_t { state, send, recv, retransmit, timer, timer_set, rtt, recovery, cwnd, drop, end };
  static constexpr std::uint32_t kUnknownHost = Side::kNoHost;  // a drop of a packet that does not parse

  std::int64_t t = 0;
  std::uint32_t host = kUnknownHost;  // node id
  std::uint32_t conn = 0;             // row of the connection table, 0 for none
  Kind kind = Kind::state;
  // state
  tcp::State from = tcp::State::closed, to = tcp::State::closed;
  // send, recv and drop: the headers (a drop has them only when the packet parses)
  bool has_segment = false;
  wire::Ipv4Address src, dst;
  std::uint16_t sport = 0, dport = 0, window = 0, ipid = 0;
  std::uint8_t flags = 0;
  std::uint32_t seq = 0, ack = 0, len = 0;  // retransmit: seq
  std::int64_t taken = -1;                  // recv: bytes TCP took, when fewer than len
  // retransmit
  tcp::SegmentKind segment = tcp::SegmentKind::data;
  tcp::RetransmitCause cause = tcp::RetransmitCause::timeout;
  // timer, timer_set
  tcp::Timer timer = tcp::Timer::retransmission;
  std::int64_t deadline = 0, rtt = 0, rto = 0;
  // recovery, cwnd
  std::uint32_t cwnd = 0, ssthresh = 0;
  // end
  Outcome outcome = Outcome::open;
  // drop
  DropReason reason = DropReason::loss;
  Site site;
};

std::string_view to_string(TraceRecord::Kind k);

// The segment fields of a record, from its headers.
void set_segment(TraceRecord& r, const wire::Ipv4Header& ip, const wire::TcpHeader& tcp, std::uint32_t payload);

// Names of nodes and of link directions, as the lines spell them.
struct TraceNames {
  std::vector<std::string> nodes;                              // by node id
  std::vector<std::pair<std::uint32_t, std::uint32_t>> links;  // the two ends, by link id
  std::vector<std::uint32_t> real;                             // real hosts' node ids (few)
  bool is_real(std::uint32_t node) const;
  const std::string& node(std::uint32_t id) const;             // "?" for kUnknownHost
  std::string site(const Site& s) const;                       // "client", "client->r1"
};

// Appends the line (with its newline) to `out`.
void format_record(fmt::memory_buffer& out, const TraceRecord& r, const TraceNames& names);

class EventLog {
 public:
  // path empty: no file. keep: hold every record in memory too.
  EventLog(const std::string& path, bool keep, const TraceNames& names);
  bool on() const { return file_.has_value() || keep_; }
  void add(const TraceRecord& r);
  // Pushes buffered lines to the file: what is there is whole lines.
  void flush();
  std::uint64_t written() const { return written_; }
  std::vector<TraceRecord> take_kept() { return std::move(kept_); }

 private:
  std::optional<RecordFile> file_;
  bool keep_;
  const TraceNames& names_;
  fmt::memory_buffer line_;
  std::uint64_t written_ = 0;
  std::vector<TraceRecord> kept_;
};

}  // namespace shakedown::controller
