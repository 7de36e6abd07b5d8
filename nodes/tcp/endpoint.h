// A host's TCP: every connection of one host, listeners, and the answers for segments
// that belong to no connection. Pure like Connection: no clock, no engine, no I/O.
//
// Calling protocol:
//   inputs    on_segment(now, src, dst, header, payload_length)   every TCP segment for the host;
//                                   returns what became of it (Input)
//             on_timeout(now, id)                                  when now >= deadline(id)
//   commands  listen(port, backlog), connect(now, ...), accept(port), and the
//             connection commands through connection(id)
//   outputs   poll_transmit()       segments with their addresses, until it returns nothing
//             next_unreported()     each connection event once, for the traces, left queued
//             poll_event()          connection events tagged with the connection id, taken
//             poll_changed()        connections whose deadline may have moved: the host
//                                   re-arms one engine wake-up for each (ARCHITECTURE rule 6);
//                                   one just freed (CLOSED) comes too, with deadline max
// After a command on connection(id), call touched(now, id) so its output is collected.
//
// Listen queues behave as Linux's do (net/ipv4/tcp_input.c, tcp_conn_request and
// tcp_check_req, with tcp_syncookies=0 and tcp_abort_on_overflow=0):
//  - a SYN is dropped silently when the listener's SYN queue (half-open connections)
//    is full, or when its accept queue is full — the client retries its SYN;
//  - the handshake's final ACK is dropped when the accept queue is full — the server
//    stays in SYN_RECEIVED and retransmits its SYN-ACK until there is room.
// SYN cookies are not implemented.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "emulator/fifo.h"
#include "emulator/flat_map.h"
#include "emulator/random.h"
#include "emulator/time.h"
#include "nodes/tcp/config.h"
#include "nodes/tcp/connection.h"
#include "nodes/wire/ipv4.h"
#include "nodes/wire/tcp.h"

namespace shakedown::tcp {

struct ConnId {
  std::uint32_t index = 0xffffffffu;
  std::uint32_t generation = 0;
  bool valid() const { return index != 0xffffffffu; }
  bool operator==(const ConnId&) const = default;
};

struct Outgoing {
  wire::Ipv4Address src;
  wire::Ipv4Address dst;
  Transmit segment;
  ConnId conn;  // invalid for answers on behalf of no connection
};

struct TaggedEvent {
  ConnId conn;
  Event event;
};

// Why the endpoint discarded a segment without passing it to a connection.
enum class EndpointDrop : std::uint8_t { no_listener, syn_queue_full, accept_queue_full, bad_segment };
inline constexpr std::size_t kEndpointDropCount = static_cast<std::size_t>(EndpointDrop::bad_segment) + 1;

// What became of a segment: given to a connection (one a listener made from a SYN
// included), answered by the endpoint itself (a RST for an ACK to a listener),
// dropped with a reason (a RST answers one for a port nobody listens on, RFC 9293
// 3.10.7.1), or ignored (a RST or a stray segment to a listener, 3.10.7.2).
struct Input {
  enum class Outcome : std::uint8_t { given, answered, dropped, ignored };
  Outcome outcome = Outcome::ignored;
  ConnId conn;  // given: the connection
  EndpointDrop reason = EndpointDrop::bad_segment;  // dropped
  // given: the part of the payload the connection took into its receive queue.
  Connection::Taken taken;
  bool given() const { return outcome == Outcome::given; }
  bool dropped(EndpointDrop why) const { return outcome == Outcome::dropped && reason == why; }
};

struct EndpointStats {
  std::uint64_t rst_sent_no_connection = 0;
  std::uint64_t drops[kEndpointDropCount] = {};
  std::uint64_t drop(EndpointDrop d) const { return drops[static_cast<int>(d)]; }
};

class Endpoint {
 public:
  // Linux's ephemeral range (net.ipv4.ip_local_port_range).
  static constexpr std::uint16_t kEphemeralFirst = 32768;
  static constexpr std::uint16_t kEphemeralLast = 60999;

  // `isn_rng` chooses initial sequence numbers: a seeded stream per host keeps runs
  // deterministic (RFC 9293 3.4.1's clock-driven ISN serves no purpose in emulation).
  Endpoint(const Config& config, wire::Ipv4Address address, RandomStream isn_rng);

  // Listens on a port. `backlog` bounds the accept queue (Linux: min(backlog,
  // somaxconn)); `syn_backlog` the half-open connections (tcp_max_syn_backlog).
  void listen(std::uint16_t port, std::uint32_t backlog = 4096, std::uint32_t syn_backlog = 1024);
  // Connects from an ephemeral port; nullopt when every port to that peer is taken.
  std::optional<ConnId> connect(TimePoint now, wire::Ipv4Address remote, std::uint16_t remote_port);
  // Connects from a chosen local port; nullopt while that four-tuple is in use (a
  // connection in TIME_WAIT included). A listener on the port does not prevent it:
  // that is how both sides of a simultaneous open are set up.
  std::optional<ConnId> connect_from(TimePoint now, std::uint16_t local_port, wire::Ipv4Address remote,
                                     std::uint16_t remote_port);
  // Takes the oldest established connection from a listener's accept queue.
  std::optional<ConnId> accept(std::uint16_t port);

  Connection& connection(ConnId id) { return slots_[id.index].conn; }
  const Connection& connection(ConnId id) const { return slots_[id.index].conn; }
  wire::Ipv4Address remote_address(ConnId id) const { return wire::Ipv4Address{slots_[id.index].key.remote}; }
  bool alive(ConnId id) const {
    return id.index < slots_.size() && slots_[id.index].generation == id.generation && slots_[id.index].used;
  }
  // Collects a connection's output after a command on it.
  void touched(TimePoint now, ConnId id) { drain(now, id); }

  Input on_segment(TimePoint now, wire::Ipv4Address src, wire::Ipv4Address dst, const wire::TcpHeader& h,
                   std::uint32_t payload_length);
  void on_timeout(TimePoint now, ConnId id);

  std::optional<Outgoing> poll_transmit();
  // The events wait in one queue until the host takes them: next_unreported() shows
  // each once (the traces see a step's events before its segments), and poll_event()
  // takes the oldest (the application sees them after). reported() of those at the
  // front were shown.
  std::optional<TaggedEvent> next_unreported();
  std::size_t reported() const { return reported_; }
  std::optional<TaggedEvent> poll_event();
  std::optional<ConnId> poll_changed();
  TimePoint deadline(ConnId id) const { return alive(id) ? connection(id).next_deadline() : TimePoint::max(); }

  std::size_t connections() const { return live_; }
  std::size_t accept_queue(std::uint16_t port) const;
  std::size_t syn_queue(std::uint16_t port) const;
  const EndpointStats& stats() const { return stats_; }
  wire::Ipv4Address address() const { return address_; }

 private:
  struct Key {
    std::uint16_t local_port;
    std::uint16_t remote_port;
    std::uint32_t remote;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      std::uint64_t x = (static_cast<std::uint64_t>(k.remote) << 32) |
                        (static_cast<std::uint64_t>(k.local_port) << 16) | k.remote_port;
      return static_cast<std::size_t>(splitmix64(x));
    }
  };
  struct Slot {
    Connection conn;
    Key key;
    std::uint32_t generation = 0;
    bool used = false;
    bool marked = false;
    std::optional<std::uint16_t> listener;  // the port it was accepted on, until accepted
    bool queued_for_accept = false;
  };
  struct Listener {
    std::uint32_t backlog;
    std::uint32_t syn_backlog;
    std::uint32_t half_open = 0;
    Fifo<ConnId> ready;
  };

  ConnId create(TimePoint now, const Key& key);
  void release(ConnId id);
  // Drains the connection's output and events into the endpoint's queues, and lists it
  // as changed (its deadline may have moved).
  void drain(TimePoint now, ConnId id);
  void collect(TimePoint now, ConnId id);
  void answer_no_connection(wire::Ipv4Address to, const wire::TcpHeader& h, std::uint32_t payload_length);

  Config config_;
  wire::Ipv4Address address_;
  RandomStream isn_rng_;
  std::uint64_t isn_secret_;  // F's key for clock-driven ISNs
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::size_t live_ = 0;
  static std::uint64_t packed(const Key& k) {
    return static_cast<std::uint64_t>(k.local_port) << 48 | static_cast<std::uint64_t>(k.remote_port) << 32 | k.remote;
  }
  // By packed four-tuple; key 0 cannot occur (its local port would be 0). A server
  // with 10^5 connections looks one up per segment.
  FlatMap<std::uint64_t, ConnId> table_;
  std::unordered_map<std::uint16_t, Listener> listeners_;
  std::uint16_t next_port_ = kEphemeralFirst;
  Fifo<ConnId> changed_;
  Fifo<Outgoing> out_;
  Fifo<TaggedEvent> events_;
  std::size_t reported_ = 0;  // events at the front of events_ that next_unreported() showed
  EndpointStats stats_;
};

}  // namespace shakedown::tcp
