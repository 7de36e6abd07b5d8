// A driver for the fuzz target where libFuzzer is not available (g++ builds, CI):
// every seed file as it is, then a fixed number of deterministic mutations of them —
// bit flips, byte edits, splices and YAML's own punctuation — so that each run tries
// the same inputs and a failure is reproducible. Coverage-guided fuzzing is the `fuzz`
// preset's job (clang, libFuzzer); this keeps the target honest in every build.
//
// Usage: NAME_fuzz_replay ITERATIONS SEED_FILE...
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

#include "mutate.h"

using shakedown::fuzz::mutate;
using shakedown::fuzz::next;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ITERATIONS SEED_FILE...\n", argv[0]);
    return 2;
  }
  const long iterations = std::strtol(argv[1], nullptr, 10);
  std::vector<std::string> seeds;
  for (int i = 2; i < argc; ++i) {
    std::ifstream f(argv[i], std::ios::binary);
    std::ostringstream text;
    text << f.rdbuf();
    seeds.push_back(text.str());
  }
  for (const std::string& s : seeds) LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  std::uint64_t rng = 1;
  for (long i = 0; i < iterations; ++i) {
    const std::string input = mutate(seeds[next(rng) % seeds.size()], seeds, rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  }
  std::printf("%s: %zu seeds and %ld mutations, no failure\n", argv[0], seeds.size(), iterations);
  return 0;
}
