// ns-3 as a second engine (docs/ns3.md): the canonical form built as an ns-3 3.37
// simulation — its nodes, point-to-point links, error models and ns-3's own TCP — with
// shakedown's addresses and routes and the workloads' own start times, so that the two
// engines differ only in what they are compared for.
//
// The run folder is written by the same recorder as a shakedown run's: every segment a
// host's IPv4 layer sends or hands up is read as bytes (ns-3 computes real checksums
// here), and each connection's states follow from those segments at that host, as for
// a real host (real_side.h), with the ends no segment shows — TIME_WAIT's 2 MSL, a
// connection whose retransmissions ran out — taken from ns-3's own State trace. The
// times are ns-3's: a segment leaves its TCP, and a state changes, at the same instant.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "emulator/trace.h"
#include "topologies/topology.pb.h"

namespace shakedown {
class Network;
namespace apps {
class Workloads;
}
}  // namespace shakedown

namespace shakedown::controller {

class RealSide;

// What the topology asks for that this engine cannot express, one line per feature and
// place ("link 'a'—'b', forward: jitter"); empty when it can run.
std::vector<std::string> ns3_refusals(const topology::Topology& topo);

// What a run of this size needs on ns-3, whose nodes and sockets cost far more than
// shakedown's: measured on the reference star (bench/RESULTS.md: 10,000 connections,
// 102 nodes, 239 MB), 40 MB to start, 20 KB a connection, 200 KB a node, 10 KB a link.
inline std::uint64_t ns3_memory(std::uint64_t nodes, std::uint64_t links, std::uint64_t connections) {
  return 40'000'000 + 20'000 * connections + 200'000 * nodes + 10'000 * links;
}

struct Ns3Result {
  std::uint64_t events = 0;      // ns-3's, less the engine's own checks
  std::int64_t last_ns = 0;      // the simulated time the run ended at
  bool interrupted = false;      // stopped by Ctrl-C
  bool stopped_at_limit = false;  // at limit_ns, with events still due
  std::array<std::uint64_t, kDropReasonCount> drops{};
  std::uint64_t pcap_files = 0;
};

// Runs `topo` (which ns3_refusals accepts) in ns-3 until `limit_ns` or, with
// `stop_when_idle`, until nothing is left to happen; reports every host's segments and
// ends to `side`. `network` is the same topology built by shakedown: its addresses,
// routes and the workloads' start times are used as they are. pcap_dir non-empty: one
// capture per host there (ns-3's own, PPP framing), named as shakedown names them, for
// `pcap_hosts` (empty: every host).
// `keep_going` is called every 10 ms simulated with ns-3's clock and event count (the
// progress line); false stops the run there (Ctrl-C).
Ns3Result run_ns3(const topology::Topology& topo, const Network& network, const apps::Workloads& workloads,
                  RealSide& side, std::int64_t limit_ns, bool stop_when_idle, const std::string& pcap_dir,
                  const std::vector<std::uint32_t>& pcap_hosts,
                  const std::function<bool(std::int64_t now_ns, std::uint64_t events)>& keep_going);

}  // namespace shakedown::controller
