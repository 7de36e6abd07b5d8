// The catalog's files, mutated with a fixed seed, run through the real `shakedown run`
// as a user would: whatever the file says, the process ends by itself with exit code
// 0, 1 or 2 — never a signal (a crash, an abort, the sanitizers), never a hang.
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "controller/shell.h"
#include "fuzz/mutate.h"

namespace {

constexpr int kMutants = 500;
constexpr int kSecondsEach = 30;  // a generous bound: a mutant that takes longer hangs

using shakedown::testing::read_file;

TEST(Mutants, EveryMutatedCatalogFileEndsWithZeroOneOrTwo) {
  std::vector<std::string> seeds;
  for (const auto& e : std::filesystem::directory_iterator(SHAKEDOWN_CATALOG))
    if (e.path().extension() == ".yaml") seeds.push_back(read_file(e.path()));
  std::sort(seeds.begin(), seeds.end());
  ASSERT_GT(seeds.size(), 3u);
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("shakedown_mutants_{}", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  std::vector<std::string> inputs;
  std::uint64_t rng = 42;
  for (int i = 0; i < kMutants; ++i)
    inputs.push_back(shakedown::fuzz::mutate(seeds[shakedown::fuzz::next(rng) % seeds.size()], seeds, rng));

  std::map<int, int> codes;
  std::vector<std::string> bad;
  std::mutex m;
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < inputs.size(); i = next++) {
      const auto file = dir / fmt::format("m{}.yaml", i);
      const auto out = dir / fmt::format("r{}", i);
      std::ofstream(file, std::ios::binary) << inputs[i];
      const std::string cmd = fmt::format("timeout -s KILL {} {} run {} -q --pcap none --events none --until 1s -o {} >/dev/null 2>&1",
                                          kSecondsEach, SHAKEDOWN_BIN, file.string(), out.string());
      const int status = std::system(cmd.c_str());
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      std::lock_guard lock(m);
      ++codes[code];
      if (code > 2) bad.push_back(fmt::format("{}: exit {}", file.string(), code));
      if (code <= 2) {
        std::error_code ec;
        std::filesystem::remove(file, ec);
      }
      std::filesystem::remove_all(out);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < std::max(2u, std::thread::hardware_concurrency()); ++j) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  for (const auto& b : bad) ADD_FAILURE() << b << " (kept for a look; 137 is the time limit)";
  std::string counts;
  for (const auto& [code, n] : codes) counts += fmt::format(" exit {}: {};", code, n);
  std::printf("mutants:%s\n", counts.c_str());
  EXPECT_GT(codes[0] + codes[1], 20) << "some mutants must still run, or the test tries nothing but the loader";
  EXPECT_GT(codes[2], 100) << "and most are refused";
  if (bad.empty()) std::filesystem::remove_all(dir);
}

}  // namespace
