// The application API of a host: event-driven sockets over the TCP endpoint, in the
// shape of an epoll loop rather than blocking calls. Nothing here blocks or sleeps;
// an application reacts to callbacks and issues commands, and may schedule its own
// engine events for think times and rates.
//
// Calling protocol:
//   commands   Stack::listen / connect / accept; Socket::send / read / shutdown /
//              close / abort — from a callback or from any engine event
//   callbacks  Handler::on_connected, on_readable, on_writable, on_peer_closed, and
//              exactly one end per connection: on_closed (the normal path reached
//              CLOSED), on_reset (the peer's RST), or on_failed (refused, timed out, or
//              its host crashed). After the end the socket is gone; a socket the
//              application aborted gets no callback at all.
//
// The send buffer: TCP's send stream is virtual (the host generates payload from the
// stream offset), but applications see a bounded buffer as they would on Linux.
// send() takes what fits in `send_buffer` minus the bytes sent and not yet
// acknowledged; when it took less than asked, on_writable follows once a third of
// the buffer is free again (Linux's sk_stream_is_writeable: free space at least half
// of what is queued).
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "nodes/host.h"

namespace shakedown::apps {

class Stack;

// Why a connection ended other than by the normal path or the peer's RST.
enum class Failure : std::uint8_t {
  refused,    // the SYN was answered with RST: nothing listens there
  timed_out,  // retransmissions (or keepalive probes, or an orphaned FIN_WAIT_2) ran out
  crashed,    // this host crashed
};

// A handle to one connection of one host's stack: two words, copied freely. Valid
// from connect()/accept until the connection's end callback returns.
class Socket {
 public:
  Socket(Stack& stack, tcp::ConnId id) : stack_(&stack), id_(id) {}

  tcp::ConnId id() const { return id_; }
  Stack& stack() const { return *stack_; }
  Host& host() const;
  const tcp::Connection& connection() const;
  tcp::State state() const { return connection().state(); }

  // Queues up to `bytes` for sending; returns how many fit in the send buffer (0 once
  // the send side is shut). When fewer were taken, on_writable will follow.
  std::uint64_t send(std::uint64_t bytes) const;
  // Free space in the send buffer.
  std::uint64_t send_space() const;
  // Asks for on_drained once every byte sent so far is acknowledged (at once if it
  // already is): what an application waits for before an abort that must not lose
  // data, as a Linux one polls SIOCOUTQ.
  void notify_drained() const;
  // Consumes received bytes. With tcp.application_reads on, unread bytes fill the
  // receive buffer and close the window; off (the default), reading is implicit.
  void read(std::uint64_t bytes) const;
  // Half-close: a FIN follows the queued data; receiving goes on.
  void shutdown() const;
  // Done with the connection: FIN after the queued data. The handler still hears how
  // it ends (on_closed, on_reset or on_failed).
  void close() const;
  // RST now (RFC 9293 3.10.5); no further callbacks.
  void abort() const;
  // The bytes sent from now on are those a real host's program sent on this
  // connection, in order (an echo server); for an emulated peer, nothing changes.
  // Call from on_connected (Host::echo_real_bytes).
  void echo_real_bytes() const;

 private:
  Stack* stack_;
  tcp::ConnId id_;
};

// What an application implements; every method has an empty default.
class Handler {
 public:
  virtual ~Handler() = default;
  // The handshake completed (active open), or the connection was accepted.
  virtual void on_connected(Socket /*s*/) {}
  // `bytes` new in-order bytes are readable.
  virtual void on_readable(Socket /*s*/, std::uint64_t /*bytes*/) {}
  // send() took less than asked earlier, and there is room again.
  virtual void on_writable(Socket /*s*/) {}
  // Everything sent is acknowledged (after notify_drained).
  virtual void on_drained(Socket /*s*/) {}
  // The peer's FIN: it will send nothing more.
  virtual void on_peer_closed(Socket /*s*/) {}
  virtual void on_closed(Socket /*s*/) {}
  virtual void on_reset(Socket /*s*/) {}
  virtual void on_failed(Socket /*s*/, Failure /*why*/) {}
  // A listener without auto-accept has a connection waiting in its accept queue.
  virtual void on_acceptable(Stack& /*stack*/, std::uint16_t /*port*/) {}
};

struct ListenOptions {
  std::uint32_t backlog = 4096;      // accept queue (Linux: min(backlog, somaxconn))
  std::uint32_t syn_backlog = 1024;  // half-open connections (tcp_max_syn_backlog)
  // Accept every connection the moment its handshake completes (a server in an accept
  // loop). Off: the handler hears on_acceptable and calls Stack::accept itself.
  bool auto_accept = true;
};

class Stack final : public Application {
 public:
  // Linux's default tcp_wmem maximum: room for a 1 Gbps × 30 ms window.
  static constexpr std::uint64_t kDefaultSendBuffer = 4u << 20;

  explicit Stack(Host& host, std::uint64_t send_buffer = kDefaultSendBuffer);
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  ~Stack() override;

  Host& host() { return host_; }
  std::uint64_t send_buffer() const { return send_buffer_; }

  // Listens on a port; the handler hears every connection accepted there. A listener
  // outlives a crash: the restarted host listens again, as a service manager would
  // restart the server.
  void listen(std::uint16_t port, Handler& handler, const ListenOptions& options = {});
  // Opens a connection; the handler hears on_connected or on_failed. nullopt (and
  // nothing heard) when no ephemeral port is free or the host is down.
  std::optional<Socket> connect(wire::Ipv4Address remote, std::uint16_t port, Handler& handler);
  // From a chosen local port: nullopt while that four-tuple is in use (TIME_WAIT too).
  std::optional<Socket> connect_from(std::uint16_t local_port, wire::Ipv4Address remote, std::uint16_t port,
                                     Handler& handler);
  // Takes the oldest connection from a listener's accept queue (without auto-accept).
  // Bytes that arrived before the accept are reported by one on_readable right after.
  std::optional<Socket> accept(std::uint16_t port);

  std::size_t open_sockets() const { return open_; }

 private:
  friend class Socket;
  struct Entry {
    Handler* handler = nullptr;
    std::uint32_t generation = 0;
    std::uint64_t written = 0;  // bytes this application has queued, ever
    bool connected = false;
    bool shut = false;          // shutdown/close issued: send() takes nothing more
    bool want_write = false;    // send() fell short: on_writable is owed
    bool want_drain = false;    // on_drained is owed
  };
  struct Listening {
    Handler* handler;
    ListenOptions options;
  };

  void on_event(Host& host, tcp::ConnId conn, const tcp::Event& event) override;
  void on_input(Host& host, tcp::ConnId conn) override;
  void on_crash(Host& host) override;
  void on_restart(Host& host) override;

  Entry* entry(tcp::ConnId id);
  Entry& attach(tcp::ConnId id, Handler& handler);
  std::optional<Socket> opened(std::optional<tcp::ConnId> id, Handler& handler);
  void detach(tcp::ConnId id);
  void accept_ready(std::uint16_t port, Listening& l);
  std::uint64_t space(tcp::ConnId id);
  // Sends what a command queued, unless called from inside the host's callbacks
  // (whose caller drains it).
  void flush(tcp::ConnId id);

  Host& host_;
  std::uint64_t send_buffer_;
  std::vector<Entry> entries_;  // by connection slot
  std::size_t open_ = 0;
  std::unordered_map<std::uint16_t, Listening> listeners_;
};

}  // namespace shakedown::apps
