// The ns-3 side of the second engine (ns3_engine.h): a simulation described in plain
// data, built and run in ns-3 3.37. ns-3's headers compile only as C++17, so this
// header and ns3_sim.cpp see nothing of the project's C++20 code; ns3_engine.cpp fills
// in the description from the canonical form and takes the reports.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace shakedown::ns3sim {

// ns-3's TCP attributes, as ns3_engine.cpp maps a host's tcp settings onto them.
struct Tcp {
  std::uint32_t segment_size = 1448;  // payload bytes per segment (ns-3 announces no MSS)
  std::uint32_t receive_buffer = 131072;
  std::uint32_t initial_window = 10;  // segments
  std::int64_t initial_rto_ns = 1'000'000'000;
  std::int64_t min_rto_ns = 200'000'000;
  std::uint32_t syn_retries = 6;
  std::uint32_t data_retries = 15;
  std::int64_t delayed_ack_ns = 40'000'000;  // 0: every segment acknowledged at once
  std::int64_t msl_ns = 30'000'000'000;
  std::uint32_t dupack_threshold = 3;
  bool nagle = true, window_scaling = true, sack = true, timestamps = true;
  std::string congestion = "ns3::TcpCubic";  // the TypeId of the congestion control
};

struct Node {
  std::string name;
  bool host = false;
  std::uint32_t address = 0;  // hosts: IPv4, host order
  std::uint32_t link = 0;     // hosts: their one link
  Tcp tcp;                    // hosts
  bool pcap = false;          // hosts: a capture of its device
};

// "Drop the nth packet on this link direction that matches" (a topology's packet fault
// with action drop): matched as the far end receives it.
struct Fault {
  std::uint8_t flags = 0, flags_mask = 0;  // mask 0: any flags
  bool has_src = false, has_dst = false;
  std::uint32_t src = 0, dst = 0;  // IPv4, host order
  std::int32_t src_port = -1, dst_port = -1;  // -1: any
  bool with_payload = false;
  std::vector<std::uint32_t> nth;  // sorted; empty with first 0: every match
  std::uint32_t first = 0;
  std::int64_t from_ns = 0, until_ns = 0;  // when handed to the link; until 0: the end
};

struct Direction {
  std::uint64_t rate_bps = 0;  // 0: unlimited
  std::uint32_t mtu = 0;       // 0: the device's default
  std::uint32_t queue_packets = 1000;
  std::uint64_t queue_bytes = 0;  // non-zero: the limit is in bytes instead
  double loss = 0;                // random, per packet
  std::vector<Fault> faults;
  bool down = false;  // down from the start, for the whole run
};

struct Link {
  std::uint32_t a = 0, b = 0;
  std::int64_t delay_ns = 0;  // both ways
  Direction forward, backward;  // a to b, b to a
};

// A link held down (both directions) from `at_ns`, or released; holds count, as
// shakedown's do: a link is up when every hold is released.
struct LinkHold {
  std::int64_t at_ns = 0;
  std::uint32_t link = 0;
  bool hold = true;
};

// A fault's new settings for one or both directions of a link, whole.
struct LinkChange {
  std::int64_t at_ns = 0;
  std::uint32_t link = 0;
  std::int64_t delay_ns = -1;  // both ways; -1: unchanged
  bool forward_set = false, backward_set = false;
  Direction forward, backward;
};

struct Route {
  std::uint32_t router = 0, destination = 0, link = 0;  // destination: a host's address
};

// One workload's connections, driven as shakedown's workloads drive theirs: rounds of
// a request and its response (the echo server returns each byte as it comes), a think
// time between rounds, and who closes first.
struct Workload {
  std::uint32_t server = 0;
  std::uint16_t port = 80;
  bool listen = true;
  std::vector<std::uint32_t> clients;  // start k runs on clients[k % size]
  std::vector<std::int64_t> starts_ns;
  std::uint32_t segment_size = 1448;  // both ends'
  std::uint64_t request = 0, response = 0, rounds = 0;
  bool echo = false;
  std::int64_t think_ns = 0;
  bool client_closes = true, server_closes = false;
};

struct Simulation {
  std::uint64_t seed = 1;
  std::vector<Node> nodes;
  std::vector<Link> links;
  std::vector<Route> routes;
  std::vector<LinkHold> holds;
  std::vector<LinkChange> changes;
  std::vector<Workload> workloads;
  std::int64_t limit_ns = 0;
  bool stop_when_idle = true;
  std::string pcap_dir;  // empty: no captures
};

// What the run reports as it goes, at ns-3's clock.
class Reports {
 public:
  virtual ~Reports() = default;
  // A host's IPv4 layer sent, or handed up to its TCP, this packet (IPv4 header first).
  virtual void sent(std::uint32_t host, std::int64_t t, const std::uint8_t* packet, std::size_t size) = 0;
  virtual void delivered(std::uint32_t host, std::int64_t t, const std::uint8_t* packet, std::size_t size) = 0;
  // ns-3's TCP left a connection for CLOSED by a timer: TIME_WAIT's end, or its
  // retransmissions ran out (timed_out).
  virtual void ended(std::uint32_t host, std::int64_t t, std::uint32_t remote, std::uint16_t local_port,
                     std::uint16_t remote_port, bool timed_out) = 0;
};

enum Drop : int { kDropLoss, kDropQueue, kDropTtl, kDropNoRoute, kDropFault, kDropLinkDown, kDrops };

struct Result {
  std::uint64_t events = 0;  // ns-3's, less the run's own checks
  std::int64_t last_ns = 0;  // of the last report, or where the run was stopped
  bool interrupted = false;
  bool stopped_at_limit = false;  // events were still due at limit_ns
  std::array<std::uint64_t, kDrops> drops{};
  std::uint64_t pcap_files = 0;
};

// Builds and runs the simulation (Simulator::Destroy before and after). Every 10 ms of
// simulated time `keep_going` is given ns-3's clock and event count; false stops the run.
Result run(const Simulation& sim, Reports& reports,
           const std::function<bool(std::int64_t now_ns, std::uint64_t events)>& keep_going);

}  // namespace shakedown::ns3sim
