// A host: one interface with an IPv4 address, IPv4 input and output, and the TCP
// endpoint. It turns the endpoint's segments into real IPv4 + TCP bytes (payload
// generated per stream, see payload.h), checks every packet that arrives (IPv4 header
// checksum, TCP checksum, every payload byte), and keeps one engine wake-up per
// connection at that connection's deadline.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <unordered_map>
#include <vector>

#include "emulator/engine.h"
#include "emulator/link.h"
#include "emulator/packet.h"
#include "emulator/trace.h"
#include "nodes/observer.h"
#include "nodes/tcp/endpoint.h"

namespace shakedown {

class Host;

// What runs on a host: told of every connection event, free to command connections
// through host.tcp() (then call host.service(), which may be called from inside these
// callbacks too). apps::Stack is the socket-style API built on this.
class Application {
 public:
  virtual ~Application() = default;
  virtual void on_event(Host& host, tcp::ConnId conn, const tcp::Event& event) = 0;
  // A segment was given to this connection (after its events were delivered): the
  // moment to see that acknowledged bytes freed send-buffer space.
  virtual void on_input(Host& /*host*/, tcp::ConnId /*conn*/) {}
  // The host crashed: every connection is about to vanish (it still exists during the
  // call, for bookkeeping; commands are ignored). After restart() the application
  // starts afresh on a new TCP.
  virtual void on_crash(Host& /*host*/) {}
  virtual void on_restart(Host& /*host*/) {}
};

struct HostStats {
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t payload_bytes_verified = 0;
  // Bytes that are not the connection's stream (a segment of an earlier connection on
  // the same four-tuple): `wrong` if TCP took them into the receive queue — the
  // corruption TIME_WAIT and PAWS exist to prevent — `stale` if it refused them.
  std::uint64_t payload_bytes_wrong = 0;
  std::uint64_t payload_bytes_stale = 0;
  std::uint64_t dropped[kDropReasonCount] = {};
  std::uint64_t drops(DropReason r) const { return dropped[static_cast<int>(r)]; }
  template <typename F>
  void each(F&& f) {  // every counter (LinkStats::each)
    f(packets_sent), f(packets_received), f(payload_bytes_verified), f(payload_bytes_wrong), f(payload_bytes_stale);
    for (auto& d : dropped) f(d);
  }
};

class Host final : private EventHandler {
 public:
  Host(Engine& engine, PacketPool& pool, std::uint32_t node_id, wire::Ipv4Address address, const tcp::Config& config,
       std::uint64_t run_seed, Observer* observer = nullptr);
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // The link direction leaving this host.
  void attach(LinkDirection& out) { out_ = &out; }
  // What the link direction arriving at this host delivers to.
  PacketReceiver& input() { return input_; }
  void set_application(Application* app) { app_ = app; }
  void set_tcp_observer(TcpObserver* observer) { tcp_observer_ = observer; }
  // Peers (addresses) whose payload is not a generated stream — real hosts, whose
  // bytes are their programs' — and is therefore not checked (null: none).
  void set_unchecked_peers(const std::vector<std::uint32_t>* peers) { unchecked_peers_ = peers; }
  // The connection sends back, byte for byte, what a real host's program sends on it:
  // an echo server's reply. Emulated peers' bytes are a generated stream, and so is
  // the reply to them, as before; so this does nothing for them. Call it when the
  // connection is accepted: bytes that came with the handshake are kept until then.
  void echo_real_bytes(tcp::ConnId id);

  tcp::Endpoint& tcp() { return endpoint_; }
  const tcp::Endpoint& tcp() const { return endpoint_; }
  Engine& engine() { return engine_; }
  TimePoint now() const { return engine_.now(); }
  wire::Ipv4Address address() const { return address_; }
  std::uint32_t node_id() const { return node_id_; }
  const HostStats& stats() const { return stats_; }
  void set_stats(const HostStats& s) { stats_ = s; }  // a distributed run's sums (HostStats::each)

  // Sends what the endpoint has queued, hands events to the application, and re-arms
  // connection wake-ups. Call after commanding a connection. A call made while the
  // host is already servicing (from an application callback) returns at once: the
  // outer call drains what the callback queued.
  void service();

  // The host crashes: every connection and listener vanishes without a segment sent,
  // and whatever arrives until restart() is dropped (reason host_down). The peers
  // learn of it only by their timeouts, or by RST after a restart.
  void crash();
  // Back up with a fresh TCP (new ISN stream, no listeners: the application listens
  // again).
  void restart();
  bool up() const { return up_; }

 private:
  class Input final : public PacketReceiver {
   public:
    explicit Input(Host& host) : host_(host) {}
    void receive(PacketPtr packet) override { host_.receive(std::move(packet)); }

   private:
    Host& host_;
  };

  // The bytes a real peer sent on a connection of an echo server, kept from their
  // arrival until the reply carrying them is acknowledged.
  struct Echoed {
    std::uint32_t generation = 0;
    bool echo = false;        // echo_real_bytes was called: kept past the segment
    std::uint64_t base = 0;   // stream offset of bytes.front()
    std::deque<std::uint8_t> bytes;                            // received in order
    std::map<std::uint64_t, std::vector<std::uint8_t>> ahead;  // taken beyond a hole
    std::uint64_t in_order() const { return base + bytes.size(); }
  };

  void receive(PacketPtr packet);
  bool checked_peer(wire::Ipv4Address a) const;
  Echoed& echoed(tcp::ConnId id);
  void keep_real_bytes(tcp::ConnId id, std::uint32_t offset, std::span<const std::uint8_t> taken);
  void forget_unless_echoed(tcp::ConnId id);
  void transmit(const tcp::Outgoing& o);
  void drop(const Packet& packet, DropReason reason);
  void on_event(std::uint64_t tag) override;
  void arm(tcp::ConnId id);

  Engine& engine_;
  PacketPool& pool_;
  std::uint32_t node_id_;
  tcp::Config config_;
  std::uint64_t run_seed_;
  std::uint32_t boots_ = 0;
  bool up_ = true;
  wire::Ipv4Address address_;
  Observer* observer_;
  tcp::Endpoint endpoint_;
  Input input_{*this};
  LinkDirection* out_ = nullptr;
  Application* app_ = nullptr;
  TcpObserver* tcp_observer_ = nullptr;
  const std::vector<std::uint32_t>* unchecked_peers_ = nullptr;
  std::unordered_map<std::uint32_t, Echoed> echoed_;  // by connection slot
  bool servicing_ = false;
  std::uint16_t next_ip_id_ = 0;
  struct Wakeup {
    EventId event;
    std::uint32_t generation = 0;
  };
  std::vector<Wakeup> wakeups_;  // by connection slot
  HostStats stats_;
};

}  // namespace shakedown
