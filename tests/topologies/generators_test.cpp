// The generators: the shape of each graph (counts, degrees, connectivity), the same
// graph for the same seed, and their use from a file beside hand-written parts.
#include "topologies/generators.h"

#include <gtest/gtest.h>

#include <map>
#include <queue>
#include <set>

#include "topologies/loader.h"

namespace shakedown::topology {
namespace {

using generate::Graph;
constexpr std::uint64_t kMax = 2'000'000;

std::vector<int> degrees(const Graph& g) {
  std::vector<int> d(g.nodes.size(), 0);
  for (const auto& l : g.links) {
    ++d[l.a];
    ++d[l.b];
  }
  return d;
}

bool connected(const Graph& g) {
  std::vector<std::vector<std::uint32_t>> adj(g.nodes.size());
  for (const auto& l : g.links) {
    adj[l.a].push_back(l.b);
    adj[l.b].push_back(l.a);
  }
  std::vector<bool> seen(g.nodes.size(), false);
  std::queue<std::uint32_t> q;
  q.push(0);
  seen[0] = true;
  std::size_t n = 1;
  while (!q.empty()) {
    const auto u = q.front();
    q.pop();
    for (auto v : adj[u])
      if (!seen[v]) {
        seen[v] = true;
        ++n;
        q.push(v);
      }
  }
  return n == g.nodes.size();
}

TEST(Generators, Star) {
  const Graph g = generate::star("hub", "client", 5, kMax);
  ASSERT_EQ(g.nodes.size(), 6u);
  EXPECT_EQ(g.nodes[0].name, "hub");
  EXPECT_TRUE(g.nodes[0].router);
  EXPECT_EQ(g.nodes[5].name, "client5");
  EXPECT_EQ(g.nodes[5].group, "client");
  EXPECT_EQ(degrees(g)[0], 5);
  EXPECT_EQ(g.links.size(), 5u);
}

TEST(Generators, LineAndRing) {
  const Graph line = generate::line("r", 4, "h", false, kMax);
  EXPECT_EQ(line.nodes.size(), 8u);
  EXPECT_EQ(line.links.size(), 3u + 4u);
  EXPECT_TRUE(connected(line));
  const Graph ring = generate::line("r", 5, "", true, kMax);
  EXPECT_EQ(ring.links.size(), 5u);
  for (int d : degrees(ring)) EXPECT_EQ(d, 2);
  EXPECT_THROW(generate::line("r", 2, "", true, kMax), std::invalid_argument);
}

TEST(Generators, DumbbellHasOneBottleneck) {
  const Graph g = generate::dumbbell("c", 3, "s", 2, "rl", "rr", kMax);
  EXPECT_EQ(g.nodes.size(), 7u);
  int bottlenecks = 0;
  for (const auto& l : g.links) bottlenecks += l.bottleneck;
  EXPECT_EQ(bottlenecks, 1);
  EXPECT_TRUE(connected(g));
}

TEST(Generators, TreeOfDepthThreeAndFanoutTwo) {
  const Graph g = generate::tree(3, 2, "t", "leaf", kMax);
  // 1 + 2 + 4 routers, 8 hosts under the 4 leaf routers t4..t7.
  ASSERT_EQ(g.nodes.size(), 15u);
  EXPECT_EQ(g.links.size(), 14u);
  EXPECT_TRUE(connected(g));
  const auto d = degrees(g);
  EXPECT_EQ(d[0], 2);  // the root
  for (int i = 3; i < 7; ++i) EXPECT_EQ(d[static_cast<std::size_t>(i)], 3) << g.nodes[static_cast<std::size_t>(i)].name;
  EXPECT_THROW(generate::tree(40, 10, "t", "h", kMax), std::invalid_argument);
}

// k = 4: 4 core, 8 aggregation, 8 edge switches, 16 hosts; every switch has k ports.
TEST(Generators, FatTreeOfK4) {
  const Graph g = generate::fat_tree(4, "", kMax);
  std::map<std::string, int> count;
  for (const auto& n : g.nodes) ++count[n.group];
  EXPECT_EQ(count["core"], 4);
  EXPECT_EQ(count["agg"], 8);
  EXPECT_EQ(count["edge"], 8);
  EXPECT_EQ(count["host"], 16);
  EXPECT_EQ(g.links.size(), 48u);
  const auto d = degrees(g);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) EXPECT_EQ(d[i], g.nodes[i].router ? 4 : 1) << g.nodes[i].name;
  EXPECT_TRUE(connected(g));
  EXPECT_THROW(generate::fat_tree(3, "", kMax), std::invalid_argument);
  EXPECT_THROW(generate::fat_tree(400, "", kMax), std::invalid_argument) << "16 million hosts";
}

TEST(Generators, RandomGraphIsConnectedExactAndSeeded) {
  for (std::uint64_t links : {19u, 40u, 150u, 190u}) {
    const Graph g = generate::random("r", 20, "", links, 7, kMax);
    EXPECT_EQ(g.links.size(), links);
    EXPECT_TRUE(connected(g));
    std::set<std::pair<std::uint32_t, std::uint32_t>> pairs;
    for (const auto& l : g.links) {
      EXPECT_NE(l.a, l.b);
      EXPECT_TRUE(pairs.insert({std::min(l.a, l.b), std::max(l.a, l.b)}).second) << "a repeated link";
    }
  }
  auto same = [](const Graph& a, const Graph& b) {
    if (a.links.size() != b.links.size()) return false;
    for (std::size_t i = 0; i < a.links.size(); ++i)
      if (a.links[i].a != b.links[i].a || a.links[i].b != b.links[i].b) return false;
    return true;
  };
  EXPECT_TRUE(same(generate::random("r", 30, "h", 60, 1, kMax), generate::random("r", 30, "h", 60, 1, kMax)));
  EXPECT_FALSE(same(generate::random("r", 30, "h", 60, 1, kMax), generate::random("r", 30, "h", 60, 2, kMax)));
  EXPECT_THROW(generate::random("r", 20, "", 18, 1, kMax), std::invalid_argument);
  EXPECT_THROW(generate::random("r", 20, "", 191, 1, kMax), std::invalid_argument);
}

TEST(Generators, FromAFileBesideHandWrittenParts) {
  const Topology t = load_string(R"(hosts: [server]
generate:
  - star: {hub: r, hosts: client, count: 100}
    link: {delay: 10ms, rate: 1Gbps}
  - dumbbell: {left: a, right: b, count: 2, routers: [x, y]}
    bottleneck: {rate: 10Mbps}
links:
  - {ends: [r, server], delay: 1ms}
  - {ends: [r, x]}
)");
  ASSERT_EQ(t.nodes_size(), 1 + 101 + 6);
  EXPECT_EQ(t.nodes(1).name(), "r");
  EXPECT_EQ(t.nodes(101).name(), "client100");
  // 100 star links, 5 dumbbell links, 2 hand-written.
  ASSERT_EQ(t.links_size(), 107);
  EXPECT_EQ(t.links(0).forward().delay_ns(), 10'000'000);
  EXPECT_EQ(t.links(100).forward().rate_bps(), 10'000'000u) << "the dumbbell's bottleneck comes first";
  EXPECT_EQ(t.links(101).forward().rate_bps(), 0u);
  EXPECT_EQ(t.links(105).forward().delay_ns(), 1'000'000);
}

TEST(Generators, ErrorsInAFileSayWhere) {
  auto error = [](const char* yaml) {
    try {
      load_string(yaml, "g.yaml");
    } catch (const LoadError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(error("generate:\n  - fat_tree: {k: 5}\n"),
            "g.yaml:2:15: generate[0].fat_tree: a fat-tree's k must be even and at least 2");
  EXPECT_EQ(error("generate:\n  - star: {hub: r, count: 3}\n"), "g.yaml:2:11: generate[0].star: needs 'hosts'");
  EXPECT_EQ(error("generate:\n  - star: {hub: r, hosts: c, count: 3, k: 4}\n"),
            "g.yaml:2:43: generate[0].star.k: does not apply to star");
  EXPECT_EQ(error("generate:\n  - strar: {}\n"), "g.yaml:2:5: generate[0].strar: unknown key; did you mean 'star'?");
  EXPECT_EQ(error("hosts: [r1]\ngenerate:\n  - line: {routers: r, count: 3}\n"),
            "g.yaml:3:11: generate[0].line: a node named 'r1' already exists");
  EXPECT_EQ(error("generate:\n  - star: {hub: r, hosts: c, count: 3}\n    bottleneck: {rate: 1Mbps}\n"),
            "g.yaml:3:17: generate[0].bottleneck: only a dumbbell has a bottleneck");
}

}  // namespace
}  // namespace shakedown::topology
