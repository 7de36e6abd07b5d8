#include "topologies/loader.h"

#include "topologies/expect.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "emulator/units.h"
#include "topologies/generators.h"

namespace shakedown::topology {

LoadError::LoadError(std::string file, int line, int column, std::string key, const std::string& message)
    // Line 0: the file as a whole (it cannot be opened, it is too large).
    : std::runtime_error(line > 0 ? fmt::format("{}:{}:{}: {}{}{}", file, line, column, key, key.empty() ? "" : ": ", message)
                                  : fmt::format("{}: {}{}{}", file, key, key.empty() ? "" : ": ", message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      key_(std::move(key)),
      message_(message) {}

// Names of nodes, groups and experiments: they become folder and file names (the run
// folder, a host's capture), so a letter first, then letters, digits, '_', '-' or '.',
// and not too long to be a file name.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

namespace {

// Optimal string alignment distance: a typo is usually one or two edits away.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string nearest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best;
  std::size_t best_d = 3;  // suggest only within two edits
  for (std::string_view c : candidates) {
    const std::size_t dist = edit_distance(word, c);
    if (dist < best_d) {
      best_d = dist;
      best = std::string(c);
    }
  }
  return best;
}

// A name as an error message shows it: a 200 KB name is cut short.
std::string shown(std::string_view s) {
  return s.size() <= 60 ? std::string(s) : fmt::format("{}... ({} characters)", s.substr(0, 40), s.size());
}
std::string name_rule() {
  return fmt::format("start with a letter, then letters, digits, '_', '-' or '.', at most {} characters",
                     kMaxNameLength);
}

std::string kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", n.Scalar());
    default:
      return "an undefined value";
  }
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  Topology load(const YAML::Node& root);

 private:
  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& message) const {
    const YAML::Mark m = at.Mark();
    throw LoadError(file_, m.line >= 0 ? m.line + 1 : 1, m.column >= 0 ? m.column + 1 : 1, key, message);
  }

  // Each key of a map, checked against the allowed ones (and for repeats).
  template <typename Fn>
  void for_each_key(const YAML::Node& map, const std::string& where, const std::vector<std::string_view>& allowed,
                    Fn&& fn) {
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

  void tcp(const YAML::Node& n, const std::string& where, Tcp& t);
  // The keys of one direction, applied to `d`. `extra` keys are allowed beside them
  // (and left to the caller).
  void direction(const YAML::Node& n, const std::string& where, Direction& d,
                 const std::vector<std::string_view>& extra = {});
  // Link settings with their per-direction overrides: every key sets both directions,
  // then `forward:` and `backward:` change one (links, defaults.link, a generator's
  // link: and bottleneck:). `with_ends` allows a link's own `ends`.
  void sides(const YAML::Node& n, const std::string& where, Direction& forward, Direction& backward,
             bool with_ends = false);
  void add_nodes(const YAML::Node& n, Node::Kind kind, const std::string& where);
  void add_named(const YAML::Node& key_node, const std::string& pattern, Node::Kind kind, const YAML::Node& body,
                 const std::string& where);
  std::uint32_t add_node(const YAML::Node& at, const std::string& where, const std::string& name, Node::Kind kind,
                         const std::string& group, const Tcp& tcp_settings);
  void add_link(const YAML::Node& at, const std::string& where, std::uint32_t a, std::uint32_t b,
                const Direction& forward, const Direction& backward);
  void generators(const YAML::Node& n);
  void assign_addresses(const YAML::Node& root);
  void check_reachable(const YAML::Node& root);
  // The nodes a reference names. `text`, when given, is read instead of n's scalar (a
  // part of it, as the host of 'server:80'); errors still point at n.
  std::vector<std::uint32_t> resolve(const YAML::Node& n, const std::string& key,
                                     const std::optional<std::string>& text = std::nullopt);
  void links(const YAML::Node& n);
  void workloads(const YAML::Node& n);
  void faults(const YAML::Node& n);
  void expectations(const YAML::Node& n);
  // The link between two nodes, and the direction that leaves the first.
  std::pair<std::uint32_t, std::uint32_t> find_link(const YAML::Node& at, const std::string& key);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> find_links(const YAML::Node& at, const std::string& key);
  std::uint32_t one_node(const YAML::Node& n, const std::string& key);

  std::string file_;
  std::uint64_t max_nodes_ = kMaxNodes;
  std::uint64_t max_links_ = kMaxLinks;
  std::int64_t horizon_ns_ = kDefaultHorizonNs;
  Topology topo_;
  Tcp default_tcp_;
  Direction default_forward_, default_backward_;  // defaults.link, per direction
  std::unordered_map<std::string, std::uint32_t> ids_;
  std::map<std::string, std::vector<std::uint32_t>> groups_;
  std::vector<std::uint32_t> link_count_;
  std::unordered_map<std::string, YAML::Node> explicit_at_;  // where a host's own address was given
};

std::optional<std::uint32_t> parse_address(const std::string& s) {
  std::uint32_t out = 0;
  const char* p = s.data();
  const char* end = s.data() + s.size();
  for (int i = 0; i < 4; ++i) {
    unsigned octet = 0;
    const auto r = std::from_chars(p, end, octet);
    if (r.ec != std::errc() || octet > 255 || r.ptr == p || r.ptr - p > 3) return std::nullopt;
    out = out << 8 | octet;
    p = r.ptr;
    if (i < 3) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  if (p != end) return std::nullopt;
  return out;
}

std::string format_address(std::uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

// Linux's defaults, exactly those of tcp::Config (a controller test compares them).
Tcp default_tcp() {
  Tcp t;
  t.set_initial_rto_ns(1'000'000'000);
  t.set_min_rto_ns(200'000'000);
  t.set_max_rto_ns(120'000'000'000);
  t.set_syn_retries(6);
  t.set_synack_retries(5);
  t.set_data_retries(15);
  t.set_msl_ns(30'000'000'000);
  t.set_fin_wait_2_timeout_ns(60'000'000'000);
  t.set_mss(1460);
  t.set_receive_buffer(131072);
  t.set_initial_window(10);
  t.set_congestion(Tcp::CUBIC);
  t.set_dupack_threshold(3);
  t.set_sack(true);
  t.set_timestamps(true);
  t.set_window_scaling(true);
  t.set_application_reads(false);
  t.set_keepalive(false);
  t.set_keepalive_time_ns(7200'000'000'000);
  t.set_keepalive_interval_ns(75'000'000'000);
  t.set_keepalive_probes(9);
  t.set_nagle(true);
  t.set_delayed_ack_ns(40'000'000);
  t.set_two_way_handshake(false);
  t.set_syn_loss_window_after(2);
  t.set_strict_paws(false);
  return t;
}

// LinkParams' defaults: no impairment, Linux's txqueuelen, Ethernet's MTU.
Direction default_direction() {
  Direction d;
  d.set_queue_packets(1000);
  d.set_mtu(1500);
  d.set_reorder_gap(1);
  return d;
}

void Loader::tcp(const YAML::Node& n, const std::string& where, Tcp& t) {
  static const std::vector<std::string_view> keys = {
      "initial_rto", "min_rto",    "max_rto",        "syn_retries",       "synack_retries",     "data_retries",
      "msl",         "fin_wait_2_timeout", "mss",    "receive_buffer",    "initial_window",     "congestion",
      "dupack_threshold", "sack",  "timestamps",     "window_scaling",    "application_reads",  "keepalive",
      "keepalive_time", "keepalive_interval", "keepalive_probes", "nagle", "delayed_ack",      "two_way_handshake",
      "isn", "syn_loss_window_after", "strict_paws"};
  for_each_key(n, where, keys, [&](const std::string& k, const YAML::Node& v, const std::string& path) {
    if (k == "initial_rto") t.set_initial_rto_ns(duration_ns(v, path));
    if (k == "min_rto") t.set_min_rto_ns(duration_ns(v, path));
    if (k == "max_rto") t.set_max_rto_ns(duration_ns(v, path));
    if (k == "syn_retries") t.set_syn_retries(static_cast<int>(integer(v, path, 0, 255)));
    if (k == "synack_retries") t.set_synack_retries(static_cast<int>(integer(v, path, 0, 255)));
    if (k == "data_retries") t.set_data_retries(static_cast<int>(integer(v, path, 0, 255)));
    if (k == "msl") t.set_msl_ns(duration_ns(v, path));
    if (k == "fin_wait_2_timeout") t.set_fin_wait_2_timeout_ns(duration_ns(v, path));
    if (k == "mss") t.set_mss(static_cast<std::uint32_t>(byte_count(v, path, 88, 65495)));
    if (k == "receive_buffer") {
      // Below Linux's SOCK_MIN_RCVBUF the window never opens far enough to move a
      // segment (0 never opens at all: a run that never ends); above 1 GiB it cannot be
      // offered (RFC 7323 2.3: 65535 << 14).
      const std::uint64_t b = bytes(v, path);
      if (b < 2304) fail(v, path, fmt::format("{} bytes is too small: at least 2304 bytes (Linux's minimum)", b));
      if (b > (1u << 30)) fail(v, path, "is larger than the largest window TCP can offer, 1GiB (RFC 7323 2.3)");
      t.set_receive_buffer(static_cast<std::uint32_t>(b));
    }
    if (k == "initial_window") t.set_initial_window(static_cast<std::uint32_t>(integer(v, path, 1, 1000)));
    if (k == "congestion") {
      const std::string s = scalar(v, path, "cubic, reno or newreno");
      if (s == "cubic") {
        t.set_congestion(Tcp::CUBIC);
      } else if (s == "reno") {
        t.set_congestion(Tcp::RENO);
      } else if (s == "newreno") {
        t.set_congestion(Tcp::NEWRENO);
      } else {
        fail(v, path, fmt::format("unknown algorithm '{}'; expected cubic, reno or newreno", s));
      }
    }
    if (k == "dupack_threshold") t.set_dupack_threshold(static_cast<int>(integer(v, path, 1, 1000)));
    if (k == "sack") t.set_sack(boolean(v, path));
    if (k == "timestamps") t.set_timestamps(boolean(v, path));
    if (k == "window_scaling") t.set_window_scaling(boolean(v, path));
    if (k == "application_reads") t.set_application_reads(boolean(v, path));
    if (k == "keepalive") t.set_keepalive(boolean(v, path));
    if (k == "keepalive_time") t.set_keepalive_time_ns(duration_ns(v, path));
    if (k == "keepalive_interval") t.set_keepalive_interval_ns(duration_ns(v, path));
    if (k == "keepalive_probes") t.set_keepalive_probes(static_cast<int>(integer(v, path, 1, 1000)));
    if (k == "nagle") t.set_nagle(boolean(v, path));
    if (k == "delayed_ack") t.set_delayed_ack_ns(duration_ns(v, path));
    if (k == "two_way_handshake") t.set_two_way_handshake(boolean(v, path));
    if (k == "syn_loss_window_after") t.set_syn_loss_window_after(static_cast<int>(integer(v, path, 0, 255)));
    if (k == "strict_paws") t.set_strict_paws(boolean(v, path));
    if (k == "isn") {
      const std::string s = scalar(v, path, "random or clock");
      if (s != "random" && s != "clock") fail(v, path, fmt::format("unknown ISN choice '{}'; expected random or clock", s));
      t.set_isn_clock(s == "clock");
    }
  });
  if (t.min_rto_ns() <= 0) fail(n, where + ".min_rto", "must be more than zero");
  if (t.min_rto_ns() > t.max_rto_ns()) fail(n, where, "min_rto is larger than max_rto");
  if (t.initial_rto_ns() <= 0) fail(n, where + ".initial_rto", "must be more than zero");
}

void Loader::sides(const YAML::Node& n, const std::string& where, Direction& forward, Direction& backward,
                   bool with_ends) {
  std::vector<std::string_view> extra = {"forward", "backward"};
  if (with_ends) extra.push_back("ends");
  direction(n, where, forward, extra);
  direction(n, where, backward, extra);
  if (n["forward"]) direction(n["forward"], where + ".forward", forward);
  if (n["backward"]) direction(n["backward"], where + ".backward", backward);
}

void Loader::direction(const YAML::Node& n, const std::string& where, Direction& d,
                       const std::vector<std::string_view>& extra) {
  std::vector<std::string_view> keys = {"delay",     "jitter",          "jitter_correlation", "distribution",
                                        "jitter_reorders", "loss",     "duplicate",          "corrupt",
                                        "reorder",   "rate",            "packet_overhead",    "cell_size",
                                        "cell_overhead", "queue",       "queue_bytes",        "mtu",
                                        "up"};
  keys.insert(keys.end(), extra.begin(), extra.end());
  for_each_key(n, where, keys, [&](const std::string& k, const YAML::Node& v, const std::string& path) {
    if (k == "delay") d.set_delay_ns(duration_ns(v, path));
    if (k == "jitter") d.set_jitter_ns(duration_ns(v, path));
    if (k == "jitter_correlation") d.set_jitter_correlation(percent(v, path));
    if (k == "distribution") {
      const std::string s = scalar(v, path, "uniform, normal, pareto or paretonormal");
      if (s == "uniform") {
        d.set_distribution(Direction::UNIFORM);
      } else if (s == "normal") {
        d.set_distribution(Direction::NORMAL);
      } else if (s == "pareto") {
        d.set_distribution(Direction::PARETO);
      } else if (s == "paretonormal") {
        d.set_distribution(Direction::PARETONORMAL);
      } else {
        fail(v, path, fmt::format("unknown distribution '{}'; expected uniform, normal, pareto or paretonormal", s));
      }
    }
    if (k == "jitter_reorders") d.set_jitter_reorders(boolean(v, path));
    if (k == "loss") {
      if (v.IsScalar()) {
        d.mutable_random_loss()->set_probability(percent(v, path));
      } else if (v.IsMap() && v["p13"]) {
        // tc's defaults: p31 = 1 - p13, p32 = 0, p23 = 100%, p14 = 0.
        auto* fs = d.mutable_four_state();
        bool p31 = false;
        for_each_key(v, path, {"p13", "p31", "p32", "p23", "p14"},
                     [&](const std::string& fk, const YAML::Node& fv, const std::string& fpath) {
                       if (fk == "p13") fs->set_p13(percent(fv, fpath));
                       if (fk == "p31") {
                         fs->set_p31(percent(fv, fpath));
                         p31 = true;
                       }
                       if (fk == "p32") fs->set_p32(percent(fv, fpath));
                       if (fk == "p23") fs->set_p23(percent(fv, fpath));
                       if (fk == "p14") fs->set_p14(percent(fv, fpath));
                     });
        if (!v["p23"]) fs->set_p23(1.0);
        if (!p31) fs->set_p31(1.0 - fs->p13());
      } else if (v.IsMap() && v["p"]) {
        // tc's defaults: r = 1 - p, 1-h = 100%, 1-k = 0%.
        auto* ge = d.mutable_gilbert_elliott();
        ge->set_one_minus_h(1.0);
        bool r = false;
        for_each_key(v, path, {"p", "r", "1-h", "1-k"}, [&](const std::string& gk, const YAML::Node& gv,
                                                          const std::string& gpath) {
          if (gk == "p") ge->set_p(percent(gv, gpath));
          if (gk == "r") {
            ge->set_r(percent(gv, gpath));
            r = true;
          }
          if (gk == "1-h") ge->set_one_minus_h(percent(gv, gpath));
          if (gk == "1-k") ge->set_one_minus_k(percent(gv, gpath));
        });
        if (!r) ge->set_r(1.0 - ge->p());
      } else {
        auto* rl = d.mutable_random_loss();
        for_each_key(v, path, {"probability", "correlation"}, [&](const std::string& rk, const YAML::Node& rv,
                                                                  const std::string& rpath) {
          if (rk == "probability") rl->set_probability(percent(rv, rpath));
          if (rk == "correlation") rl->set_correlation(percent(rv, rpath));
        });
      }
    }
    if (k == "duplicate" || k == "corrupt") {
      double p = 0, corr = 0;
      if (v.IsScalar()) {
        p = percent(v, path);
      } else {
        for_each_key(v, path, {"probability", "correlation"}, [&](const std::string& ck, const YAML::Node& cv,
                                                                  const std::string& cpath) {
          if (ck == "probability") p = percent(cv, cpath);
          if (ck == "correlation") corr = percent(cv, cpath);
        });
      }
      if (k == "duplicate") {
        d.set_duplicate(p);
        d.set_duplicate_correlation(corr);
      } else {
        d.set_corrupt(p);
        d.set_corrupt_correlation(corr);
      }
    }
    if (k == "packet_overhead") d.set_packet_overhead(static_cast<std::int32_t>(byte_count(v, path, -65535, 65535)));
    if (k == "cell_size") d.set_cell_size(static_cast<std::uint32_t>(byte_count(v, path, 0, 65535)));
    if (k == "cell_overhead") d.set_cell_overhead(static_cast<std::int32_t>(byte_count(v, path, -65535, 65535)));
    if (k == "up") d.set_down(!boolean(v, path));
    if (k == "reorder") {
      if (v.IsScalar()) {
        d.set_reorder(percent(v, path));
      } else {
        for_each_key(v, path, {"probability", "correlation", "gap"}, [&](const std::string& rk,
                                                                        const YAML::Node& rv,
                                                                        const std::string& rpath) {
          if (rk == "probability") d.set_reorder(percent(rv, rpath));
          if (rk == "correlation") d.set_reorder_correlation(percent(rv, rpath));
          if (rk == "gap") d.set_reorder_gap(static_cast<std::uint32_t>(integer(rv, rpath, 1, 1'000'000)));
        });
      }
    }
    if (k == "rate") d.set_rate_bps(rate_bps(v, path));
    if (k == "queue") d.set_queue_packets(static_cast<std::uint32_t>(integer(v, path, 0, 100'000'000)));
    if (k == "queue_bytes") d.set_queue_bytes(bytes(v, path));
    if (k == "mtu") d.set_mtu(static_cast<std::uint32_t>(byte_count(v, path, 68, 65535)));
  });
  if (d.jitter_ns() > 0 && d.jitter_ns() > d.delay_ns() && !d.jitter_reorders())
    fail(n, where + ".jitter", "is larger than the delay: a packet cannot arrive before it was sent");
}

// "client[1..500]" -> client1 .. client500, in group "client"; "server" -> itself.
void Loader::add_named(const YAML::Node& key_node, const std::string& pattern, Node::Kind kind,
                       const YAML::Node& body, const std::string& where) {
  const auto valid = valid_name;
  std::vector<std::string> names;
  std::string group;
  const auto open = pattern.find('[');
  if (open == std::string::npos) {
    if (!valid(pattern))
      fail(key_node, where,
           fmt::format("'{}' is not a valid name: {}", shown(pattern), name_rule()));
    names.push_back(pattern);
  } else {
    group = pattern.substr(0, open);
    const auto dots = pattern.find("..", open);
    if (!valid(group) || pattern.back() != ']' || dots == std::string::npos)
      fail(key_node, where, fmt::format("'{}' is not a name or a range such as 'client[1..10]'", pattern));
    std::uint64_t lo = 0, hi = 0;
    const std::string a = pattern.substr(open + 1, dots - open - 1);
    const std::string b = pattern.substr(dots + 2, pattern.size() - dots - 3);
    const auto ra = std::from_chars(a.data(), a.data() + a.size(), lo);
    const auto rb = std::from_chars(b.data(), b.data() + b.size(), hi);
    if (ra.ec != std::errc() || ra.ptr != a.data() + a.size() || rb.ec != std::errc() ||
        rb.ptr != b.data() + b.size())
      fail(key_node, where, fmt::format("'{}': a range's bounds are whole numbers, as in 'client[1..10]'", pattern));
    if (lo > hi) fail(key_node, where, fmt::format("'{}': the range is empty ({} > {})", pattern, lo, hi));
    // hi - lo first: [0..2^64-1] must not wrap to an empty count.
    if (hi - lo >= max_nodes_ || hi - lo + 1 + static_cast<std::uint64_t>(topo_.nodes_size()) > max_nodes_)
      fail(key_node, where,
           fmt::format("'{}' expands to {} nodes, past the limit of {} (raise it with limits: {{nodes: N}})", pattern,
                       hi - lo == UINT64_MAX ? std::string("2^64") : std::to_string(hi - lo + 1), max_nodes_));
    for (std::uint64_t i = lo; i <= hi; ++i) names.push_back(fmt::format("{}{}", group, i));
  }
  Tcp tcp_here = default_tcp_;
  std::optional<std::uint32_t> address;
  if (body && !body.IsNull()) {
    if (kind == Node::ROUTER) {
      for_each_key(body, where, {}, [](const std::string&, const YAML::Node&, const std::string&) {});
    } else {
      for_each_key(body, where, {"tcp", "address"}, [&](const std::string& k, const YAML::Node& v,
                                                         const std::string& path) {
        if (k == "tcp") tcp(v, path, tcp_here);
        if (k == "address") {
          if (names.size() != 1) fail(v, path, "a range of hosts cannot share one address");
          const auto a = parse_address(scalar(v, path, "an IPv4 address such as 198.18.0.10"));
          if (!a || *a == 0)
            fail(v, path, fmt::format("'{}' is not an IPv4 host address such as 198.18.0.10", v.Scalar()));
          address = *a;
          explicit_at_[names.front()] = v;
        }
      });
    }
  }
  for (const std::string& name : names) {
    const std::uint32_t id = add_node(key_node, where, name, kind, group, tcp_here);
    if (address) topo_.mutable_nodes(static_cast<int>(id))->set_address(*address);
  }
}

// Every host without an address of its own gets the next free one of the plan, in
// file order; an address given twice, or a plan too small, is an error.
void Loader::assign_addresses(const YAML::Node& root) {
  std::uint32_t base = 0xc6120000u, length = 15;  // 198.18.0.0/15, the benchmarking range (RFC 2544)
  const YAML::Node plan = root["addresses"];
  if (plan) {
    const std::string text = scalar(plan, "addresses", "a prefix such as 198.18.0.0/15");
    const auto slash = text.find('/');
    const auto a = parse_address(text.substr(0, slash));
    std::uint32_t len = 0;
    const std::string l = slash == std::string::npos ? "" : text.substr(slash + 1);
    const auto r = std::from_chars(l.data(), l.data() + l.size(), len);
    if (!a || slash == std::string::npos || r.ec != std::errc() || r.ptr != l.data() + l.size() || len > 30)
      fail(plan, "addresses", fmt::format("'{}' is not a prefix such as 198.18.0.0/15 (length at most 30)", text));
    base = *a;
    length = len;
    const std::uint32_t mask = length == 0 ? 0 : ~0u << (32 - length);
    if ((base & ~mask) != 0)
      fail(plan, "addresses", fmt::format("'{}' has bits set past its length /{}", text, length));
  }
  const std::uint64_t size = 1ull << (32 - length);
  std::unordered_map<std::uint32_t, std::string> taken;
  for (const Node& n : topo_.nodes()) {
    if (n.kind() != Node::HOST || n.address() == 0) continue;
    const auto [it, fresh] = taken.emplace(n.address(), n.name());
    if (!fresh)
      fail(explicit_at_.at(n.name()), "hosts." + n.name() + ".address",
           fmt::format("{} is already the address of '{}'", format_address(n.address()), it->second));
  }
  std::uint64_t next = 1;  // skip the network's own address
  for (Node& n : *topo_.mutable_nodes()) {
    if (n.kind() != Node::HOST || n.address() != 0) continue;
    while (next < size - 1 && taken.contains(base + static_cast<std::uint32_t>(next))) ++next;
    if (next >= size - 1)
      fail(plan ? plan : root, "addresses",
           fmt::format("the address plan {}/{} has no address left for host '{}'", format_address(base), length,
                       n.name()));
    n.set_address(base + static_cast<std::uint32_t>(next++));
  }
}

// Hosts do not forward: a server is reachable from a client when a path of routers
// joins their links.
void Loader::check_reachable(const YAML::Node& root) {
  std::vector<std::vector<std::uint32_t>> adj(static_cast<std::size_t>(topo_.nodes_size()));
  for (const Link& l : topo_.links()) {
    adj[l.a()].push_back(l.b());
    adj[l.b()].push_back(l.a());
  }
  for (int i = 0; i < topo_.workloads_size(); ++i) {
    const Workload& w = topo_.workloads(i);
    std::vector<bool> seen(adj.size(), false);
    std::vector<std::uint32_t> stack = {w.server()};
    seen[w.server()] = true;
    while (!stack.empty()) {
      const std::uint32_t u = stack.back();
      stack.pop_back();
      if (u != w.server() && topo_.nodes(static_cast<int>(u)).kind() == Node::HOST) continue;
      for (std::uint32_t v : adj[u])
        if (!seen[v]) {
          seen[v] = true;
          stack.push_back(v);
        }
    }
    for (std::uint32_t c : w.clients())
      if (!seen[c])
        fail(root["workload"][static_cast<std::size_t>(i)], fmt::format("workload[{}]", i),
             fmt::format("'{}' cannot reach '{}': no path of links and routers joins them",
                         topo_.nodes(static_cast<int>(c)).name(), topo_.nodes(static_cast<int>(w.server())).name()));
  }
}

std::uint32_t Loader::add_node(const YAML::Node& at, const std::string& where, const std::string& name,
                               Node::Kind kind, const std::string& group, const Tcp& tcp_settings) {
  const auto id = static_cast<std::uint32_t>(topo_.nodes_size());
  if (id >= max_nodes_)
    fail(at, where,
         fmt::format("'{}' expands past the limit of {} nodes (raise it with limits: {{nodes: N}})", name, max_nodes_));
  if (!ids_.emplace(name, id).second) fail(at, where, fmt::format("a node named '{}' already exists", name));
  Node* node = topo_.add_nodes();
  node->set_name(name);
  node->set_kind(kind);
  if (kind == Node::HOST) *node->mutable_tcp() = tcp_settings;
  if (!group.empty()) groups_[group].push_back(id);
  return id;
}

// One link between two node ids, counting each host's links (a host has one).
void Loader::add_link(const YAML::Node& at, const std::string& where, std::uint32_t a, std::uint32_t b,
                      const Direction& forward, const Direction& backward) {
  if (a == b) fail(at, where, fmt::format("'{}' cannot link to itself", topo_.nodes(static_cast<int>(a)).name()));
  if (link_count_.size() < static_cast<std::size_t>(topo_.nodes_size())) link_count_.resize(topo_.nodes_size(), 0);
  for (std::uint32_t x : {a, b}) {
    if (++link_count_[x] > 1 && topo_.nodes(static_cast<int>(x)).kind() == Node::HOST)
      fail(at, where,
           fmt::format("host '{}' already has a link; a host has exactly one (put a router between)",
                       topo_.nodes(static_cast<int>(x)).name()));
  }
  if (static_cast<std::uint64_t>(topo_.links_size()) >= max_links_)
    fail(at, where, fmt::format("more than {} links (raise the limit with limits: {{links: N}})", max_links_));
  Link* l = topo_.add_links();
  l->set_a(a);
  l->set_b(b);
  *l->mutable_forward() = forward;
  *l->mutable_backward() = backward;
}

void Loader::generators(const YAML::Node& n) {
  if (!n.IsSequence()) fail(n, "generate", fmt::format("expected a list of generators, got {}", kind_of(n)));
  std::size_t index = 0;
  for (const YAML::Node& item : n) {
    const std::string where = fmt::format("generate[{}]", index++);
    static const std::vector<std::string_view> kinds = {"star", "line", "ring", "dumbbell", "tree", "fat_tree", "random"};
    std::vector<std::string_view> keys = kinds;
    keys.insert(keys.end(), {"link", "bottleneck", "tcp"});
    std::string kind;
    YAML::Node params;
    for_each_key(item, where, keys, [&](const std::string& k, const YAML::Node& v, const std::string&) {
      if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) return;
      if (!kind.empty()) fail(item, where, fmt::format("one generator per entry: '{}' and '{}'", kind, k));
      kind = k;
      params = v;
    });
    if (kind.empty())
      fail(item, where, "a generator entry needs one of: star, line, ring, dumbbell, tree, fat_tree, random");
    const std::string pwhere = where + "." + kind;
    // `link:` and `bottleneck:` each start from defaults.link: the bottleneck does not
    // take the access links' settings (their jitter, say).
    Direction link_fwd = default_forward_, link_bwd = default_backward_;
    Direction neck_fwd = default_forward_, neck_bwd = default_backward_;
    if (item["link"]) sides(item["link"], where + ".link", link_fwd, link_bwd);
    if (item["bottleneck"]) {
      if (kind != "dumbbell") fail(item["bottleneck"], where + ".bottleneck", "only a dumbbell has a bottleneck");
      sides(item["bottleneck"], where + ".bottleneck", neck_fwd, neck_bwd);
    }
    Tcp host_tcp = default_tcp_;
    if (item["tcp"]) tcp(item["tcp"], where + ".tcp", host_tcp);

    // The parameters, each checked for type; which ones a generator needs is below.
    std::map<std::string, YAML::Node> p;
    for_each_key(params, pwhere,
                 {"hub", "hosts", "count", "routers", "left", "right", "left_count", "right_count", "depth", "fanout",
                  "k", "prefix", "links", "seed"},
                 [&](const std::string& k, const YAML::Node& v, const std::string&) { p[k] = v; });
    auto word = [&](const char* key, bool required, const std::string& fallback = {}) -> std::string {
      if (!p.contains(key)) {
        if (required) fail(params, pwhere, fmt::format("needs '{}'", key));
        return fallback;
      }
      const std::string s = scalar(p[key], pwhere + "." + key, "a name");
      if (!valid_name(s)) fail(p[key], pwhere + "." + key, fmt::format("'{}' is not a valid name: {}", shown(s), name_rule()));
      return s;
    };
    auto number = [&](const char* key, bool required, std::uint64_t fallback = 0) -> std::uint64_t {
      if (!p.contains(key)) {
        if (required) fail(params, pwhere, fmt::format("needs '{}'", key));
        return fallback;
      }
      return integer(p[key], pwhere + "." + key, 0, UINT64_MAX);
    };
    auto allow_only = [&](std::initializer_list<std::string_view> allowed) {
      for (const auto& [k, v] : p)
        if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
          fail(v, pwhere + "." + k, fmt::format("does not apply to {}", kind));
    };
    const std::uint64_t room = max_nodes_ - std::min<std::uint64_t>(max_nodes_, topo_.nodes_size());
    const std::uint64_t link_room = max_links_ - std::min<std::uint64_t>(max_links_, topo_.links_size());
    generate::Graph g;
    try {
      if (kind == "star") {
        allow_only({"hub", "hosts", "count"});
        g = generate::star(word("hub", true), word("hosts", true), number("count", true), room);
      } else if (kind == "line" || kind == "ring") {
        allow_only({"routers", "count", "hosts"});
        g = generate::line(word("routers", true), number("count", true), word("hosts", false), kind == "ring", room);
      } else if (kind == "dumbbell") {
        allow_only({"left", "right", "count", "left_count", "right_count", "routers"});
        const std::uint64_t count = number("count", false, 1);
        std::string lr = "left", rr = "right";
        if (p.contains("routers")) {
          const YAML::Node r = p["routers"];
          if (!r.IsSequence() || r.size() != 2)
            fail(r, pwhere + ".routers", fmt::format("expected two router names, got {}", kind_of(r)));
          lr = scalar(r[0], pwhere + ".routers", "a name");
          rr = scalar(r[1], pwhere + ".routers", "a name");
        }
        g = generate::dumbbell(word("left", true), number("left_count", false, count), word("right", true),
                               number("right_count", false, count), lr, rr, room);
      } else if (kind == "tree") {
        allow_only({"depth", "fanout", "routers", "hosts"});
        g = generate::tree(number("depth", true), number("fanout", true), word("routers", true), word("hosts", true),
                           room);
      } else if (kind == "fat_tree") {
        allow_only({"k", "prefix"});
        std::string prefix;
        if (p.contains("prefix")) prefix = word("prefix", false);
        g = generate::fat_tree(number("k", true), prefix, room);
      } else {
        allow_only({"routers", "count", "hosts", "links", "seed"});
        const std::uint64_t count = number("count", true);
        if (number("links", false, count) > link_room)
          fail(p.contains("links") ? p["links"] : params, pwhere + ".links",
               fmt::format("{} links, past the limit of {} (raise it with limits: {{links: N}})",
                           number("links", false, count), max_links_));
        const std::uint64_t seed = number("seed", false, topo_.seed() ^ (0x51ed27e5ull * index));
        g = generate::random(word("routers", true), count, word("hosts", false), number("links", false, count),
                             seed, room);
      }
    } catch (const std::invalid_argument& e) {
      fail(params, pwhere, e.what());
    }
    std::vector<std::uint32_t> ids;
    ids.reserve(g.nodes.size());
    for (const auto& node : g.nodes)
      ids.push_back(add_node(params, pwhere, node.name, node.router ? Node::ROUTER : Node::HOST, node.group, host_tcp));
    for (const auto& l : g.links) {
      add_link(params, pwhere, ids[l.a], ids[l.b], l.bottleneck ? neck_fwd : link_fwd,
               l.bottleneck ? neck_bwd : link_bwd);
    }
  }
}

void Loader::add_nodes(const YAML::Node& n, Node::Kind kind, const std::string& where) {
  if (n.IsSequence()) {
    for (const YAML::Node& item : n) add_named(item, scalar(item, where, "a name"), kind, YAML::Node(), where);
  } else if (n.IsMap()) {
    for (const auto& kv : n) {
      const YAML::Node name = kv.first;
      const YAML::Node body = kv.second;
      add_named(name, scalar(name, where, "a name"), kind, body, where + "." + name.Scalar());
    }
  } else {
    fail(n, where, fmt::format("expected a list of names or a map of name to settings, got {}", kind_of(n)));
  }
}

// A reference: "name", "group[*]", "group[3]", "group[2..5]", or a list of those.
std::vector<std::uint32_t> Loader::resolve(const YAML::Node& n, const std::string& key,
                                           const std::optional<std::string>& text) {
  std::vector<std::uint32_t> out;
  if (!text && n.IsSequence()) {
    for (const YAML::Node& item : n) {
      const auto more = resolve(item, key);
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  }
  const std::string ref = text ? *text : scalar(n, key, "a node name");
  auto by_name = [&](const std::string& name) {
    const auto it = ids_.find(name);
    if (it == ids_.end()) {
      std::vector<std::string_view> known;
      for (const auto& [k, v] : ids_)
        if (known.size() < 100000) known.push_back(k);
      std::sort(known.begin(), known.end());
      const std::string near = nearest(name, known);
      fail(n, key, fmt::format("no node named '{}'{}", shown(name), near.empty() ? "" : fmt::format("; did you mean '{}'?", near)));
    }
    return it->second;
  };
  const auto open = ref.find('[');
  if (open == std::string::npos && ref.size() > 1 && ref.back() == '*') {
    // "client*": every node of group "client" — the form that needs no quotes inside
    // a [ ] list, where YAML reads "[*" as the start of an alias.
    const std::string group = ref.substr(0, ref.size() - 1);
    const auto it = groups_.find(group);
    if (it == groups_.end())
      fail(n, key, fmt::format("no group '{}': groups come from ranges such as '{}[1..10]'", shown(group), shown(group)));
    return it->second;
  }
  if (open == std::string::npos || ref.back() != ']') {
    out.push_back(by_name(ref));
    return out;
  }
  const std::string group = ref.substr(0, open);
  const std::string inside = ref.substr(open + 1, ref.size() - open - 2);
  if (inside == "*") {
    const auto it = groups_.find(group);
    if (it == groups_.end())
      fail(n, key, fmt::format("no group '{}': groups come from ranges such as '{}[1..10]'", shown(group), shown(group)));
    return it->second;
  }
  const auto dots = inside.find("..");
  std::uint64_t lo = 0, hi = 0;
  const std::string a = dots == std::string::npos ? inside : inside.substr(0, dots);
  const std::string b = dots == std::string::npos ? inside : inside.substr(dots + 2);
  const auto ra = std::from_chars(a.data(), a.data() + a.size(), lo);
  const auto rb = std::from_chars(b.data(), b.data() + b.size(), hi);
  if (ra.ec != std::errc() || ra.ptr != a.data() + a.size() || rb.ec != std::errc() || rb.ptr != b.data() + b.size() ||
      lo > hi)
    fail(n, key, fmt::format("'{}' is not a reference such as 'client[*]', 'client[3]' or 'client[1..4]'", ref));
  if (hi - lo >= max_nodes_) fail(n, key, fmt::format("'{}' names more nodes than exist", shown(ref)));
  for (std::uint64_t i = lo; i <= hi; ++i) out.push_back(by_name(fmt::format("{}{}", group, i)));
  return out;
}

void Loader::links(const YAML::Node& n) {
  if (!n.IsSequence()) fail(n, "links", fmt::format("expected a list of links, got {}", kind_of(n)));
  std::size_t index = 0;
  for (const YAML::Node& item : n) {
    const std::string where = fmt::format("links[{}]", index++);
    Direction forward = default_forward_, backward = default_backward_;
    sides(item, where, forward, backward, /*with_ends=*/true);
    const YAML::Node ends = item["ends"];
    if (!ends) fail(item, where, "a link needs 'ends: [A, B]'");
    if (!ends.IsSequence() || ends.size() != 2)
      fail(ends, where + ".ends", fmt::format("expected two ends, as in [client, r1], got {}", kind_of(ends)));
    const auto as = resolve(ends[0], where + ".ends");
    const auto bs = resolve(ends[1], where + ".ends");
    if (as.size() > 1 && bs.size() > 1)
      fail(ends, where + ".ends", "both ends name several nodes; one end must be a single node");
    for (std::uint32_t a : as)
      for (std::uint32_t b : bs) add_link(ends, where + ".ends", a, b, forward, backward);
  }
}

// Whether a workload runs a server on its port (a syn-flood, or `listen: false`, does not).
static bool serves(const Workload& w) { return w.app() != Workload::SYN_FLOOD && !w.no_listener(); }

void Loader::workloads(const YAML::Node& n) {
  if (!n.IsSequence()) fail(n, "workload", fmt::format("expected a list of workloads, got {}", kind_of(n)));
  std::size_t index = 0;
  for (const YAML::Node& item : n) {
    const std::string where = fmt::format("workload[{}]", index++);
    Workload* w = topo_.add_workloads();
    w->set_port(80);
    w->set_connections(1);
    w->set_repetitions(1);
    w->set_chunk(1448);
    w->set_backlog(4096);
    w->set_syn_backlog(1024);
    bool have_app = false, have_from = false, have_to = false;
    static const std::vector<std::string_view> keys = {
        "name",     "app",   "from",     "to",         "connections", "start",   "bytes",
        "request",  "response", "repetitions", "think", "rate",        "duration", "chunk",
        "close",    "half_close", "backlog", "syn_backlog", "client_port", "listen"};
    for_each_key(item, where, keys, [&](const std::string& k, const YAML::Node& v, const std::string& path) {
      if (k == "name") {
        const std::string name = scalar(v, path, "a name");
        if (!valid_name(name)) fail(v, path, fmt::format("'{}' is not a valid name: {}", shown(name), name_rule()));
        w->set_name(name);
      }
      if (k == "app") {
        have_app = true;
        const std::string s = scalar(v, path, "an application");
        static const std::vector<std::pair<std::string_view, Workload::App>> apps = {
            {"connect", Workload::CONNECT}, {"bulk", Workload::BULK}, {"request-response", Workload::REQUEST_RESPONSE},
            {"echo", Workload::ECHO},       {"stream", Workload::STREAM},
            {"syn-flood", Workload::SYN_FLOOD}};
        const auto it = std::find_if(apps.begin(), apps.end(), [&](const auto& p) { return p.first == s; });
        if (it == apps.end())
          fail(v, path,
               fmt::format("unknown application '{}'; expected connect, bulk, request-response, echo, stream or "
                           "syn-flood",
                           s));
        w->set_app(it->second);
      }
      if (k == "from") {
        have_from = true;
        for (std::uint32_t id : resolve(v, path)) w->add_clients(id);
      }
      if (k == "to") {
        have_to = true;
        const std::string s = scalar(v, path, "HOST:PORT, as in server:80");
        const auto colon = s.rfind(':');
        std::string host = s;
        if (colon != std::string::npos) {
          host = s.substr(0, colon);
          std::uint32_t port = 0;
          const std::string p = s.substr(colon + 1);
          const auto r = std::from_chars(p.data(), p.data() + p.size(), port);
          if (r.ec != std::errc() || r.ptr != p.data() + p.size() || port == 0 || port > 65535)
            fail(v, path, fmt::format("'{}': the port must be a number from 1 to 65535", s));
          w->set_port(port);
        }
        const auto ids = resolve(v, path, host);
        w->set_server(ids.front());
      }
      if (k == "connections") w->set_connections(static_cast<std::uint32_t>(integer(v, path, 1, kMaxConnectionsPerClient)));
      if (k == "bytes") w->set_bytes(bytes(v, path));
      if (k == "request") w->set_request(bytes(v, path));
      if (k == "response") w->set_response(bytes(v, path));
      if (k == "repetitions") w->set_repetitions(static_cast<std::uint32_t>(integer(v, path, 1, 1'000'000'000)));
      if (k == "think") w->set_think_ns(duration_ns(v, path));
      if (k == "rate") w->set_rate_bps(rate_bps(v, path));
      if (k == "duration") w->set_duration_ns(duration_ns(v, path));
      if (k == "chunk") {
        const std::uint64_t b = bytes(v, path);
        if (b > (1u << 30)) fail(v, path, "is larger than 1GiB: write a stream in smaller chunks");
        w->set_chunk(static_cast<std::uint32_t>(b));
      }
      if (k == "close") {
        const std::string s = scalar(v, path, "who closes");
        static const std::vector<std::pair<std::string_view, Workload::Close>> modes = {
            {"client", Workload::CLIENT}, {"server", Workload::SERVER},          {"both", Workload::BOTH},
            {"abort", Workload::ABORT},   {"server-abort", Workload::SERVER_ABORT}, {"never", Workload::NEVER}};
        const auto it = std::find_if(modes.begin(), modes.end(), [&](const auto& p) { return p.first == s; });
        if (it == modes.end())
          fail(v, path,
               fmt::format("unknown close mode '{}'; expected client, server, both, abort, server-abort or never", s));
        w->set_close(it->second);
      }
      if (k == "half_close") w->set_half_close(boolean(v, path));
      if (k == "listen") w->set_no_listener(!boolean(v, path));
      if (k == "backlog") w->set_backlog(static_cast<std::uint32_t>(integer(v, path, 1, 1u << 30)));
      if (k == "syn_backlog") w->set_syn_backlog(static_cast<std::uint32_t>(integer(v, path, 1, 1u << 30)));
      if (k == "client_port") w->set_client_port(static_cast<std::uint32_t>(integer(v, path, 1, 65535)));
      if (k == "start") {
        auto* st = w->mutable_start();
        if (v.IsScalar()) {
          st->set_kind(Workload::Start::AT);
          st->set_at_ns(duration_ns(v, path));
          return;
        }
        if (v.IsSequence()) {
          st->set_kind(Workload::Start::LIST);
          for (const YAML::Node& t : v) st->add_times_ns(duration_ns(t, path));
          return;
        }
        for_each_key(v, path, {"at", "uniform", "poisson", "from"}, [&](const std::string& sk, const YAML::Node& sv,
                                                                        const std::string& spath) {
          if (sk == "at") {
            st->set_kind(Workload::Start::AT);
            st->set_at_ns(duration_ns(sv, spath));
          }
          if (sk == "from") st->set_from_ns(duration_ns(sv, spath));
          if (sk == "uniform") {
            if (!sv.IsSequence() || sv.size() != 2)
              fail(sv, spath, fmt::format("expected an interval [FROM, TO], as in [0s, 10s], got {}", kind_of(sv)));
            st->set_kind(Workload::Start::UNIFORM);
            st->set_from_ns(duration_ns(sv[0], spath));
            st->set_to_ns(duration_ns(sv[1], spath));
            if (st->to_ns() <= st->from_ns()) fail(sv, spath, "the interval must end after it begins");
          }
          if (sk == "poisson") {
            const std::string s = scalar(sv, spath, "a rate such as '200/s'");
            double rate = 0;
            const auto slash = s.find("/s");
            const auto r = std::from_chars(s.data(), s.data() + (slash == std::string::npos ? s.size() : slash), rate);
            if (slash == std::string::npos || slash + 2 != s.size() || r.ec != std::errc() ||
                r.ptr != s.data() + slash || !(rate > 0) || !std::isfinite(rate))
              fail(sv, spath, fmt::format("expected a positive arrival rate such as '200/s', got '{}'", s));
            st->set_kind(Workload::Start::POISSON);
            st->set_rate_per_second(rate);
          }
        });
      }
    });
    if (!have_app) fail(item, where, "a workload needs 'app' (connect, bulk, request-response, echo or stream)");
    if (!have_from) fail(item, where, "a workload needs 'from' (the client hosts)");
    if (!have_to) fail(item, where, "a workload needs 'to' (the server, as HOST:PORT)");
    for (std::uint32_t c : w->clients())
      if (topo_.nodes(c).kind() != Node::HOST)
        fail(item["from"], where + ".from", fmt::format("'{}' is a router, not a host", topo_.nodes(c).name()));
    if (topo_.nodes(w->server()).kind() != Node::HOST)
      fail(item["to"], where + ".to", fmt::format("'{}' is a router, not a host", topo_.nodes(w->server()).name()));
    const bool needs_request = w->app() == Workload::REQUEST_RESPONSE || w->app() == Workload::ECHO;
    if (needs_request && w->request() == 0) fail(item, where, "this application needs 'request' (a size such as 1KB)");
    if (w->app() == Workload::BULK && w->bytes() == 0) fail(item, where, "bulk needs 'bytes' (a size such as 10MB)");
    if (w->app() == Workload::STREAM && (w->rate_bps() == 0 || w->duration_ns() <= 0))
      fail(item, where, "stream needs 'rate' and 'duration'");
    if (w->chunk() == 0) fail(item["chunk"], where + ".chunk", "must be at least 1 byte");
    // A stream writes one chunk per tick of chunk / rate: at least a nanosecond.
    if (w->app() == Workload::STREAM &&
        static_cast<std::uint64_t>(w->chunk()) * 8u * 1'000'000'000u < w->rate_bps())  // chunk <= 2^30: no overflow
      fail(item["rate"], where + ".rate", "is too high for the chunk size: more than one chunk per nanosecond");
    if (w->clients_size() == 0) fail(item["from"], where + ".from", "names no hosts");
    for (std::uint32_t c : w->clients())
      if (c == w->server())
        fail(item["from"], where + ".from",
             fmt::format("'{}' is the server too: a host cannot connect to itself",
                         topo_.nodes(static_cast<int>(c)).name()));
    for (int j = 0; j + 1 < topo_.workloads_size(); ++j)
      if (topo_.workloads(j).server() == w->server() && topo_.workloads(j).port() == w->port() && serves(topo_.workloads(j)) &&
          serves(*w))
        fail(item["to"], where + ".to",
             fmt::format("'{}' port {} already serves workload[{}]; give each workload a port of its own",
                         topo_.nodes(static_cast<int>(w->server())).name(), w->port(), j));
    if (w->start().kind() == Workload::Start::LIST &&
        static_cast<std::uint64_t>(w->start().times_ns_size()) !=
            static_cast<std::uint64_t>(w->clients_size()) * w->connections())
      fail(item["start"], where + ".start",
           fmt::format("the list has {} times for {} connections ({} clients × {})", w->start().times_ns_size(),
                       static_cast<std::uint64_t>(w->clients_size()) * w->connections(), w->clients_size(),
                       w->connections()));
    if (w->name().empty()) w->set_name(fmt::format("workload{}", index));
  }
}

std::uint32_t Loader::one_node(const YAML::Node& n, const std::string& key) {
  const auto ids = resolve(n, key);
  if (ids.size() != 1) fail(n, key, fmt::format("names {} nodes; expected exactly one", ids.size()));
  return ids.front();
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> Loader::find_links(const YAML::Node& at, const std::string& key) {
  if (!at.IsSequence() || at.size() != 2)
    fail(at, key, fmt::format("expected a link as its two ends, as in [r1, r2], got {}", kind_of(at)));
  const auto as = resolve(at[0], key), bs = resolve(at[1], key);
  if (as.size() > 1 && bs.size() > 1) fail(at, key, "a group at both ends: name one end by itself");
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (const std::uint32_t a : as) {
    for (const std::uint32_t b : bs) {
      bool found = false;
      for (int i = 0; i < topo_.links_size() && !found; ++i) {
        const Link& l = topo_.links(i);
        if (l.a() == a && l.b() == b) out.emplace_back(static_cast<std::uint32_t>(i), 0);
        if (l.a() == b && l.b() == a) out.emplace_back(static_cast<std::uint32_t>(i), 1);
        found = (l.a() == a && l.b() == b) || (l.a() == b && l.b() == a);
      }
      if (!found)
        fail(at, key, fmt::format("there is no link between '{}' and '{}'", topo_.nodes(static_cast<int>(a)).name(),
                                  topo_.nodes(static_cast<int>(b)).name()));
    }
  }
  return out;
}

std::pair<std::uint32_t, std::uint32_t> Loader::find_link(const YAML::Node& at, const std::string& key) {
  if (!at.IsSequence() || at.size() != 2)
    fail(at, key, fmt::format("expected a link as its two ends, as in [r1, r2], got {}", kind_of(at)));
  const std::uint32_t a = one_node(at[0], key), b = one_node(at[1], key);
  for (int i = 0; i < topo_.links_size(); ++i) {
    const Link& l = topo_.links(i);
    if (l.a() == a && l.b() == b) return {static_cast<std::uint32_t>(i), 0};
    if (l.a() == b && l.b() == a) return {static_cast<std::uint32_t>(i), 1};
  }
  fail(at, key, fmt::format("there is no link between '{}' and '{}'", topo_.nodes(a).name(), topo_.nodes(b).name()));
}

void Loader::expectations(const YAML::Node& n) {
  if (!n.IsSequence()) fail(n, "expect", fmt::format("expected a list of expectations, got {}", kind_of(n)));
  std::size_t index = 0;
  for (const YAML::Node& item : n) {
    const std::string where = fmt::format("expect[{}]", index++);
    Expectation* e = topo_.add_expectations();
    e->set_text(scalar(item, where, "an expectation such as 'connections.failed == 0'"));
    e->set_file(file_);
    // A quoted string starts one column after its quote.
    const int line = item.Mark().line + 1, column = item.Mark().column + 1 + (item.Tag() == "!" ? 1 : 0);
    e->set_line(line);
    e->set_column(column);
    expect::Expression parsed;
    try {
      parsed = expect::parse(e->text());
    } catch (const expect::ParseError& err) {
      throw LoadError(file_, line, column + err.column - 1, where, err.what());
    }
    for (const auto& sel : expect::selectors(parsed)) {
      NodeSet* set = e->add_selectors();
      try {
        for (const std::uint32_t id : resolve(YAML::Node(sel.text), where)) {
          if (topo_.nodes(static_cast<int>(id)).kind() != Node::HOST)
            throw LoadError(file_, line, column + sel.column - 1, where,
                            fmt::format("'{}' is a router: expectations select hosts", topo_.nodes(static_cast<int>(id)).name()));
          set->add_nodes(id);
        }
      } catch (const LoadError& err) {
        if (err.line() == line && err.column() == column + sel.column - 1) throw;
        throw LoadError(file_, line, column + sel.column - 1, where, err.message());
      }
    }
  }
}

void Loader::faults(const YAML::Node& n) {
  if (!n.IsSequence()) fail(n, "faults", fmt::format("expected a list of faults, got {}", kind_of(n)));
  std::size_t index = 0;
  for (const YAML::Node& item : n) {
    const std::string where = fmt::format("faults[{}]", index++);
    static const std::vector<std::string_view> keys = {
        "at",    "link",      "direction", "down",      "set",   "partition", "for",
        "crash", "restart",   "match",     "drop",      "delay", "duplicate", "corrupt", "during"};
    for_each_key(item, where, keys, [](const std::string&, const YAML::Node&, const std::string&) {});
    Fault* f = topo_.add_faults();
    {
      YAML::Emitter out;
      out << YAML::Flow << item;
      f->set_description(out.c_str());
    }
    if (item["at"]) f->set_at_ns(duration_ns(item["at"], where + ".at"));
    if (f->at_ns() < 0) fail(item["at"], where + ".at", "a fault cannot happen before the run starts");
    auto duration_or_forever = [&](const YAML::Node& v, const std::string& key) -> std::int64_t {
      if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "forever")) return 0;
      const std::int64_t d = duration_ns(v, key);
      if (d <= 0) fail(v, key, "must be more than zero (or 'forever')");
      return d;
    };
    const int kinds = (item["down"] ? 1 : 0) + (item["set"] ? 1 : 0) + (item["partition"] ? 1 : 0) +
                      (item["crash"] ? 1 : 0) + (item["match"] ? 1 : 0);
    if (kinds != 1)
      fail(item, where,
           kinds == 0 ? "a fault needs one of: down, set, partition, crash, match"
                      : "a fault does one thing: give only one of down, set, partition, crash, match");
    auto only_with = [&](std::string_view key, bool allowed, std::string_view with) {
      if (item[std::string(key)] && !allowed)
        fail(item[std::string(key)], where + "." + std::string(key), fmt::format("goes only with '{}'", with));
    };
    const bool is_down = static_cast<bool>(item["down"]), is_set = static_cast<bool>(item["set"]);
    const bool is_match = static_cast<bool>(item["match"]);
    only_with("for", static_cast<bool>(item["partition"]), "partition");
    only_with("restart", static_cast<bool>(item["crash"]), "crash");
    only_with("direction", is_set, "set");
    for (const char* action : {"drop", "delay", "duplicate", "corrupt", "during"}) only_with(action, is_match, "match");
    only_with("link", is_down || is_set, "down or set (a match names its link inside)");
    if (item["down"] || item["set"]) {
      if (!item["link"]) fail(item, where, "needs 'link: [A, B]'");
      const auto [link, dir] = find_link(item["link"], where + ".link");
      if (item["down"]) {
        f->mutable_link_down()->set_link(link);
        f->mutable_link_down()->set_duration_ns(duration_or_forever(item["down"], where + ".down"));
      } else {
        auto* set = f->mutable_link_set();
        set->set_link(link);
        std::string which = "both";
        if (item["direction"]) which = scalar(item["direction"], where + ".direction", "forward, backward or both");
        if (which != "forward" && which != "backward" && which != "both")
          fail(item["direction"], where + ".direction",
               fmt::format("expected forward (as the link is written here), backward or both, got '{}'", which));
        // "forward" is from the first end named in this fault.
        const bool fwd = which != "backward", bwd = which != "forward";
        const Link& l = topo_.links(static_cast<int>(link));
        if (fwd) {
          Direction d = dir == 0 ? l.forward() : l.backward();
          direction(item["set"], where + ".set", d);
          *(dir == 0 ? set->mutable_forward() : set->mutable_backward()) = d;
        }
        if (bwd) {
          Direction d = dir == 0 ? l.backward() : l.forward();
          direction(item["set"], where + ".set", d);
          *(dir == 0 ? set->mutable_backward() : set->mutable_forward()) = d;
        }
      }
    }
    if (item["partition"]) {
      auto* p = f->mutable_partition();
      for (std::uint32_t id : resolve(item["partition"], where + ".partition")) p->add_nodes(id);
      if (item["for"]) p->set_duration_ns(duration_or_forever(item["for"], where + ".for"));
    }
    if (item["crash"]) {
      auto* c = f->mutable_crash();
      c->set_host(one_node(item["crash"], where + ".crash"));
      if (topo_.nodes(static_cast<int>(c->host())).kind() != Node::HOST)
        fail(item["crash"], where + ".crash", "only hosts crash (a router can be cut off with partition)");
      if (item["restart"]) c->set_restart_after_ns(duration_or_forever(item["restart"], where + ".restart"));
    }
    if (item["match"]) {
      auto* p = f->mutable_packet();
      const YAML::Node m = item["match"];
      bool have_link = false;
      // A group at one end ([client*, r]) makes one fault per link, each counting its
      // own matches: "the first SYN of every client".
      std::vector<std::pair<std::uint32_t, std::uint32_t>> more_links;
      for_each_key(m, where + ".match", {"link", "flags", "from", "to", "src_port", "dst_port", "payload", "nth", "first"},
                   [&](const std::string& k, const YAML::Node& v, const std::string& path) {
                     if (k == "link") {
                       have_link = true;
                       const auto links = find_links(v, path);
                       p->set_link(links.front().first);
                       p->set_direction(links.front().second);
                       more_links.assign(links.begin() + 1, links.end());
                     }
                     if (k == "flags") {
                       // Flags that must be set, joined by '+'. A SYN without ACK listed
                       // means a connection request: ACK must then be clear.
                       const std::string text = scalar(v, path, "TCP flags such as SYN, SYN+ACK, FIN or RST");
                       std::uint32_t flags = 0;
                       std::size_t start = 0;
                       while (start <= text.size()) {
                         const auto plus = text.find('+', start);
                         const std::string word = text.substr(start, plus == std::string::npos ? plus : plus - start);
                         static const std::vector<std::pair<std::string_view, std::uint32_t>> bits = {
                             {"FIN", 0x01}, {"SYN", 0x02}, {"RST", 0x04}, {"PSH", 0x08}, {"ACK", 0x10}, {"URG", 0x20}};
                         const auto it = std::find_if(bits.begin(), bits.end(), [&](const auto& b) { return b.first == word; });
                         if (it == bits.end())
                           fail(v, path, fmt::format("unknown flag '{}'; expected FIN, SYN, RST, PSH, ACK or URG, joined by '+'", word));
                         flags |= it->second;
                         if (plus == std::string::npos) break;
                         start = plus + 1;
                       }
                       std::uint32_t mask = flags;
                       if ((flags & 0x02) && !(flags & 0x10)) mask |= 0x10;
                       p->set_flags(flags);
                       p->set_flags_mask(mask);
                     }
                     if (k == "from" || k == "to") {
                       const std::uint32_t id = one_node(v, path);
                       if (topo_.nodes(static_cast<int>(id)).kind() != Node::HOST)
                         fail(v, path, fmt::format("'{}' is a router; packets come from and go to hosts",
                                                   topo_.nodes(static_cast<int>(id)).name()));
                       if (k == "from") {
                         p->set_src(id);
                       } else {
                         p->set_dst(id);
                       }
                     }
                     if (k == "src_port") p->set_src_port(static_cast<std::uint32_t>(integer(v, path, 1, 65535)));
                     if (k == "dst_port") p->set_dst_port(static_cast<std::uint32_t>(integer(v, path, 1, 65535)));
                     if (k == "payload") p->set_with_payload(boolean(v, path));
                     if (k == "nth") {
                       // 2, [1, 2], or every.
                       if (v.IsScalar() && v.Scalar() == "every") {
                         p->add_nth(0);
                       } else if (v.IsSequence()) {
                         if (v.size() == 0) fail(v, path, "an empty list; give at least one match number, as in [1, 2]");
                         for (const YAML::Node& x : v)
                           p->add_nth(static_cast<std::uint32_t>(integer(x, path, 1, 1u << 31)));
                       } else {
                         p->add_nth(static_cast<std::uint32_t>(integer(v, path, 1, 1u << 31)));
                       }
                     }
                     if (k == "first") p->set_first(static_cast<std::uint32_t>(integer(v, path, 1, 1u << 31)));
                   });
      if (!have_link) fail(m, where + ".match", "needs 'link: [A, B]' (the packet is caught as it enters A's side)");
      if (m["nth"] && m["first"])
        fail(m["first"], where + ".match.first", "give 'nth' or 'first', not both ('nth: [1, 2]' is 'first: 2')");
      if (p->nth_size() == 0 && p->first() == 0) p->add_nth(1);  // the first match by default
      if (item["during"]) {
        const YAML::Node d = item["during"];
        if (!d.IsSequence() || d.size() != 2)
          fail(d, where + ".during", fmt::format("expected a time window [FROM, TO], as in [2s, 5s], got {}", kind_of(d)));
        p->set_from_ns(duration_ns(d[0], where + ".during"));
        p->set_until_ns(duration_ns(d[1], where + ".during"));
        if (p->from_ns() < 0) fail(d[0], where + ".during", "the window cannot begin before the run starts");
        if (p->until_ns() <= p->from_ns()) fail(d[1], where + ".during", "the window must end after it begins");
      }
      const int actions = (item["drop"] ? 1 : 0) + (item["delay"] ? 1 : 0) + (item["duplicate"] ? 1 : 0) +
                          (item["corrupt"] ? 1 : 0);
      if (actions != 1) fail(item, where, "a match needs exactly one of: drop, delay, duplicate, corrupt");
      if (item["drop"]) {
        if (!boolean(item["drop"], where + ".drop")) fail(item["drop"], where + ".drop", "write 'drop: true'");
        p->set_action(PacketFault::DROP);
      }
      if (item["duplicate"]) {
        if (!boolean(item["duplicate"], where + ".duplicate"))
          fail(item["duplicate"], where + ".duplicate", "write 'duplicate: true'");
        p->set_action(PacketFault::DUPLICATE);
      }
      if (item["corrupt"]) {
        if (!boolean(item["corrupt"], where + ".corrupt"))
          fail(item["corrupt"], where + ".corrupt", "write 'corrupt: true'");
        p->set_action(PacketFault::CORRUPT);
      }
      if (item["delay"]) {
        p->set_action(PacketFault::DELAY);
        p->set_delay_ns(duration_ns(item["delay"], where + ".delay"));
        if (p->delay_ns() <= 0) fail(item["delay"], where + ".delay", "must be more than zero");
      }
      if (item["at"]) fail(item["at"], where + ".at", "a match is active from the start; 'at' does not apply");
      for (const auto& [link, dir] : more_links) {
        Fault* g = topo_.add_faults();
        *g = *f;
        g->mutable_packet()->set_link(link);
        g->mutable_packet()->set_direction(dir);
      }
    }
  }
}

Topology Loader::load(const YAML::Node& root) {
  if (root.IsNull()) fail(root, "", "the file is empty: a topology needs at least 'hosts' and 'links'");
  if (!root.IsMap()) fail(root, "", fmt::format("expected a map of keys (name, hosts, links, ...), got {}", kind_of(root)));
  default_tcp_ = default_tcp();
  default_forward_ = default_backward_ = default_direction();
  topo_.set_seed(1);
  static const std::vector<std::string_view> top = {"name",  "seed",     "ecmp",   "addresses", "defaults", "hosts",
                                                    "routers", "generate", "links", "workload", "faults", "expect",
                                                    "run",   "limits"};
  // Defaults first, nodes before links, links before workloads, whatever the order
  // in the file.
  for_each_key(root, "", top, [](const std::string&, const YAML::Node&, const std::string&) {});
  if (root["name"]) {
    // The run folder is named after it: no '/', no '..', no newline, no stray bytes.
    const std::string name = scalar(root["name"], "name", "a name");
    if (!valid_name(name)) fail(root["name"], "name", fmt::format("'{}' is not a valid name: {}", shown(name), name_rule()));
    topo_.set_name(name);
  }
  if (root["seed"]) topo_.set_seed(integer(root["seed"], "seed", 0, UINT64_MAX));
  if (root["ecmp"]) topo_.set_ecmp(boolean(root["ecmp"], "ecmp"));
  if (root["limits"])
    for_each_key(root["limits"], "limits", {"nodes", "links"},
                 [&](const std::string& k, const YAML::Node& v, const std::string& path) {
                   // Up to what the canonical form can number (node ids are 32-bit).
                   const std::uint64_t n = integer(v, path, 1, 1'000'000'000);
                   (k == "nodes" ? max_nodes_ : max_links_) = n;
                 });
  if (root["run"])
    for_each_key(root["run"], "run", {"until"}, [&](const std::string&, const YAML::Node& v, const std::string& path) {
      horizon_ns_ = kMaxHorizonNs;
      topo_.set_until_ns(duration_ns(v, path));
      if (topo_.until_ns() <= 0) fail(v, path, "must be more than zero (leave it out to run until nothing is left to do)");
      horizon_ns_ = std::max(kDefaultHorizonNs, topo_.until_ns());
    });
  if (root["defaults"])
    for_each_key(root["defaults"], "defaults", {"link", "tcp"},
                 [&](const std::string& k, const YAML::Node& v, const std::string& path) {
                   if (k == "link") sides(v, path, default_forward_, default_backward_);
                   if (k == "tcp") tcp(v, path, default_tcp_);
                 });
  if (!root["hosts"] && !root["generate"])
    fail(root, "hosts", "missing: a topology needs hosts (or a generator that makes them)");
  if (root["hosts"]) add_nodes(root["hosts"], Node::HOST, "hosts");
  if (root["routers"]) add_nodes(root["routers"], Node::ROUTER, "routers");
  link_count_.assign(topo_.nodes_size(), 0);
  if (root["generate"]) generators(root["generate"]);
  if (root["links"]) links(root["links"]);
  link_count_.resize(topo_.nodes_size(), 0);
  for (int i = 0; i < topo_.nodes_size(); ++i)
    if (topo_.nodes(i).kind() == Node::HOST && link_count_[static_cast<std::size_t>(i)] == 0 &&
        topo_.nodes_size() > 1)
      fail(root["hosts"] ? root["hosts"] : root, "hosts", fmt::format("host '{}' has no link", topo_.nodes(i).name()));
  assign_addresses(root);
  if (root["workload"]) workloads(root["workload"]);
  check_reachable(root);
  if (root["faults"]) faults(root["faults"]);
  if (root["expect"]) expectations(root["expect"]);
  return topo_;
}

// How many values the document holds once YAML aliases are expanded, counted up to
// `limit`: a "billion laughs" (aliases of aliases) is refused here, before the loader
// walks it.
std::uint64_t expanded_size(const YAML::Node& n, std::uint64_t limit, std::uint64_t count = 0) {
  if (++count > limit) return count;
  if (n.IsMap()) {
    for (const auto& kv : n) {
      count = expanded_size(kv.first, limit, count);
      if (count > limit) return count;
      count = expanded_size(kv.second, limit, count);
      if (count > limit) return count;
    }
  } else if (n.IsSequence()) {
    for (const YAML::Node& item : n) {
      count = expanded_size(item, limit, count);
      if (count > limit) return count;
    }
  }
  return count;
}

}  // namespace

Topology load_string(std::string_view text, const std::string& file_name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    // "[client[*], r1]" reads as a nested list and an alias: say what to write instead.
    const bool alias = e.msg.find("alias") != std::string::npos;
    throw LoadError(file_name, e.mark.line + 1, e.mark.column + 1, "",
                    fmt::format("not valid YAML: {}{}", e.msg,
                                alias ? " (inside [ ] write a group as client* or quote it: \"client[*]\")" : ""));
  } catch (const YAML::Exception& e) {
    throw LoadError(file_name, 0, 0, "", fmt::format("not valid YAML: {}", e.msg));
  }
  if (expanded_size(root, kMaxYamlValues) > kMaxYamlValues)
    throw LoadError(file_name, 1, 1, "",
                    fmt::format("the file holds more than {} values once its YAML aliases are expanded: write large "
                                "networks with ranges and generate:, not copies",
                                kMaxYamlValues));
  try {
    return Loader(file_name).load(root);
  } catch (const YAML::Exception& e) {
    throw LoadError(file_name, e.mark.line + 1, e.mark.column + 1, "", e.msg);
  }
}

std::string read_topology_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw LoadError(path, 0, 0, "", "is a folder, not a topology file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LoadError(path, 0, 0, "", fmt::format("cannot open the file: {}", std::strerror(errno)));
  // Read at most one byte past the limit: /dev/zero must not fill the memory.
  const std::uint64_t limit = max_file_bytes();
  std::string s(static_cast<std::size_t>(std::min<std::uint64_t>(limit, 1u << 20)), '\0');
  std::size_t got = 0;
  while (in && got <= limit) {
    if (got == s.size()) s.resize(static_cast<std::size_t>(std::min<std::uint64_t>(limit + 1, 2 * s.size())));
    in.read(s.data() + got, static_cast<std::streamsize>(s.size() - got));
    got += static_cast<std::size_t>(in.gcount());
  }
  if (got > limit)
    throw LoadError(path, 0, 0, "",
                    fmt::format("the file is larger than {} bytes: write large networks with ranges and generate: "
                                "(or raise the limit with the environment variable SHAKEDOWN_MAX_FILE_BYTES)",
                                limit));
  s.resize(got);
  return s;
}

std::uint64_t max_file_bytes() {
  if (const char* v = std::getenv("SHAKEDOWN_MAX_FILE_BYTES")) {
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(v, v + std::strlen(v), n);
    if (ec == std::errc() && *end == '\0' && n > 0) return n;
  }
  return kMaxFileBytes;
}

Topology load_file(const std::string& path) {
  const std::string s = read_topology_file(path);
  if (s.find('\0') != std::string::npos) throw LoadError(path, 1, 1, "", "this is a binary file, not a YAML topology");
  return load_string(s, path);
}

}  // namespace shakedown::topology
