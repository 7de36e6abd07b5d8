// The run's recorder: it watches every host's TCP and every packet event, pairs the two
// ends of each connection into one row, writes events.jsonl as the run goes, and at
// the end gives connections.csv and the figures of the summary.
//
// A connection (a row, numbered from 1 in the order connections first appear) has two
// sides: side 0 opened it (the client), side 1 answered (the server). The ends are
// paired by the client's four-tuple and initial sequence number, so a SYN that arrives
// long after its connection ended (the textbook's old duplicate) makes a row of its
// own, with only a server side, instead of corrupting the row it once belonged to. In
// a simultaneous open the second SYN_SENT of the same four-tuple joins the first as
// side 1.
//
// docs/traces.md is the reference for every file and field.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "emulator/flat_map.h"
#include "emulator/record_file.h"
#include "emulator/trace.h"
#include "nodes/network.h"
#include "nodes/observer.h"
#include "topologies/topology.pb.h"

namespace shakedown::controller {

// The kinds of line events.jsonl may hold; a run writes the ones asked for.
enum EventKind : std::uint32_t {
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

enum class Outcome : std::uint8_t { open, completed, reset, refused, timed_out, crashed };
std::string_view to_string(Outcome o);

enum RetransmitKind : int { kRetransmitSyn, kRetransmitSynAck, kRetransmitData, kRetransmitFin, kRetransmitKinds };
std::string_view retransmit_kind_name(int kind);

inline constexpr std::int64_t kNever = -1;

// One end of a connection. Times are nanoseconds from the start of the run, kNever
// when it did not happen.
struct Side {
  std::uint32_t host = 0xffffffffu;
  bool present() const { return host != 0xffffffffu; }
  wire::Ipv4Address address;
  std::uint16_t port = 0;
  std::uint32_t isn = 0;
  bool has_conn = false;  // false: seen only in segments that no connection owned
  std::int64_t syn_sent = kNever, syn_received = kNever, synack_sent = kNever, synack_received = kNever;
  std::int64_t established = kNever, first_data_sent = kNever, last_data_received = kNever;
  std::int64_t fin_sent = kNever, fin_received = kNever;
  std::int64_t time_wait_entered = kNever, time_wait_left = kNever, closed = kNever;
  std::uint64_t bytes_sent = 0, bytes_received = 0;
  std::uint64_t bytes_on_wire = 0;  // payload sent, retransmissions included
  std::uint32_t retransmissions[kRetransmitKinds] = {};
  tcp::State state = tcp::State::closed;
  std::uint32_t cwnd = 0;  // the last written to events.jsonl
  // Every state change, when the recorder keeps timelines (expectations on state_at).
  std::vector<std::pair<std::int64_t, tcp::State>> timeline;
  Outcome outcome = Outcome::open;
  bool ended = false;
};

struct Connection {
  std::uint64_t id = 0;
  Side side[2];
  // completed when every side present closed normally; otherwise the first failure.
  Outcome outcome() const;
  // Client: SYN sent to ESTABLISHED; kNever when it did not get there.
  std::int64_t handshake() const;
  // First FIN sent (either side) until both sides are in TIME_WAIT or CLOSED.
  std::int64_t teardown() const;
  // The connection's data, both directions: from the first payload byte sent to the
  // last received.
  struct Data {
    std::uint64_t delivered = 0;  // bytes given in order to the applications
    std::uint64_t on_wire = 0;    // payload bytes sent, retransmissions included
    std::int64_t begin = kNever, end = kNever;
    std::int64_t span() const { return begin == kNever || end == kNever ? 0 : end - begin; }
    // Bits per second of these bytes over the span; -1 without bytes or span.
    double bps(std::uint64_t bytes) const;
  };
  Data data() const;
  // Bits per second over the data span: goodput counts what the applications got,
  // throughput what was sent; kNever (as a double: < 0) without data or span.
  double goodput_bps() const;
  double throughput_bps() const;
};

// The kinds of segment a host is said to see or send (expectations' "server sees RST
// before 1s"). A segment may be of several: a FIN carrying data is FIN and DATA.
enum SegmentClass : int { kSeenSyn, kSeenSynAck, kSeenAck, kSeenFin, kSeenRst, kSeenData, kSegmentClasses };
int segment_class(std::string_view name);  // "SYN-ACK" -> kSeenSynAck; -1 if none

// When a host first and last sent or received a kind of segment, and in which
// connection.
struct Seen {
  std::int64_t first = kNever, last = kNever;
  std::uint32_t first_row = 0, last_row = 0;
};

class Recorder final : public Observer, public TcpObserver {
 public:
  // events_path empty: no events.jsonl. Throws std::runtime_error if it cannot be
  // created.
  Recorder(const topology::Topology& topology, const Network& network, const std::string& events_path,
           std::uint32_t event_kinds);
  ~Recorder() override;
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Observer: packet events (drops, written as events; attach it to the network's
  // packet observers only when drop events are wanted).
  void on_packet(const PacketEvent& e) override;
  // TcpObserver.
  void on_segment_sent(const Host& host, tcp::ConnId conn, const wire::Ipv4Header& ip, const wire::TcpHeader& tcp,
                       std::uint32_t payload) override;
  void on_segment_received(const Host& host, tcp::ConnId conn, const wire::Ipv4Header& ip,
                           const wire::TcpHeader& tcp, std::uint32_t payload) override;
  void on_tcp_event(const Host& host, tcp::ConnId conn, const tcp::Event& event) override;
  void on_crash(const Host& host) override;

  // What expectations need beyond the table, off unless asked for before the run.
  void keep_timelines() { timelines_ = true; }
  void keep_seen() { seen_.resize(slots_.size() * kSegmentClasses * 2); }
  // sent: true for sent, false for received. Requires keep_seen().
  const Seen& seen(std::uint32_t host, int segment_class, bool sent) const {
    return seen_[(host * kSegmentClasses + static_cast<std::size_t>(segment_class)) * 2 + (sent ? 1 : 0)];
  }

  const std::vector<Connection>& connections() const { return rows_; }
  std::uint64_t events_written() const { return events_written_; }
  std::size_t open_connections() const { return live_rows_; }
  // Pushes buffered lines to events.jsonl: what is there is whole lines.
  void flush();
  // connections.csv, one row per connection in id order. Throws on a write error.
  void write_connections(const std::string& path) const;

 private:
  struct Slot {
    std::uint32_t generation = 0;
    std::uint32_t row = 0;  // 0: none
    std::uint8_t side = 0;
  };
  struct Tuple {
    std::uint32_t src, dst;
    std::uint16_t sport, dport;
    bool operator==(const Tuple&) const = default;
  };
  struct TupleHash {
    std::size_t operator()(const Tuple& t) const;
  };
  struct PairKey {
    Tuple tuple;
    std::uint32_t isn;
    bool operator==(const PairKey&) const = default;
  };
  struct PairKeyHash {
    std::size_t operator()(const PairKey& k) const;
  };
  struct Where {
    std::uint32_t row = 0;
    std::uint8_t side = 0;
  };

  Where locate(const Host& host, tcp::ConnId conn, const wire::Ipv4Header& ip, const wire::TcpHeader& tcp,
               bool sent);
  Where adopt(const Host& host, tcp::ConnId conn);
  Side& side(Where w) { return rows_[w.row - 1].side[w.side]; }
  void end_side(Where w, Outcome outcome, std::int64_t t);
  void check_cwnd(const Host& host, tcp::ConnId conn, Where w, std::int64_t t);
  void note_seen(std::uint32_t host, const wire::TcpHeader& tcp, std::uint32_t payload, bool sent, std::int64_t t,
                 std::uint32_t row);
  void segment_line(std::string_view ev, std::int64_t t, const std::string& host, std::uint32_t row,
                    const wire::Ipv4Header& ip, const wire::TcpHeader& tcp, std::uint32_t payload,
                    std::optional<std::uint32_t> taken = std::nullopt);
  void begin_line(std::int64_t t, std::string_view host, std::uint32_t row, std::string_view ev);
  void end_line();
  std::string site_name(const Site& s) const;

  const topology::Topology& topology_;
  const Network& network_;
  std::uint32_t kinds_;
  std::optional<RecordFile> events_;  // events.jsonl: whole lines only, whatever stops the run
  fmt::memory_buffer line_;
  std::uint64_t events_written_ = 0;

  std::vector<Connection> rows_;
  std::size_t live_rows_ = 0;
  std::vector<std::vector<Slot>> slots_;                          // by host node, by connection slot
  // Keyed by tuples, which never have port 0: FlatMap's empty key cannot occur.
  FlatMap<Tuple, Where, TupleHash> by_tuple_;                // the latest side sending on a tuple
  FlatMap<PairKey, std::uint32_t, PairKeyHash> unpaired_;    // clients awaiting their server
  FlatMap<Tuple, std::uint32_t, TupleHash> opening_;         // SYN_SENT clients, for simultaneous open
  std::unordered_map<std::uint32_t, std::uint32_t> host_by_address_;
  bool timelines_ = false;
  std::vector<Seen> seen_;  // by host, class, direction; empty unless keep_seen()
};

}  // namespace shakedown::controller
