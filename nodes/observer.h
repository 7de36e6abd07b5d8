// What a host's TCP does, for the traces: every segment a host sends or accepts, every
// connection event (state changes, retransmissions, timers, RTT samples), and crashes.
// The packet-level Observer of emulator/trace.h sees bytes on links; this one sees
// TCP as the host does, tagged with the host's connection id. Hosts call it only when
// one is attached (Network::set_tcp_observer), so a run without traces pays one
// branch per call site.
#pragma once

#include <cstdint>

#include "nodes/tcp/endpoint.h"
#include "nodes/tcp/events.h"
#include "nodes/wire/ipv4.h"
#include "nodes/wire/tcp.h"

namespace shakedown {

class Host;

class TcpObserver {
 public:
  virtual ~TcpObserver() = default;
  // A segment the host put on its link. `conn` is invalid for answers on behalf of no
  // connection (a RST to a segment for a closed port).
  virtual void on_segment_sent(const Host& /*host*/, tcp::ConnId /*conn*/, const wire::Ipv4Header& /*ip*/,
                               const wire::TcpHeader& /*tcp*/, std::uint32_t /*payload*/) {}
  // A segment that passed the host's checksums and was handed to its TCP, and what
  // became of it: the connection it was given to (a SYN's new connection included) and
  // how much of its payload that connection took, or how the endpoint answered or
  // dropped it.
  virtual void on_segment_received(const Host& /*host*/, const tcp::Input& /*input*/, const wire::Ipv4Header& /*ip*/,
                                   const wire::TcpHeader& /*tcp*/, std::uint32_t /*payload*/) {}
  // A connection event, reported before the segments the same step sends.
  virtual void on_tcp_event(const Host& /*host*/, tcp::ConnId /*conn*/, const tcp::Event& /*event*/) {}
  // The host crashed: every connection it had is gone, without an event of its own.
  virtual void on_crash(const Host& /*host*/) {}
};

}  // namespace shakedown
