// Real hosts in a real-time run (docs/realtime.md): each one a network namespace with
// a TUN device, joined to the emulated network where the file puts the host. What the
// emulated network delivers to the host goes out of the device to Linux's stack; what
// the stack sends comes in at the wall clock's time and travels the host's link like
// any packet (its impairments, captures and drops included). The host's own TCP in the
// emulator is unused: the node is "elsewhere" (Network::set_elsewhere) — it starts no
// connection and reports nothing; the emulated hosts' side of every connection is
// recorded as usual, and the real side is inferred from the packets (real_side.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "controller/real_side.h"
#include "emulator/engine.h"
#include "emulator/packet.h"
#include "emulator/realtime.h"
#include "emulator/tun.h"
#include "nodes/network.h"
#include "topologies/topology.pb.h"

namespace shakedown::controller {

// The real hosts of a topology (node ids).
std::vector<std::uint32_t> real_hosts(const topology::Topology& topo);

struct RealHostStats {
  std::uint64_t packets_in = 0;   // from the real stacks into the emulated network
  std::uint64_t packets_out = 0;  // delivered to the real stacks
  std::uint64_t ignored = 0;      // not IPv4 (an IPv6 router solicitation, say): not carried
  std::uint64_t refused = 0;      // a device would not take a packet
};

class RealHosts {
 public:
  // Makes every real host's namespace and device and joins it to `network` (whose real
  // hosts the build marked elsewhere); the driver hands over what the devices send.
  // `traces` (optional) is told of every packet in and out, to infer the real sides.
  // Throws std::runtime_error naming the host and what failed; what was made so far is
  // removed again.
  RealHosts(const topology::Topology& topo, Network& network, PacketPool& pool, RealtimeDriver& driver,
            Engine& engine, RealSide* traces = nullptr);
  ~RealHosts();
  RealHosts(const RealHosts&) = delete;
  RealHosts& operator=(const RealHosts&) = delete;

  const RealHostStats& stats() const { return stats_; }
  // "laptop in netns sd-laptop (created), 198.18.0.1", one per host.
  std::vector<std::string> describe() const;

 private:
  struct Bridge;
  CleanupNote note_;
  std::vector<std::unique_ptr<NetNamespace>> namespaces_;
  std::vector<std::unique_ptr<Bridge>> bridges_;
  RealHostStats stats_;
};

}  // namespace shakedown::controller
