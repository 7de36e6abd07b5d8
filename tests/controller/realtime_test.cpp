// `shakedown run --realtime`: the same run paced by the wall clock. With nothing real
// attached, the events run in the same order at the same virtual times, so every trace
// is the virtual run's byte for byte; only the lateness figures are added.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "controller/shell.h"

namespace {

namespace fs = std::filesystem;
using shakedown::testing::Result;
using shakedown::testing::shell;

const std::string kBin = SHAKEDOWN_BIN;

using shakedown::testing::read_file;

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("shakedown-realtime-" + std::to_string(getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  return dir;
}

// Half a second of traffic: a bulk transfer over a lossy 20 ms path (retransmissions,
// timers) and a short TIME_WAIT, so that the run ends by itself.
const char* kFile =
    "name: paced\nseed: 5\ndefaults:\n  tcp: {msl: 50ms}\nhosts: [a, b]\n"
    "links:\n  - {ends: [a, b], delay: 20ms, rate: 20Mbps, loss: 2%}\n"
    "workload:\n  - {app: bulk, from: a, to: b:80, bytes: 300KB, connections: 2}\n";

TEST(Realtime, SameTracesAsVirtualTimeAndTheLatenessBeside) {
  const fs::path dir = scratch("same");
  fs::create_directories(dir);
  const std::string file = (dir / "paced.yaml").string();
  std::ofstream(file) << kFile;
  const Result v = shell(kBin + " run " + file + " -q -o " + (dir / "virtual").string() + " 2>&1");
  ASSERT_EQ(v.code, 0) << v.output;
  const Result r = shell(kBin + " run " + file + " --realtime -o " + (dir / "real").string() + " 2>&1");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("real time       lateness p50 "), std::string::npos) << r.output;

  for (const char* f : {"events.jsonl", "connections.csv", "pcap/a.pcap", "pcap/b.pcap"})
    EXPECT_EQ(read_file(dir / "virtual" / f), read_file(dir / "real" / f)) << f;
  auto real = nlohmann::json::parse(read_file(dir / "real/summary.json"));
  const auto virt = nlohmann::json::parse(read_file(dir / "virtual/summary.json"));
  ASSERT_TRUE(real.contains("realtime"));
  const nlohmann::json rt = real["realtime"];
  real.erase("realtime");
  EXPECT_EQ(real, virt);

  // Every event's lateness was measured, in order of size, and the run took at least
  // the time it simulated.
  EXPECT_EQ(rt["events"].get<std::uint64_t>(), virt["events"].get<std::uint64_t>());
  EXPECT_LE(rt["lateness_p50_ns"].get<std::int64_t>(), rt["lateness_p99_ns"].get<std::int64_t>());
  EXPECT_LE(rt["lateness_p99_ns"].get<std::int64_t>(), rt["lateness_max_ns"].get<std::int64_t>());
  EXPECT_EQ(rt["behind_threshold_ns"].get<std::int64_t>(), 1'000'000);
  EXPECT_LE(rt["events_behind"].get<std::uint64_t>(), rt["events"].get<std::uint64_t>());
  const double simulated = virt["simulated_ns"].get<double>() / 1e9;
  EXPECT_GT(simulated, 0.3);
  const auto timing = nlohmann::json::parse(read_file(dir / "real/timing.json"));
  EXPECT_GE(timing["wall_seconds"].get<double>(), simulated);
}

TEST(Realtime, StopsAtUntilInWallTime) {
  const fs::path dir = scratch("until");
  // Two hosts whose TIME_WAIT lasts a minute: --until ends the run long before.
  const auto start = std::chrono::steady_clock::now();
  const Result r = shell(kBin + " run " + std::string(SHAKEDOWN_CATALOG) + "/two-hosts.yaml --realtime --until 400ms -q -o " +
                         dir.string() + " 2>&1");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_GE(took, 0.4);
  EXPECT_LT(took, 30.0);  // not the minute of TIME_WAIT
  const auto summary = nlohmann::json::parse(read_file(dir / "summary.json"));
  EXPECT_EQ(summary["simulated_ns"].get<std::int64_t>(), 400'000'000);
}

TEST(Realtime, NonsenseIsRefused) {
  const fs::path dir = scratch("bad");
  const std::string two = std::string(SHAKEDOWN_CATALOG) + "/two-hosts.yaml -o " + dir.string();
  Result r = shell(kBin + " run " + two + " --realtime --behind 0ms 2>&1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("--behind must be more than zero"), std::string::npos) << r.output;
  r = shell(kBin + " run " + two + " --realtime --behind soon 2>&1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("--behind"), std::string::npos) << r.output;
}

}  // namespace
