// The run's recorder: it watches every host's TCP and every packet event and turns
// them into data — the connection table (connection_table.h, both ends paired into one
// row), the events (event_log.h, written to events.jsonl as the run goes and kept in
// memory when asked), and what expectations need beyond the table (when a host first
// saw a kind of segment; every side's state timeline). connections.csv is written from
// the table (connections_csv.h). docs/traces.md is the reference for every file and
// field.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "controller/connection_table.h"
#include "controller/event_log.h"
#include "emulator/trace.h"
#include "nodes/network.h"
#include "nodes/observer.h"
#include "topologies/topology.pb.h"

namespace shakedown::controller {

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

// What the recorder reads of a host's connection as the host reports it, taken there
// and then: the recorder works from these facts alone, so that in a distributed run
// the process where the host lives can take them and another record them.
struct ConnFacts {
  tcp::ConnId conn;  // invalid: the report concerns no connection
  bool alive = false;  // the fields below are set only when it is
  wire::Ipv4Address remote;
  std::uint16_t local_port = 0, remote_port = 0;
  tcp::State state = tcp::State::closed;
  std::uint32_t iss = 0, irs = 0;
  std::uint32_t cwnd = 0, ssthresh = 0;
};
ConnFacts facts_of(const Host& host, tcp::ConnId conn);

// Which reports a recorder of these event kinds (keeping `seen` or not) does anything
// with beyond finding the connection's row, which an earlier report of the same
// connection has made: the rest can be left out of a distributed run's traces without
// changing a byte of the files.
struct ReportNeeds {
  bool pure_acks = true;  // segments of a connection with only ACK set and no payload
  bool rtt = true, recovery = true, timers = true;
  bool timer_fired = true;  // timers, or the cwnd after a retransmission timeout
};
ReportNeeds report_needs(std::uint32_t event_kinds, bool seen);

class Recorder final : public Observer, public TcpObserver {
 public:
  // events_path empty: no events.jsonl; keep_events: the events in memory too (the
  // library). Throws std::runtime_error if the file cannot be created.
  Recorder(const topology::Topology& topology, const Network& network, const std::string& events_path,
           std::uint32_t event_kinds, bool keep_events = false);
  ~Recorder() override;
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Observer: packet events (drops, written as events; attach it to the network's
  // packet observers only when drop events are wanted).
  void on_packet(const PacketEvent& e) override;
  // TcpObserver.
  void on_segment_sent(const Host& host, tcp::ConnId conn, const wire::Ipv4Header& ip, const wire::TcpHeader& tcp,
                       std::uint32_t payload) override;
  void on_segment_received(const Host& host, const tcp::Input& input, const wire::Ipv4Header& ip,
                           const wire::TcpHeader& tcp, std::uint32_t payload) override;
  void on_tcp_event(const Host& host, tcp::ConnId conn, const tcp::Event& event) override;
  void on_crash(const Host& host) override;

  // The same reports as facts (what the TcpObserver calls above turn into): `host` is
  // a node id, `t` nanoseconds. `taken` is what TCP took of a received segment's
  // payload when it was given one and took less than all of it, -1 otherwise.
  void segment_sent(std::int64_t t, std::uint32_t host, const ConnFacts& c, const wire::Ipv4Header& ip,
                    const wire::TcpHeader& tcp, std::uint32_t payload);
  void segment_received(std::int64_t t, std::uint32_t host, const ConnFacts& c, std::int64_t taken,
                        const wire::Ipv4Header& ip, const wire::TcpHeader& tcp, std::uint32_t payload);
  void tcp_event(std::uint32_t host, const ConnFacts& c, const tcp::Event& event);
  void crashed(std::int64_t t, std::uint32_t host);

  // What expectations need beyond the table, off unless asked for before the run.
  void keep_timelines() { timelines_ = true; }
  void keep_seen() { seen_.resize(names_.nodes.size() * kSegmentClasses * 2); }
  // sent: true for sent, false for received. Requires keep_seen().
  const Seen& seen(std::uint32_t host, int segment_class, bool sent) const {
    return seen_[(host * kSegmentClasses + static_cast<std::size_t>(segment_class)) * 2 + (sent ? 1 : 0)];
  }

  // The side of a host's connection in the table, null if it has none (yet).
  Side* side_of(std::uint32_t host, tcp::ConnId conn) {
    const Where w = table_.find(host, conn.index, conn.generation);
    return w.row == 0 ? nullptr : &table_.side(w);
  }
  // The sides of each host in the order they were first reported (a distributed run's
  // sides recorded where their hosts run, matched with rank 0's rows: trace_stream.h).
  // keep_open_order() before the first report.
  void keep_open_order() { table_.keep_open_order(); }
  // Only the sides, unpaired (ConnectionTable::sides_alone): a distributed run's
  // recorder of one process's hosts.
  void sides_alone() { table_.sides_alone(); }
  std::size_t sides_opened(std::uint32_t host) const { return table_.opened(host).size(); }
  Side& opened_side(std::uint32_t host, std::size_t n) { return table_.side(table_.opened(host)[n]); }
  const std::vector<ConnectionRow>& connections() const { return table_.rows(); }
  const TraceNames& names() const { return names_; }
  std::uint64_t events_written() const { return log_.written(); }
  std::size_t open_connections() const { return table_.open_rows(); }
  // Pushes buffered lines to events.jsonl: what is there is whole lines.
  void flush() { log_.flush(); }
  // After the run: the table and the kept events, moved out.
  std::vector<ConnectionRow> take_connections() { return table_.take_rows(); }
  std::vector<TraceRecord> take_events() { return log_.take_kept(); }

 private:
  using Where = ConnectionTable::Where;

  Where locate(std::uint32_t host, const ConnFacts& c, const wire::Ipv4Header& ip, const wire::TcpHeader& tcp,
               bool sent);
  Side& side(Where w) { return table_.side(w); }
  bool wants(std::uint32_t kind) const { return (kinds_ & kind) != 0; }
  TraceRecord record(std::int64_t t, std::uint32_t host, std::uint32_t row, TraceRecord::Kind kind) const;
  void check_cwnd(std::uint32_t host, const ConnFacts& c, Where w, std::int64_t t);
  void note_seen(std::uint32_t host, const wire::TcpHeader& tcp, std::uint32_t payload, bool sent, std::int64_t t,
                 std::uint32_t row);
  void segment_record(TraceRecord::Kind kind, std::int64_t t, std::uint32_t host, std::uint32_t row,
                      const wire::Ipv4Header& ip, const wire::TcpHeader& tcp, std::uint32_t payload,
                      std::int64_t taken = -1);
  void end_record(std::int64_t t, std::uint32_t host, std::uint32_t row, Outcome o);

  TraceNames names_;
  std::vector<wire::Ipv4Address> addresses_;  // by node
  ConnectionTable table_;
  std::uint32_t kinds_;
  EventLog log_;
  bool timelines_ = false;
  std::vector<Seen> seen_;  // by host, class, direction; empty unless keep_seen()
};

}  // namespace shakedown::controller
