#include "controller/resources.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "emulator/wide.h"

namespace shakedown::controller {

namespace {
// Measured with /usr/bin/time (maximum resident set) on release builds: a 50,000-host
// star without traffic costs 5.1 KB per host with its link and route; 200,000 and
// 400,000 connections over a 1,000-host star, 1.29 KB per connection (tcp_memory's
// per-connection state, the recorder's row, the start time, the host's tables). The
// figures here round those up.
constexpr std::uint64_t kBase = 64ull << 20;        // the program, the engine, the tables
constexpr std::uint64_t kPerNode = 3 * 1024;        // a host's stack or a router
constexpr std::uint64_t kPerLink = 2560;            // two directions and their streams
constexpr std::uint64_t kPerRoute = 32;             // one router's entry for one host
constexpr std::uint64_t kPerConnection = 1536;      // both ends, their row and start time

}  // namespace

MemoryEstimate estimate_memory(const topology::Topology& t) {
  MemoryEstimate m;
  for (const auto& n : t.nodes()) (n.kind() == topology::Node::HOST ? m.hosts : m.routers) += 1;
  m.links = static_cast<std::uint64_t>(t.links_size());
  for (const auto& w : t.workloads())
    m.connections = saturating_add(m.connections, saturating_mul(static_cast<std::uint64_t>(w.clients_size()), w.connections()));
  std::uint64_t b = kBase;
  b = saturating_add(b, saturating_mul(m.hosts + m.routers, kPerNode));
  b = saturating_add(b, saturating_mul(m.links, kPerLink));
  b = saturating_add(b, saturating_mul(saturating_mul(m.routers, m.hosts), kPerRoute));
  b = saturating_add(b, saturating_mul(m.connections, kPerConnection));
  m.bytes = b;
  return m;
}

std::uint64_t available_memory() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream s(line.substr(13));
    std::uint64_t kb = 0;
    s >> kb;
    return kb * 1024;
  }
  return 0;
}

std::string pretty_bytes(std::uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1e12) return fmt::format("{:.1f}TB", b / 1e12);
  if (b >= 1e9) return fmt::format("{:.1f}GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.0f}MB", b / 1e6);
  return fmt::format("{:.0f}KB", b / 1e3);
}

}  // namespace shakedown::controller
