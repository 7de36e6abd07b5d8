// The loader's first room: reading YAML values with located errors. Every error names
// the file, line, column and key ("t.yaml:4:25: links[0].mtu: 20 is out of range
// 68..65535"), says what was expected, and suggests the nearest valid key for a typo.
// The other rooms (settings.h, loader_internal.h) read the file through a Reader.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "emulator/units.h"
#include "topologies/loader.h"

namespace shakedown::topology {

// Optimal string alignment distance, and the candidate within two edits of `word`
// (empty when none is).
std::size_t edit_distance(std::string_view a, std::string_view b);
std::string nearest(std::string_view word, const std::vector<std::string_view>& candidates);
// A name as an error message shows it: a 200 KB name is cut short.
std::string shown(std::string_view s);
// What a valid name looks like, for messages.
std::string name_rule();
// "a map", "a list", "'text'": what a value is, for messages.
std::string kind_of(const YAML::Node& n);

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }
  // No time in the file may be later than this (loader.h: kDefaultHorizonNs).
  void set_horizon_ns(std::int64_t ns) { horizon_ns_ = ns; }
  std::int64_t horizon_ns() const { return horizon_ns_; }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& message) const {
    const YAML::Mark m = at.Mark();
    throw LoadError(file_, m.line >= 0 ? m.line + 1 : 1, m.column >= 0 ? m.column + 1 : 1, key, message);
  }

  // Each key of a map, checked against the allowed ones (and for repeats).
  template <typename Fn>
  void for_each_key(const YAML::Node& map, const std::string& where, const std::vector<std::string_view>& allowed,
                    Fn&& fn) const {
    if (!map.IsMap()) fail(map, where, fmt::format("expected a map of keys, got {}", kind_of(map)));
    std::set<std::string> seen;
    for (const auto& kv : map) {
      const YAML::Node k = kv.first;
      const YAML::Node value = kv.second;
      if (!k.IsScalar()) fail(k, where, "a key must be a plain word");
      const std::string key = k.Scalar();
      const std::string path = where.empty() ? key : where + "." + key;
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        const std::string near = nearest(key, allowed);
        fail(k, path,
             near.empty() ? fmt::format("unknown key; expected one of: {}", fmt::join(allowed, ", "))
                          : fmt::format("unknown key; did you mean '{}'?", near));
      }
      if (!seen.insert(key).second) fail(k, path, "given twice");
      fn(key, value, path);
    }
  }

  std::string scalar(const YAML::Node& n, const std::string& key, std::string_view expected) const {
    if (!n.IsScalar()) fail(n, key, fmt::format("expected {}, got {}", expected, kind_of(n)));
    return n.Scalar();
  }
  template <typename Parse>
  auto unit(const YAML::Node& n, const std::string& key, std::string_view expected, Parse&& parse) const {
    const std::string text = scalar(n, key, expected);
    try {
      return parse(text);
    } catch (const std::invalid_argument& e) {
      fail(n, key, e.what());
    }
  }
  // Every time in a file is at most the run's horizon, so that no sum of them the run
  // makes (a start plus delays plus timeouts) comes near the 64-bit limit.
  std::int64_t duration_ns(const YAML::Node& n, const std::string& key) const {
    const std::int64_t ns =
        unit(n, key, "a duration such as '10ms'", [](const std::string& s) { return parse_duration(s).ns(); });
    if (ns > horizon_ns_)
      fail(n, key,
           fmt::format("{} is past the run's horizon of {} (a longer run says so with run: {{until: ...}}, up to {})",
                       to_string(Duration::nanoseconds(ns)), to_string(Duration::nanoseconds(horizon_ns_)),
                       to_string(Duration::nanoseconds(kMaxHorizonNs))));
    return ns;
  }
  double percent(const YAML::Node& n, const std::string& key) const {
    return unit(n, key, "a percentage such as '1%'", [](const std::string& s) { return parse_percent(s).fraction(); });
  }
  std::uint64_t rate_bps(const YAML::Node& n, const std::string& key) const {
    const std::uint64_t r = unit(n, key, "a rate such as '100Mbps'",
                                 [](const std::string& s) { return parse_rate(s).bits_per_second(); });
    if (r == 0) fail(n, key, "a rate must be more than zero (leave it out for an unlimited link)");
    return r;
  }
  std::uint64_t bytes(const YAML::Node& n, const std::string& key) const {
    return unit(n, key, "a size such as '64KB'", [](const std::string& s) { return parse_bytes(s); });
  }
  template <typename Int>
  Int whole(const YAML::Node& n, const std::string& key, Int min, Int max) const {
    const std::string s = scalar(n, key, "a whole number");
    Int v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size())
      fail(n, key, fmt::format("expected a whole number, got '{}'", s));
    if (v < min || v > max) fail(n, key, fmt::format("{} is out of range {}..{}", v, min, max));
    return v;
  }
  std::uint64_t integer(const YAML::Node& n, const std::string& key, std::uint64_t min, std::uint64_t max) const {
    return whole<std::uint64_t>(n, key, min, max);
  }
  // A byte count in a packet (MSS, MTU, overheads, cells): a bare number of bytes, as
  // tc and Linux write them, or a size with its unit ('1460B'); may be negative when
  // `min` is.
  std::int64_t byte_count(const YAML::Node& n, const std::string& key, std::int64_t min, std::int64_t max) const {
    const std::string s = scalar(n, key, "a number of bytes such as 1500 or '1500B'");
    const bool negative = !s.empty() && s.front() == '-';
    const std::string magnitude = negative ? s.substr(1) : s;
    std::int64_t v = 0;
    if (!magnitude.empty() && std::all_of(magnitude.begin(), magnitude.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      v = whole<std::int64_t>(n, key, min, max);
    } else if (magnitude.find_first_not_of("0123456789.+") == std::string::npos) {
      fail(n, key, fmt::format("expected a whole number of bytes (or a size such as '48B'), got '{}'", s));
    } else {
      const std::uint64_t b = unit(n, key, "a number of bytes", [&](const std::string&) { return parse_bytes(magnitude); });
      if (b > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail(n, key, fmt::format("{} is out of range {}..{}", s, min, max));
      v = negative ? -static_cast<std::int64_t>(b) : static_cast<std::int64_t>(b);
    }
    if (v < min || v > max) fail(n, key, fmt::format("{} is out of range {}..{}", s, min, max));
    return v;
  }
  bool boolean(const YAML::Node& n, const std::string& key) const {
    const std::string s = scalar(n, key, "true or false");
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
    fail(n, key, fmt::format("expected true or false, got '{}'", s));
  }

 private:
  std::string file_;
  std::int64_t horizon_ns_ = kDefaultHorizonNs;
};

}  // namespace shakedown::topology
