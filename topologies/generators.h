// Generators for topologies at scale: star, line, ring, dumbbell, k-ary tree,
// fat-tree and seeded random graphs. Each returns nodes and links by name; the loader
// adds them to the topology beside the hand-written parts, which may link to them.
//
// Names: a group "client" with count 3 gives client1, client2, client3 (the same as
// the range client[1..3] in a file), so `client*` names them all.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shakedown::topology::generate {

struct Graph {
  struct Node {
    std::string name;
    bool router = false;
    std::string group;  // empty for a single node
  };
  struct Link {
    std::uint32_t a = 0;  // indices into nodes
    std::uint32_t b = 0;
    bool bottleneck = false;  // the dumbbell's middle link
  };
  std::vector<Node> nodes;
  std::vector<Link> links;
};

// Throws std::invalid_argument for parameters that make no such graph, and for a graph
// of more than `max_nodes` nodes (checked before anything is built).
Graph star(const std::string& hub, const std::string& hosts, std::uint64_t count, std::uint64_t max_nodes);
// Routers group1 .. groupN in a chain (closed into a ring with `ring`); with `hosts`,
// one host per router.
Graph line(const std::string& routers, std::uint64_t count, const std::string& hosts, bool ring,
           std::uint64_t max_nodes);
// left hosts -- left router == bottleneck == right router -- right hosts.
Graph dumbbell(const std::string& left, std::uint64_t left_count, const std::string& right, std::uint64_t right_count,
               const std::string& left_router, const std::string& right_router, std::uint64_t max_nodes);
// A complete `fanout`-ary tree of routers `depth` levels deep (numbered breadth-first
// from the root), with `fanout` hosts under each leaf router.
Graph tree(std::uint64_t depth, std::uint64_t fanout, const std::string& routers, const std::string& hosts,
           std::uint64_t max_nodes);
// The k-ary fat-tree of Al-Fares et al. (SIGCOMM 2008): (k/2)^2 core switches; k pods
// of k/2 aggregation and k/2 edge switches; k/2 hosts per edge switch (k^3/4 hosts).
// Groups: PREFIXcore, PREFIXagg, PREFIXedge, PREFIXhost. k even, at least 2.
Graph fat_tree(std::uint64_t k, const std::string& prefix, std::uint64_t max_nodes);
// A connected random graph of `count` routers and `links` router-router links: a
// random tree (each router joins a uniformly chosen earlier one), then distinct extra
// pairs drawn uniformly; with `hosts`, one host per router. Same seed, same graph.
Graph random(const std::string& routers, std::uint64_t count, const std::string& hosts, std::uint64_t links,
             std::uint64_t seed, std::uint64_t max_nodes);

}  // namespace shakedown::topology::generate
