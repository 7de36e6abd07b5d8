#include "controller/report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace shakedown::controller {

namespace {

using Json = nlohmann::ordered_json;

std::vector<std::int64_t> bucket_edges() {
  std::vector<std::int64_t> edges;
  for (std::int64_t decade = 1'000; decade <= 1'000'000'000'000; decade *= 10)
    for (const std::int64_t m : {1, 2, 5}) edges.push_back(decade * m);
  while (edges.back() > 1'000'000'000'000) edges.pop_back();
  return edges;
}

std::int64_t rank(const std::vector<std::int64_t>& sorted, double p) {
  // Nearest rank: the smallest value with at least p of the values at or below it.
  const auto n = static_cast<double>(sorted.size());
  auto i = static_cast<std::size_t>(std::ceil(p * n));
  if (i == 0) i = 1;
  return sorted[std::min(i, sorted.size()) - 1];
}


}  // namespace

std::string thousands(std::uint64_t v) {
  const std::string digits = std::to_string(v);
  std::string s;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

std::string pretty_ns(std::int64_t ns) {
  if (ns < 0) return fmt::format("-{}", pretty_ns(-ns));
  struct Unit {
    double factor;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}};
  for (const auto& u : kUnits) {
    const double v = static_cast<double>(ns) / u.factor;
    if (v < 1) continue;
    const int decimals = v >= 100 ? 0 : v >= 10 ? 1 : 2;
    return fmt::format("{:.{}f}{}", v, decimals, u.name);
  }
  return fmt::format("{}ns", ns);
}

Distribution Distribution::of(std::vector<std::int64_t> values) {
  Distribution d;
  d.edges = bucket_edges();
  d.counts.assign(d.edges.size(), 0);
  d.count = values.size();
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  d.min = values.front();
  d.max = values.back();
  d.p50 = rank(values, 0.50);
  d.p90 = rank(values, 0.90);
  d.p99 = rank(values, 0.99);
  d.p999 = rank(values, 0.999);
  long double sum = 0;
  for (const std::int64_t v : values) {
    sum += v;
    const auto it = std::lower_bound(d.edges.begin(), d.edges.end(), v);
    ++d.counts[std::min<std::size_t>(static_cast<std::size_t>(it - d.edges.begin()), d.edges.size() - 1)];
  }
  d.mean = static_cast<double>(sum / static_cast<long double>(values.size()));
  return d;
}

nlohmann::ordered_json Distribution::to_json() const {
  Json j;
  j["count"] = count;
  if (count > 0) {
    j["min_ns"] = min;
    j["p50_ns"] = p50;
    j["p90_ns"] = p90;
    j["p99_ns"] = p99;
    j["p999_ns"] = p999;
    j["max_ns"] = max;
    j["mean_ns"] = static_cast<std::int64_t>(std::llround(mean));
    Json buckets = Json::array();
    std::size_t lo = 0, hi = counts.size();
    while (lo < hi && counts[lo] == 0) ++lo;
    while (hi > lo && counts[hi - 1] == 0) --hi;
    for (std::size_t i = lo; i < hi; ++i) buckets.push_back(Json{{"le_ns", edges[i]}, {"count", counts[i]}});
    j["histogram"] = buckets;
  }
  return j;
}

Rates Rates::of(const std::vector<const ConnectionRow*>& connections, bool goodput) {
  Rates r;
  std::vector<std::int64_t> per;
  std::uint64_t bytes = 0;
  std::int64_t begin = kNever, end = kNever;
  for (const ConnectionRow* c : connections) {
    const ConnectionRow::Data d = c->data();
    const std::uint64_t mine = goodput ? d.delivered : d.on_wire;
    const double bps = d.bps(mine);
    if (bps < 0) continue;
    per.push_back(std::llround(bps));
    bytes += mine;
    if (begin == kNever || d.begin < begin) begin = d.begin;
    end = std::max(end, d.end);
  }
  r.per_connection = Distribution::of(std::move(per));
  if (end > begin && begin != kNever) r.total_bps = static_cast<double>(bytes) * 8e9 / static_cast<double>(end - begin);
  return r;
}

nlohmann::ordered_json Rates::to_json() const {
  Json j;
  j["count"] = per_connection.count;
  if (per_connection.count > 0) {
    j["min_bps"] = per_connection.min;
    j["p50_bps"] = per_connection.p50;
    j["p90_bps"] = per_connection.p90;
    j["p99_bps"] = per_connection.p99;
    j["p999_bps"] = per_connection.p999;
    j["max_bps"] = per_connection.max;
    j["mean_bps"] = static_cast<std::int64_t>(std::llround(per_connection.mean));
    j["total_bps"] = static_cast<std::int64_t>(std::llround(total_bps));
  }
  return j;
}

std::string pretty_bps(double bps) {
  static constexpr std::pair<double, const char*> kUnits[] = {{1e9, "Gbps"}, {1e6, "Mbps"}, {1e3, "Kbps"}};
  for (const auto& [factor, name] : kUnits) {
    const double v = bps / factor;
    if (v < 1) continue;
    return fmt::format("{:.{}f}{}", v, v >= 100 ? 0 : v >= 10 ? 1 : 2, name);
  }
  return fmt::format("{:.0f}bps", bps);
}

void count(Summary& s, const ConnectionRow& c) {
  ++s.connections;
  if (c.side[0].syn_sent != kNever) ++s.started;
  if (c.side[0].established != kNever) ++s.established;
  switch (c.outcome()) {
    case Outcome::completed:
      ++s.completed;
      break;
    case Outcome::reset:
      ++s.reset;
      break;
    case Outcome::refused:
      ++s.refused;
      break;
    case Outcome::timed_out:
      ++s.timed_out;
      break;
    case Outcome::crashed:
      ++s.crashed;
      break;
    case Outcome::open: {
      ++s.open;
      bool waiting = false, other = false;
      for (const Side& side : c.side) {
        if (!side.has_conn || side.ended) continue;
        (side.state == tcp::State::time_wait ? waiting : other) = true;
      }
      if (waiting && !other) ++s.in_time_wait;
      break;
    }
  }
}

Summary summarize(const Recorder& recorder, Network& network) {
  Summary s;
  std::vector<std::int64_t> handshakes, teardowns;
  std::vector<const ConnectionRow*> all;
  all.reserve(recorder.connections().size());
  for (const ConnectionRow& c : recorder.connections()) {
    all.push_back(&c);
    count(s, c);
    if (const auto h = c.handshake(); h != kNever) handshakes.push_back(h);
    if (const auto t = c.teardown(); t != kNever) teardowns.push_back(t);
    for (const Side& side : c.side) {
      for (int k = 0; k < kRetransmitKinds; ++k) s.retransmissions[static_cast<std::size_t>(k)] += side.retransmissions[k];
      s.bytes_delivered += side.bytes_received;
    }
  }
  s.handshake = Distribution::of(std::move(handshakes));
  s.teardown = Distribution::of(std::move(teardowns));
  s.goodput = Rates::of(all, true);
  s.throughput = Rates::of(all, false);
  // Drops from the counters every link, router and host keeps: no packet observer
  // needed for the summary.
  const auto add_drops = [&](const std::uint64_t* dropped) {
    for (std::size_t r = 0; r < kDropReasonCount; ++r) s.drops[r] += dropped[r];
  };
  for (std::uint32_t l = 0; l < network.link_count(); ++l)
    for (int d = 0; d < 2; ++d) add_drops(network.link(l).direction(d).stats().dropped);
  for (std::uint32_t n = 0; n < network.node_count(); ++n) {
    if (!network.is_host(n)) {
      add_drops(network.router(n).stats().dropped);
      continue;
    }
    add_drops(network.host(n).stats().dropped);
    s.bytes_verified += network.host(n).stats().payload_bytes_verified;
    s.bytes_wrong += network.host(n).stats().payload_bytes_wrong;
    s.bytes_stale += network.host(n).stats().payload_bytes_stale;
  }
  return s;
}

nlohmann::ordered_json Summary::to_json() const {
  // Only what a rerun reproduces exactly: wall time lives in timing.json.
  Json j;
  j["name"] = name;
  j["seed"] = seed;
  j["interrupted"] = interrupted;
  if (process_lost) j["process_lost"] = true;
  j["simulated_ns"] = simulated_ns;
  j["events"] = events;
  j["connections"] = Json{{"total", connections}, {"started", started},     {"established", established},
                          {"completed", completed}, {"reset", reset},       {"refused", refused},
                          {"timed_out", timed_out}, {"crashed", crashed},   {"open", open},
                          {"in_time_wait", in_time_wait}, {"not_started", not_started}};
  j["handshake"] = handshake.to_json();
  j["teardown"] = teardown.to_json();
  j["goodput"] = goodput.to_json();
  j["throughput"] = throughput.to_json();
  Json retx;
  for (int k = 0; k < kRetransmitKinds; ++k)
    retx[std::string(retransmit_kind_name(k))] = retransmissions[static_cast<std::size_t>(k)];
  j["retransmissions"] = retx;
  Json drop;
  for (int r = 0; r < kDropReasonCount; ++r)
    drop[std::string(to_string(static_cast<DropReason>(r)))] = drops[static_cast<std::size_t>(r)];
  j["drops"] = drop;
  j["bytes"] = Json{{"delivered", bytes_delivered}, {"verified", bytes_verified}, {"wrong", bytes_wrong}, {"stale", bytes_stale}};
  return j;
}

std::string Summary::human() const {
  std::string out;
  auto line = [&](std::string_view head, const std::string& body) { out += fmt::format("  {:<16}{}\n", head, body); };
  line("connections", fmt::format("{} started, {} established, {} completed, {} failed, {} reset, {} open{}{}",
                                  thousands(started), thousands(established), thousands(completed), thousands(failed()),
                                  thousands(reset), thousands(open),
                                  in_time_wait > 0 ? fmt::format(" ({} in TIME_WAIT)", thousands(in_time_wait)) : "",
                                  not_started > 0 ? fmt::format("; {} could not start", thousands(not_started)) : ""));
  if (failed() > 0)
    line("  failed", fmt::format("{} refused, {} timed out, {} crashed", refused, timed_out, crashed));
  const auto dist = [&](std::string_view head, const Distribution& d) {
    if (d.count == 0) return line(head, "none");
    line(head, fmt::format("p50 {}  p90 {}  p99 {}  max {}  ({} connection{})", pretty_ns(d.p50), pretty_ns(d.p90),
                           pretty_ns(d.p99), pretty_ns(d.max), thousands(d.count), d.count == 1 ? "" : "s"));
  };
  dist("handshake", handshake);
  dist("teardown", teardown);
  if (goodput.per_connection.count > 0) {
    const Distribution& g = goodput.per_connection;
    line("goodput", fmt::format("p50 {}  min {}  max {}  total {}  (throughput total {})",
                                pretty_bps(static_cast<double>(g.p50)), pretty_bps(static_cast<double>(g.min)),
                                pretty_bps(static_cast<double>(g.max)), pretty_bps(goodput.total_bps),
                                pretty_bps(throughput.total_bps)));
  }
  std::string r;
  for (int k = 0; k < kRetransmitKinds; ++k)
    r += fmt::format("{}{} {}", k == 0 ? "" : ", ", retransmit_kind_name(k), thousands(retransmissions[static_cast<std::size_t>(k)]));
  line("retransmissions", r);
  std::string d;
  for (int i = 0; i < kDropReasonCount; ++i) {
    if (drops[static_cast<std::size_t>(i)] == 0) continue;
    d += fmt::format("{}{} {}", d.empty() ? "" : ", ", to_string(static_cast<DropReason>(i)), thousands(drops[static_cast<std::size_t>(i)]));
  }
  line("drops", d.empty() ? "none" : d);
  line("bytes", fmt::format("{} delivered, {} verified{}{}", thousands(bytes_delivered), thousands(bytes_verified),
                            bytes_wrong > 0 ? fmt::format(", {} WRONG", thousands(bytes_wrong)) : "",
                            bytes_stale > 0 ? fmt::format(", {} stale (of an earlier connection, refused)", thousands(bytes_stale)) : ""));
  const double rate = wall_seconds > 0 ? static_cast<double>(events) / wall_seconds : 0;
  line("time", fmt::format("{} simulated in {:.2f}s wall, {} events ({:.2f} M/s)", pretty_ns(simulated_ns), wall_seconds,
                           thousands(events), rate / 1e6));
  return out;
}

}  // namespace shakedown::controller
