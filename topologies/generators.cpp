#include "topologies/generators.h"

#include <set>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "emulator/wide.h"

namespace shakedown::topology::generate {

namespace {

class Builder {
 public:
  explicit Builder(std::uint64_t expected, std::uint64_t max_nodes) {
    if (expected > max_nodes)
      throw std::invalid_argument(fmt::format("would make {} nodes, past the limit of {}", expected, max_nodes));
    g_.nodes.reserve(expected);
  }
  std::uint32_t node(std::string name, bool router, std::string group = {}) {
    g_.nodes.push_back(Graph::Node{std::move(name), router, std::move(group)});
    return static_cast<std::uint32_t>(g_.nodes.size() - 1);
  }
  std::uint32_t member(const std::string& group, std::uint64_t i, bool router) {
    return node(fmt::format("{}{}", group, i), router, group);
  }
  void link(std::uint32_t a, std::uint32_t b, bool bottleneck = false) { g_.links.push_back({a, b, bottleneck}); }
  Graph take() { return std::move(g_); }

 private:
  Graph g_;
};

// Sizes computed from user numbers saturate instead of wrapping (emulator/wide.h).
constexpr auto add = saturating_add;
constexpr auto mul = saturating_mul;

void need(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

// SplitMix64: a small generator whose sequence is fixed by its definition, so a seed
// gives the same graph on every platform.
class Draw {
 public:
  explicit Draw(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), by rejection (no modulo bias).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
      const std::uint64_t x = next();
      if (x < limit) return x % n;
    }
  }

 private:
  std::uint64_t s_;
};

}  // namespace

Graph star(const std::string& hub, const std::string& hosts, std::uint64_t count, std::uint64_t max_nodes) {
  need(count >= 1, "a star needs at least one host");
  Builder b(add(count, 1), max_nodes);
  const auto h = b.node(hub, true);
  for (std::uint64_t i = 1; i <= count; ++i) b.link(b.member(hosts, i, false), h);
  return b.take();
}

Graph line(const std::string& routers, std::uint64_t count, const std::string& hosts, bool ring,
           std::uint64_t max_nodes) {
  need(count >= (ring ? 3u : 1u), ring ? "a ring needs at least 3 routers" : "a line needs at least one router");
  Builder b(hosts.empty() ? count : mul(2, count), max_nodes);
  std::vector<std::uint32_t> r;
  for (std::uint64_t i = 1; i <= count; ++i) r.push_back(b.member(routers, i, true));
  for (std::size_t i = 1; i < r.size(); ++i) b.link(r[i - 1], r[i]);
  if (ring) b.link(r.back(), r.front());
  if (!hosts.empty())
    for (std::uint64_t i = 1; i <= count; ++i) b.link(b.member(hosts, i, false), r[i - 1]);
  return b.take();
}

Graph dumbbell(const std::string& left, std::uint64_t left_count, const std::string& right, std::uint64_t right_count,
               const std::string& left_router, const std::string& right_router, std::uint64_t max_nodes) {
  need(left_count >= 1 && right_count >= 1, "a dumbbell needs at least one host on each side");
  Builder b(add(add(left_count, right_count), 2), max_nodes);
  const auto l = b.node(left_router, true);
  const auto r = b.node(right_router, true);
  b.link(l, r, /*bottleneck=*/true);
  for (std::uint64_t i = 1; i <= left_count; ++i) b.link(b.member(left, i, false), l);
  for (std::uint64_t i = 1; i <= right_count; ++i) b.link(b.member(right, i, false), r);
  return b.take();
}

Graph tree(std::uint64_t depth, std::uint64_t fanout, const std::string& routers, const std::string& hosts,
           std::uint64_t max_nodes) {
  need(depth >= 1, "a tree needs a depth of at least 1");
  need(fanout >= 1, "a tree needs a fanout of at least 1");
  // Routers: 1 + f + ... + f^(d-1); hosts: f^d. Counted with a ceiling against overflow.
  std::uint64_t level = 1, router_count = 0;
  // Stops as soon as the count passes the limit: a depth of 10^15 with fanout 1 is
  // refused at once, not counted to the end.
  for (std::uint64_t d = 0; d < depth; ++d) {
    router_count = add(router_count, level);
    if (router_count > max_nodes || level > max_nodes) break;
    level = mul(level, fanout);
  }
  const std::uint64_t host_count = level;
  if (add(router_count, host_count) > max_nodes)
    throw std::invalid_argument(fmt::format("a tree of depth {} and fanout {} has more than {} nodes", depth, fanout,
                                            max_nodes));
  Builder b(router_count + host_count, max_nodes);
  std::vector<std::uint32_t> r;
  for (std::uint64_t i = 1; i <= router_count; ++i) r.push_back(b.member(routers, i, true));
  // Breadth-first numbering: router i's children are i*f + 1 .. i*f + f (0-based).
  for (std::uint64_t i = 1; i < router_count; ++i) b.link(r[(i - 1) / fanout], r[i]);
  // The last level holds f^(d-1) = hosts / f routers, each with f hosts.
  const std::uint64_t leaves_begin = router_count - host_count / fanout;
  std::uint64_t h = 1;
  for (std::uint64_t leaf = leaves_begin; leaf < router_count; ++leaf)
    for (std::uint64_t j = 0; j < fanout; ++j) b.link(b.member(hosts, h++, false), r[leaf]);
  return b.take();
}

Graph fat_tree(std::uint64_t k, const std::string& prefix, std::uint64_t max_nodes) {
  need(k >= 2 && k % 2 == 0, "a fat-tree's k must be even and at least 2");
  need(k <= 1024, "a fat-tree's k must be at most 1024");
  const std::uint64_t half = k / 2;
  const std::uint64_t hosts = k * k * k / 4, switches = half * half + k * k;
  Builder b(hosts + switches, max_nodes);
  std::vector<std::uint32_t> core, agg, edge;
  for (std::uint64_t i = 1; i <= half * half; ++i) core.push_back(b.member(prefix + "core", i, true));
  for (std::uint64_t i = 1; i <= k * half; ++i) agg.push_back(b.member(prefix + "agg", i, true));
  for (std::uint64_t i = 1; i <= k * half; ++i) edge.push_back(b.member(prefix + "edge", i, true));
  std::uint64_t h = 1;
  for (std::uint64_t pod = 0; pod < k; ++pod) {
    for (std::uint64_t a = 0; a < half; ++a) {
      // Aggregation switch a of each pod reaches core switches a*k/2 .. a*k/2 + k/2 - 1.
      for (std::uint64_t c = 0; c < half; ++c) b.link(agg[pod * half + a], core[a * half + c]);
      for (std::uint64_t e = 0; e < half; ++e) b.link(edge[pod * half + e], agg[pod * half + a]);
    }
    for (std::uint64_t e = 0; e < half; ++e)
      for (std::uint64_t j = 0; j < half; ++j) b.link(b.member(prefix + "host", h++, false), edge[pod * half + e]);
  }
  return b.take();
}

Graph random(const std::string& routers, std::uint64_t count, const std::string& hosts, std::uint64_t links,
             std::uint64_t seed, std::uint64_t max_nodes) {
  need(count >= 2, "a random graph needs at least 2 routers");
  if (count > max_nodes)
    throw std::invalid_argument(fmt::format("would make {} nodes, past the limit of {}", count, max_nodes));
  if (links < count - 1)
    throw std::invalid_argument(fmt::format("{} routers need at least {} links to be connected", count, count - 1));
  const std::uint64_t most = count * (count - 1) / 2;
  if (links > most)
    throw std::invalid_argument(fmt::format("{} routers have at most {} distinct links", count, most));
  Builder b(hosts.empty() ? count : mul(2, count), max_nodes);
  std::vector<std::uint32_t> r;
  for (std::uint64_t i = 1; i <= count; ++i) r.push_back(b.member(routers, i, true));
  Draw draw(seed);
  std::set<std::pair<std::uint64_t, std::uint64_t>> used;
  for (std::uint64_t i = 1; i < count; ++i) {
    const std::uint64_t j = draw.below(i);
    used.insert({j, i});
    b.link(r[j], r[i]);
  }
  // Extra links by rejection while the graph is sparse; when it is dense, from the list
  // of free pairs, so that a nearly complete graph does not take forever.
  std::uint64_t extra = links - (count - 1);
  if (extra > 0 && links * 2 > most) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> free_pairs;
    for (std::uint64_t x = 0; x < count; ++x)
      for (std::uint64_t y = x + 1; y < count; ++y)
        if (!used.contains({x, y})) free_pairs.push_back({x, y});
    for (; extra > 0; --extra) {
      const std::uint64_t k = draw.below(free_pairs.size());
      b.link(r[free_pairs[k].first], r[free_pairs[k].second]);
      free_pairs[k] = free_pairs.back();
      free_pairs.pop_back();
    }
  }
  while (extra > 0) {
    std::uint64_t x = draw.below(count), y = draw.below(count);
    if (x == y) continue;
    if (x > y) std::swap(x, y);
    if (!used.insert({x, y}).second) continue;
    b.link(r[x], r[y]);
    --extra;
  }
  if (!hosts.empty())
    for (std::uint64_t i = 1; i <= count; ++i) b.link(b.member(hosts, i, false), r[i - 1]);
  return b.take();
}

}  // namespace shakedown::topology::generate
