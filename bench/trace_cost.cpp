// What the trace sinks cost: one topology run with no observer at all (the engine,
// network and workloads alone), then through `shakedown run` with the connection table
// only, with every event written, with captures, and with everything. Prints the
// median wall time of each and its cost over the bare run. Not a test: no assertions.
//
//   build/release/bench/trace_cost [TOPOLOGY] [REPETITIONS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "controller/build.h"
#include "controller/run.h"

using namespace shakedown;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::uintmax_t folder_bytes(const std::filesystem::path& dir) {
  std::uintmax_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string file = argc > 1 ? argv[1] : std::string(SHAKEDOWN_BENCH_TOPOLOGIES) + "/star-10k.yaml";
  const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  const auto topo = controller::load_topology(file);
  const auto out = std::filesystem::temp_directory_path() / "shakedown-trace-cost";

  struct Config {
    const char* name;
    const char* events;
    const char* pcap;
  };
  const Config configs[] = {
      {"connections.csv + summary only", "none", "none"},
      {"+ events.jsonl (all kinds)", "all", "none"},
      {"+ events.jsonl (state,retransmit,end)", "state,retransmit,end", "none"},
      {"+ pcap per host", "none", "hosts"},
      {"everything", "all", "hosts"},
  };
  std::printf("%s: %d repetitions each, median wall time\n\n", file.c_str(), reps);
  std::printf("| configuration | wall (s) | cost over bare | output |\n|---|---|---|---|\n");

  std::vector<double> bare;
  std::uint64_t events = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t = std::chrono::steady_clock::now();
    Engine engine;
    PacketPool pool;
    controller::Built built(engine, pool, topo);
    engine.run();
    bare.push_back(seconds_since(t));
    events = engine.events_executed();
  }
  const double base = median(bare);
  std::printf("| bare: engine, network, workloads, no observer | %.3f | — | — |\n", base);

  for (const auto& c : configs) {
    std::vector<double> wall;
    std::uintmax_t bytes = 0;
    for (int r = 0; r < reps; ++r) {
      std::filesystem::remove_all(out);
      controller::RunOptions o;
      o.file = file;
      o.out = out.string();
      o.events = c.events;
      o.pcap = c.pcap;
      o.quiet = true;
      const auto t = std::chrono::steady_clock::now();
      if (controller::run_experiment(o) != 0) return 1;
      wall.push_back(seconds_since(t));
      bytes = folder_bytes(out);
    }
    const double w = median(wall);
    std::printf("| %s | %.3f | %+.0f%% | %.1f MB |\n", c.name, w, (w / base - 1) * 100, static_cast<double>(bytes) / 1e6);
  }
  std::printf("\n%llu events in the bare run (%.2f M events/s)\n", static_cast<unsigned long long>(events),
              static_cast<double>(events) / base / 1e6);
  std::filesystem::remove_all(out);
  return 0;
}
