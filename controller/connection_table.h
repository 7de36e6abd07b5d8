// The connection table: both ends of every connection of a run, paired into one row.
//
// A row (numbered from 1 in the order connections first appear) has two sides: side 0
// opened it (the client), side 1 answered (the server). The ends are paired by the
// client's four-tuple and initial sequence number, so a SYN that arrives long after its
// connection ended (the textbook's old duplicate) makes a row of its own, with only a
// server side, instead of corrupting the row it once belonged to. In a simultaneous
// open the second SYN_SENT of the same four-tuple joins the first as side 1.
//
// The table is data: the recorder fills it as the hosts report, the summary, the
// expectations and the library read it, and connections.csv is written from it.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "emulator/flat_map.h"
#include "nodes/tcp/state.h"
#include "nodes/wire/ipv4.h"

namespace shakedown::controller {

enum class Outcome : std::uint8_t { open, completed, reset, refused, timed_out, crashed };
std::string_view to_string(Outcome o);

enum RetransmitKind : int { kRetransmitSyn, kRetransmitSynAck, kRetransmitData, kRetransmitFin, kRetransmitKinds };
std::string_view retransmit_kind_name(int kind);

inline constexpr std::int64_t kNever = -1;

// One end of a connection. Times are nanoseconds from the start of the run, kNever
// when it did not happen. SideFields is what is copied as bytes between the processes
// of a distributed run (everything but the timeline).
struct SideFields {
  static constexpr std::uint32_t kNoHost = 0xffffffffu;
  std::uint32_t host = kNoHost;
  bool present() const { return host != kNoHost; }
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
  Outcome outcome = Outcome::open;
  bool ended = false;
};
struct Side : SideFields {
  // Every state change, when the recorder keeps timelines (expectations on state_at).
  std::vector<std::pair<std::int64_t, tcp::State>> timeline;
};

// A row of the table (and of connections.csv).
struct ConnectionRow {
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

// Pairs the ends. Hosts are node ids; a connection slot is the host's tcp::ConnId.
class ConnectionTable {
 public:
  // Where a side lives: row 0 is none.
  struct Where {
    std::uint32_t row = 0;
    std::uint8_t side = 0;
  };
  // A four-tuple as the sender of a segment sees it.
  struct Tuple {
    std::uint32_t src, dst;
    std::uint16_t sport, dport;
    bool operator==(const Tuple&) const = default;
  };
  // What the table needs to know of a connection the first time it is seen.
  struct Opened {
    std::uint32_t host;
    wire::Ipv4Address local, remote;
    std::uint16_t local_port, remote_port;
    tcp::State state;  // syn_sent for an active open
    std::uint32_t iss, irs;
  };

  // node_count hosts and routers; address_of_host maps an address to its host.
  explicit ConnectionTable(std::uint32_t node_count) : slots_(node_count) {}
  void add_host(std::uint32_t node, wire::Ipv4Address address) { host_by_address_[address.value] = node; }

  // The side of a host's connection slot, or nullopt-like {0} when the slot is new.
  Where find(std::uint32_t host, std::uint32_t slot, std::uint32_t generation) const;
  // A connection seen for the first time: pairs it and remembers its slot.
  Where open(std::uint32_t slot, std::uint32_t generation, const Opened& c);
  // A segment no connection owns (a RST for a stray segment, a refused SYN) belongs to
  // the connection of whoever sent on the reverse tuple. `sent`: the host sent it.
  Where stray(std::uint32_t host, wire::Ipv4Address address, const Tuple& sender, std::uint16_t port);
  // The row whose side sends on this tuple now (drops), 0 for none.
  std::uint32_t row_sending(const Tuple& t) const;
  // The side ended (closed, reset, refused, timed out, crashed); false if it had already.
  bool end(Where w, Outcome outcome, std::int64_t t, bool timeline);
  // A crashed host: every side it had, ended; its slots forgotten (a restarted host
  // numbers its connections afresh). Returns the sides it ended, in slot order.
  std::vector<Where> crash(std::uint32_t host, std::int64_t t, bool timeline);
  // The host whose address this is, Side::kNoHost for none.
  std::uint32_t host_of(wire::Ipv4Address a) const;

  Side& side(Where w) {
    if (lone_) return lone_sides_[(w.row - 1) >> kLoneShift][(w.row - 1) & (kLoneChunk - 1)];
    return rows_[w.row - 1].side[w.side];
  }
  // Every host's connections in the order they were first seen (open), kept when asked
  // before the first: a distributed run matches the sides each process recorded of its
  // own hosts with the rows rank 0 made of them by the host's n-th connection.
  void keep_open_order() { opened_.resize(slots_.size()); }
  // Sides alone, never paired into rows (before the first open): what a process of a
  // distributed run records of its own hosts, whose rows rank 0 makes. Where.row then
  // numbers sides, rows() is empty, and a stray segment finds no side.
  void sides_alone() { lone_ = true; }
  // Room for this many rows (no effect on sides_alone()'s sides, which never move).
  void reserve(std::size_t rows) { rows_.reserve(rows); }
  const std::vector<Where>& opened(std::uint32_t host) const { return opened_[host]; }
  const std::vector<ConnectionRow>& rows() const { return rows_; }
  std::vector<ConnectionRow> take_rows() { return std::move(rows_); }
  std::size_t open_rows() const { return live_rows_; }

 private:
  struct Slot {
    std::uint32_t generation = 0;
    std::uint32_t row = 0;  // 0: none
    std::uint8_t side = 0;
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

  Where new_row(std::uint8_t side);

  std::vector<ConnectionRow> rows_;
  // sides_alone()'s sides, in chunks that never move.
  static constexpr std::uint32_t kLoneShift = 12, kLoneChunk = 1u << kLoneShift;
  bool lone_ = false;
  std::uint32_t lone_count_ = 0;
  std::vector<std::unique_ptr<Side[]>> lone_sides_;
  std::size_t live_rows_ = 0;
  std::vector<std::vector<Slot>> slots_;  // by host node, by connection slot
  std::vector<std::vector<Where>> opened_;  // by host node; empty unless keep_open_order()
  // Keyed by tuples, which never have port 0: FlatMap's empty key cannot occur.
  FlatMap<Tuple, Where, TupleHash> by_tuple_;              // the latest side sending on a tuple
  FlatMap<PairKey, std::uint32_t, PairKeyHash> unpaired_;  // clients awaiting their server
  FlatMap<Tuple, std::uint32_t, TupleHash> opening_;       // SYN_SENT clients, for simultaneous open
  std::unordered_map<std::uint32_t, std::uint32_t> host_by_address_;
};

}  // namespace shakedown::controller
