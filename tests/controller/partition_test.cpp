// Partitions for distributed runs: the lookahead of a link, the METIS partition, pins,
// and the refusals.
#include "controller/partition.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "topologies/loader.h"

namespace shakedown::controller {
namespace {

using namespace shakedown::literals;

topology::Direction direction(std::int64_t delay_ns) {
  topology::Direction d;
  d.set_delay_ns(delay_ns);
  return d;
}

TEST(Lookahead, IsTheLeastTimeAPacketCanTake) {
  EXPECT_EQ(lookahead(direction(10'000'000)).least, 10_ms);
  topology::Direction uniform = direction(10'000'000);
  uniform.set_jitter_ns(3'000'000);
  EXPECT_EQ(lookahead(uniform).least, 7_ms) << "uniform jitter takes at most itself off";
  uniform.set_jitter_ns(30'000'000);
  uniform.set_jitter_reorders(true);
  EXPECT_EQ(lookahead(uniform).least, Duration::zero()) << "never below zero";
  topology::Direction normal = direction(10'000'000);
  normal.set_jitter_ns(1'000'000);
  normal.set_distribution(topology::Direction::NORMAL);
  EXPECT_EQ(lookahead(normal).least, Duration::zero());
  EXPECT_NE(lookahead(normal).why.find("normal jitter"), std::string::npos);
  topology::Direction reorder = direction(10'000'000);
  reorder.set_reorder(0.05);
  EXPECT_EQ(lookahead(reorder).least, Duration::zero());
  EXPECT_EQ(lookahead(reorder).why, "reordering (5%): a packet may go at once");
}

TEST(Lookahead, OfALinkCountsBothDirectionsAndEveryFaultThatChangesIt) {
  const auto t = topology::load_string(R"(hosts: [a, b]
links:
  - {ends: [a, b], delay: 10ms, backward: {delay: 8ms}}
faults:
  - {at: 5s, link: [a, b], set: {delay: 2ms}, direction: forward}
)");
  const Lookahead l = link_lookahead(t, 0);
  EXPECT_EQ(l.least, 2_ms);
  EXPECT_EQ(l.why, "its delay (after faults[0] at 5s)");
  const auto plain = topology::load_string("hosts: [a, b]\nlinks:\n  - {ends: [a, b], delay: 10ms, backward: {delay: 8ms}}\n");
  EXPECT_EQ(link_lookahead(plain, 0).least, 8_ms);
}

constexpr const char* kStar = R"(name: star
hosts: ["client[1..40]", server]
routers: [r]
links:
  - {ends: ["client*", r], delay: 10ms}
  - {ends: [r, server], delay: 10ms}
workload:
  - {app: bulk, from: "client*", to: "server:80", connections: 10, bytes: 100KB}
)";

TEST(Partition, SplitsTheWorkEvenlyAndSaysWhatItCut) {
  const auto t = topology::load_string(kStar);
  for (const std::uint32_t ranks : {1u, 2u, 3u, 4u}) {
    const Partition p = partition(t, ranks);
    ASSERT_EQ(p.rank_of.size(), 42u);
    std::vector<int> nodes(ranks, 0);
    for (const auto r : p.rank_of) {
      ASSERT_LT(r, ranks);
      ++nodes[r];
    }
    for (std::uint32_t r = 0; r < ranks; ++r) EXPECT_GT(nodes[r], 0) << "rank " << r << " of " << ranks;
    // The server and the router each carry a third of the work: the best two-way split
    // is exact, more ranks are bounded by the server alone (1/3 of the work).
    EXPECT_LE(p.imbalance(), ranks == 4 ? 1.34 : 1.1) << ranks << " ranks";
    if (ranks == 1) {
      EXPECT_TRUE(p.cut.empty());
      EXPECT_EQ(p.lookahead, Duration::max());
    } else {
      EXPECT_FALSE(p.cut.empty());
      EXPECT_EQ(p.lookahead, 10_ms);
    }
    for (const auto link : p.cut)
      EXPECT_NE(p.rank_of[t.links(static_cast<int>(link)).a()], p.rank_of[t.links(static_cast<int>(link)).b()]);
  }
  EXPECT_EQ(partition(t, 3).rank_of, partition(t, 3).rank_of) << "the same file, the same partition";
}

TEST(Partition, WorkFollowsTheWorkloadAndItsPath) {
  const auto t = topology::load_string(kStar);
  const auto work = node_work(t);
  // 100 KB: 70 data segments, 35 ACKs and 7 for the handshake and teardown; 10 per client.
  EXPECT_EQ(work[0], 1 + 10u * 112u);
  EXPECT_EQ(work[40], 1 + 400u * 112u) << "the server ends every connection";
  EXPECT_EQ(work[41], 1 + 400u * 112u) << "the router carries every connection";
}

// Two equal paths from the client's router to the server's: with ECMP the routers
// share the flows, so each carries half the work; without, the first carries it all.
TEST(Partition, WorkIsSharedByEqualCostPaths) {
  const std::string diamond = R"(name: diamond
hosts: [client, server]
routers: [r1, a, b, r2]
links:
  - {ends: [client, r1], delay: 1ms}
  - {ends: [r1, a], delay: 1ms}
  - {ends: [r1, b], delay: 1ms}
  - {ends: [a, r2], delay: 1ms}
  - {ends: [b, r2], delay: 1ms}
  - {ends: [r2, server], delay: 1ms}
workload:
  - {app: bulk, from: client, to: "server:80", connections: 10, bytes: 100KB}
)";
  const auto id = [](const topology::Topology& t, std::string_view name) {
    for (int i = 0; i < t.nodes_size(); ++i)
      if (t.nodes(i).name() == name) return static_cast<std::size_t>(i);
    ADD_FAILURE() << name;
    return std::size_t{0};
  };
  const std::uint64_t all = 10u * 112u;  // as in the star above
  const auto plain = topology::load_string(diamond);
  const auto one = node_work(plain);
  EXPECT_EQ(one[id(plain, "r1")], 1 + all);
  EXPECT_EQ(one[id(plain, "r2")], 1 + all);
  EXPECT_EQ(one[id(plain, "a")] + one[id(plain, "b")], 2 + all) << "one path carries it all";
  EXPECT_TRUE(one[id(plain, "a")] == 1 || one[id(plain, "b")] == 1);
  const auto ecmp = topology::load_string("ecmp: true\n" + diamond);
  const auto shared = node_work(ecmp);
  EXPECT_EQ(shared[id(ecmp, "r1")], 1 + all);
  EXPECT_EQ(shared[id(ecmp, "r2")], 1 + all) << "the two halves meet again";
  EXPECT_EQ(shared[id(ecmp, "a")], 1 + all / 2);
  EXPECT_EQ(shared[id(ecmp, "b")], 1 + all / 2);
  EXPECT_EQ(shared[id(ecmp, "client")], 1 + all);
  EXPECT_EQ(shared[id(ecmp, "server")], 1 + all);
}

TEST(Partition, PinsWin) {
  std::string file = kStar;
  file += "partition: {1: [server, r], 0: [client1]}\n";
  const auto t = topology::load_string(file);
  const Partition p = partition(t, 2);
  EXPECT_EQ(p.rank_of[40], 1u);
  EXPECT_EQ(p.rank_of[41], 1u);
  EXPECT_EQ(p.rank_of[0], 0u);
  try {
    partition(t, 1);
    ADD_FAILURE() << "a pin to rank 1 of a one-rank run";
  } catch (const PartitionError& e) {
    EXPECT_STREQ(e.what(), "partition: 'server' is pinned to rank 1, but the run has ranks 0 to 0");
  }
}

// A link without lookahead is never cut: its ends run in one rank, even if another rank
// is left idle (and so is a rank beyond the nodes there are).
TEST(Partition, ALinkWithoutLookaheadIsKeptWhole) {
  const auto t = topology::load_string(R"(hosts: [a, c]
routers: [b]
links:
  - {ends: [a, b], delay: 10ms, reorder: 25%}
  - {ends: [b, c], delay: 10ms}
)");
  std::uint32_t a = 0, b = 0;
  for (int i = 0; i < t.nodes_size(); ++i) {
    if (t.nodes(i).name() == "a") a = static_cast<std::uint32_t>(i);
    if (t.nodes(i).name() == "b") b = static_cast<std::uint32_t>(i);
  }
  for (const std::uint32_t ranks : {2u, 3u, 5u}) {
    const Partition p = partition(t, ranks);
    EXPECT_EQ(p.rank_of[a], p.rank_of[b]) << ranks << " ranks";
    ASSERT_EQ(p.cut.size(), 1u) << ranks << " ranks";
    EXPECT_EQ(p.cut[0], 1u) << "only the link with lookahead is cut";
    EXPECT_EQ(p.lookahead, Duration::nanoseconds(10'000'000));
    std::uint32_t idle = 0;
    for (std::uint32_t r = 0; r < ranks; ++r) idle += p.hosts[r] + p.routers[r] == 0 ? 1 : 0;
    EXPECT_EQ(idle, ranks - 2) << ranks << " ranks: two groups of nodes, the rest idle";
    if (ranks > 2) {
      EXPECT_NE(describe(t, p).find("idle (more ranks than this network splits into"), std::string::npos)
          << describe(t, p);
    }
  }
}

TEST(Partition, PinsThatCutALinkWithoutLookaheadAreRefusedNamingTheLink) {
  const auto t = topology::load_string(R"(hosts: [a, b]
links:
  - {ends: [a, b], delay: 10ms, reorder: 25%}
partition: {0: [a], 1: [b]}
)");
  try {
    partition(t, 2);
    ADD_FAILURE() << "cut a link where packets may take no time";
  } catch (const PartitionError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("the partition into 2 ranks cuts the link a - b (links[0]), where a packet can take no "
                         "time: reordering (25%): a packet may go at once; ",
                         0),
              0u)
        << what;
    EXPECT_NE(what.find("pin both ends to one rank (partition: {"), std::string::npos) << what;
    EXPECT_NE(what.find(": [a, b]}) or run on fewer ranks"), std::string::npos) << what;
  }
  EXPECT_THROW(partition(t, 0), PartitionError);
}

TEST(Partition, MetisKeepsZeroLookaheadLinksInsideARank) {
  // Two clusters joined by a long link; inside each, links that reorder (no lookahead).
  const auto t = topology::load_string(R"(hosts: ["a[1..6]", "b[1..6]"]
routers: [ra, rb]
links:
  - {ends: ["a*", ra], delay: 1ms, reorder: 10%}
  - {ends: ["b*", rb], delay: 1ms, reorder: 10%}
  - {ends: [ra, rb], delay: 30ms}
workload:
  - {app: bulk, from: "a*", to: "b1:80", bytes: 10KB}
  - {app: bulk, from: "b[2..6]", to: "a1:80", bytes: 10KB}
)");
  const Partition p = partition(t, 2);
  ASSERT_EQ(p.cut.size(), 1u);
  EXPECT_EQ(p.cut[0], 12u) << "only the long link is cut";
  EXPECT_EQ(p.lookahead, 30_ms);
}

TEST(Partition, TheLoaderReadsPinsAndRefusesBadOnes) {
  const std::string net = "hosts: [a, b]\nlinks:\n  - {ends: [a, b], delay: 1ms}\n";
  const auto t = topology::load_string(net + "partition: {0: [a], 3: [b]}\n");
  ASSERT_EQ(t.pins_size(), 2);
  EXPECT_EQ(t.pins(1).node(), 1u);
  EXPECT_EQ(t.pins(1).rank(), 3u);
  const auto error = [&](const std::string& part) {
    try {
      topology::load_string(net + part, "t.yaml");
    } catch (const topology::LoadError& e) {
      return std::string(e.what());
    }
    return std::string("(loaded)");
  };
  EXPECT_EQ(error("partition: {0: [a], 1: [a]}\n"), "t.yaml:4:24: partition.1: 'a' is pinned to rank 0 already");
  EXPECT_EQ(error("partition: {0: [c]}\n"), "t.yaml:4:17: partition.0: no node named 'c'; did you mean 'a'?");
  EXPECT_EQ(error("partition: {x: [a]}\n"), "t.yaml:4:13: partition: expected a whole number, got 'x'");
  EXPECT_EQ(error("partition: [a]\n"),
            "t.yaml:4:12: partition: expected a map of rank to nodes, as in {0: [client*], 1: [server]}, got a list");
}

}  // namespace
}  // namespace shakedown::controller
