// The one observer interface (ARCHITECTURE rule 5). Links, nodes and TCP report what
// happens through it; trace sinks (pcap, events.jsonl, counters) implement it.
//
// A component holds a nullable Observer*. With none attached, the cost on the hot path
// is one well-predicted branch: events are built only when someone listens.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "emulator/packet.h"
#include "emulator/time.h"

namespace shakedown {

// Why a packet did not arrive. Every packet that disappears has exactly one.
enum class DropReason : std::uint8_t {
  loss,         // a link's loss model chose it
  queue_full,   // a link's transmit queue was at its packet or byte limit
  link_down,    // the link was down when it arrived, or went down while it was queued or in flight
  corrupt,      // a receiver found a bad checksum (a link flipped a bit)
  mtu,          // larger than the link's MTU
  ttl,          // a router decremented TTL to zero
  no_route,     // a router or host had no route for the destination
  no_listener,  // no socket for it at the destination (answered with RST where TCP says so)
  fault,        // a targeted fault the experiment asked for ("drop the first SYN")
  host_down,    // arrived at a host that has crashed and not restarted
};
// Derived from the enum: the last reason is the count less one.
inline constexpr int kDropReasonCount = static_cast<int>(DropReason::host_down) + 1;
std::string_view to_string(DropReason r);

enum class PacketEventKind : std::uint8_t {
  enqueue,  // handed to a link (accepted into its queue)
  deliver,  // arrived at the far end of a link
  drop,     // gone: see the reason
};
std::string_view to_string(PacketEventKind k);

// Where it happened: a direction of a link, or a node.
struct Site {
  enum class Kind : std::uint8_t { link, node };
  Kind kind = Kind::link;
  std::uint32_t id = 0;
  std::uint8_t direction = 0;  // links: 0 = first end to second, 1 = back
};

struct PacketEvent {
  TimePoint time;
  PacketEventKind kind;
  Site site;
  DropReason reason;  // meaningful for drop only
  const Packet& packet;
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_packet(const PacketEvent& /*event*/) {}
};

// Fans events out to several observers, in the order they were added.
class ObserverList final : public Observer {
 public:
  void add(Observer& o) { observers_.push_back(&o); }
  bool empty() const { return observers_.empty(); }
  void on_packet(const PacketEvent& e) override {
    for (Observer* o : observers_) o->on_packet(e);
  }

 private:
  std::vector<Observer*> observers_;
};

}  // namespace shakedown
