// Deterministic mutations of text inputs for the fuzz drivers and the mutant tests:
// bit flips, byte edits, splices from other seeds and YAML's own punctuation, from a
// splitmix64 stream, so that the same seed tries the same inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shakedown::fuzz {


inline std::uint64_t next(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline const char* const kTokens[] = {"[", "]", "{", "}", ":", ",", "-", "*", "&a", "*a", "!!str", "\t", "\n", "  ", "..",
                               "[1..9]", "%", "ms", "Gbps", "0", "-1", "99999999999999999999", "'", "\"", "#",
                               "hosts", "links", "ends", "workload", "faults", "generate", "star", "fat_tree", "k",
                               "count", "from", "to", "match", "nth", "1e308", "null", "~", "?", "|", ">", "\0"};

inline std::string mutate(std::string s, const std::vector<std::string>& seeds, std::uint64_t& rng) {
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


}  // namespace shakedown::fuzz
