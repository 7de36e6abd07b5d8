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

namespace {

std::uint64_t next(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

const char* const kTokens[] = {"[", "]", "{", "}", ":", ",", "-", "*", "&a", "*a", "!!str", "\t", "\n", "  ", "..",
                               "[1..9]", "%", "ms", "Gbps", "0", "-1", "99999999999999999999", "'", "\"", "#",
                               "hosts", "links", "ends", "workload", "faults", "generate", "star", "fat_tree", "k",
                               "count", "from", "to", "match", "nth", "1e308", "null", "~", "?", "|", ">", "\0"};

std::string mutate(std::string s, const std::vector<std::string>& seeds, std::uint64_t& rng) {
  const int edits = 1 + static_cast<int>(next(rng) % 4);
  for (int e = 0; e < edits; ++e) {
    const std::size_t pos = s.empty() ? 0 : next(rng) % (s.size() + 1);
    switch (next(rng) % 6) {
      case 0:
        if (!s.empty()) s[pos % s.size()] ^= static_cast<char>(1u << (next(rng) % 8));
        break;
      case 1:
        if (!s.empty()) s.erase(pos % s.size(), 1 + next(rng) % 8);
        break;
      case 2:
        s.insert(pos, 1, static_cast<char>(next(rng) % 256));
        break;
      case 3: {
        const char* t = kTokens[next(rng) % (sizeof kTokens / sizeof kTokens[0])];
        s.insert(pos, t);
        break;
      }
      case 4: {
        const std::string& other = seeds[next(rng) % seeds.size()];
        if (!other.empty()) {
          const std::size_t from = next(rng) % other.size();
          s.insert(pos, other.substr(from, 1 + next(rng) % 64));
        }
        break;
      }
      default:
        if (s.size() > 1) s.resize(pos % s.size());
        break;
    }
  }
  return s;
}

}  // namespace

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
