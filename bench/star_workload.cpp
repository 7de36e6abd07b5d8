// The reference scenario of the benchmarks, built in C++ until the topology format
// exists: N clients, each on its own 1 Gbps, 10 ms link to one router; the router on a
// 1 Gbps, 10 ms link to the server; 1% random loss on every link, both directions.
// Each client opens K connections, started uniformly over the first second, sends
// 10,000 bytes and closes; the server sinks them. MSS 1448 on the wire (1460 with
// timestamps). The run ends when every connection is closed, or at 120 s simulated.
//
// Prints wall time, events per second, peak memory and bytes delivered — figures,
// never a verdict.
//
// Run: build/release/bench/star_workload [N] [K]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "emulator/engine.h"
#include "nodes/apps/workload.h"
#include "nodes/network.h"

using namespace shakedown;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100;
  const int k = argc > 2 ? std::atoi(argv[2]) : 100;
  if (n <= 0 || k <= 0) {
    std::fprintf(stderr, "usage: star_workload [clients > 0] [connections per client > 0]\n");
    return 2;
  }
  const auto wall_start = std::chrono::steady_clock::now();
  Engine engine;
  PacketPool pool;
  Network net(engine, pool, /*run_seed=*/1);
  LinkParams link;
  link.delay.delay = Duration::milliseconds(10);
  link.rate = DataRate::gbps(1);
  link.loss = RandomLoss{Probability::from_fraction(0.01), {}};
  const auto router = net.add_router("r");
  apps::Workload w;
  w.name = "upload";
  w.app = apps::AppKind::bulk;
  w.bytes = 10'000;
  w.connections = static_cast<std::uint32_t>(k);
  w.start.kind = apps::StartSchedule::Kind::uniform;
  w.start.to = TimePoint::zero() + Duration::seconds(1);
  for (int i = 0; i < n; ++i) {
    w.clients.push_back(net.add_host(fmt::format("client{}", i)));
    net.add_link(w.clients.back(), router, link);
  }
  w.server = net.add_host("server");
  net.add_link(router, w.server, link);
  net.build();
  apps::Workloads loads(engine, net, 1);
  loads.add(w);
  const auto built = std::chrono::steady_clock::now();
  engine.run_until(TimePoint::zero() + Duration::seconds(120));
  const auto done = std::chrono::steady_clock::now();

  const auto st = loads.stats(0);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double build_s = std::chrono::duration<double>(built - wall_start).count();
  const double run_s = std::chrono::duration<double>(done - built).count();
  const std::uint64_t planned = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(k);
  fmt::print("connections        {} ({} clients x {})\n", planned, n, k);
  fmt::print("completed          {}  (reset {}, timed out {}, open {})\n", st.completed, st.reset, st.timed_out,
             st.open);
  fmt::print("bytes delivered    {} of {}{}\n", st.server_bytes_received, planned * w.bytes,
             st.server_bytes_received == planned * w.bytes ? "" : "  << MISSING BYTES");
  fmt::print("payload wrong      {}\n", net.host(w.server).stats().payload_bytes_wrong);
  fmt::print("simulated          {:.3f} s\n", (engine.now() - TimePoint::zero()).seconds_f());
  fmt::print("wall               {:.3f} s build + {:.3f} s run\n", build_s, run_s);
  fmt::print("events             {} ({:.2f} M/s)\n", engine.events_executed(),
             static_cast<double>(engine.events_executed()) / run_s / 1e6);
  fmt::print("peak memory        {:.1f} MB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  return st.server_bytes_received == planned * w.bytes ? 0 : 1;
}
