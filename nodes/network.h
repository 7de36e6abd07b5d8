// A network: hosts, routers and the links between them, with static routes computed
// once, before the run. controller/build.h builds one from a topology's canonical form
// (with the addresses the loader planned); tests build them in code.
//
// Addresses: a host added without one takes the next of the address plan
// (emulator/address_plan.h: 198.18.0.1, 198.18.0.2, ... of 198.18.0.0/15, in order of
// creation); routers route each host as a /32.
// Routes: shortest paths by total link delay (Dijkstra from every router), ties broken
// by the lower node id of the next hop — or, with ECMP, all equal-cost next hops, one
// chosen per flow by hash. Either way the same network always routes the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "emulator/address_plan.h"
#include "emulator/engine.h"
#include "emulator/link.h"
#include "emulator/packet.h"
#include "nodes/host.h"
#include "nodes/router.h"

namespace shakedown {

class Network {
 public:
  Network(Engine& engine, PacketPool& pool, std::uint64_t run_seed, Observer* observer = nullptr)
      : engine_(engine), pool_(pool), run_seed_(run_seed), observer_(observer) {}
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Node ids are dense, in order of creation, hosts and routers alike.
  std::uint32_t add_host(const std::string& name, const tcp::Config& config = {});
  // A host with an address of its own choosing (throws if another host has it).
  std::uint32_t add_host(const std::string& name, const tcp::Config& config, wire::Ipv4Address address);
  std::uint32_t add_router(const std::string& name);
  // A full-duplex link; `forward` applies from a to b, `backward` from b to a. A host
  // has exactly one link.
  std::uint32_t add_link(std::uint32_t a, std::uint32_t b, const LinkParams& forward, const LinkParams& backward);
  std::uint32_t add_link(std::uint32_t a, std::uint32_t b, const LinkParams& both) {
    return add_link(a, b, both, both);
  }
  // Computes every router's routes. Call once, after the last add_*. With `ecmp`,
  // every equal-cost first hop is kept and each flow picks one by its hash (for
  // multi-path topologies such as fat-trees); without, ties go to the lower node id.
  void build(bool ecmp = false);

  Host& host(std::uint32_t node) { return *nodes_.at(node).host; }
  Router& router(std::uint32_t node) { return *nodes_.at(node).router; }
  Link& link(std::uint32_t id) { return *links_.at(id); }
  wire::Ipv4Address address(std::uint32_t node) const { return nodes_.at(node).address; }
  const std::string& name(std::uint32_t node) const { return nodes_.at(node).name; }
  std::size_t node_count() const { return nodes_.size(); }
  bool is_host(std::uint32_t node) const { return nodes_.at(node).host != nullptr; }
  // Every host, present and future, reports its TCP to this observer (nullptr: none);
  // hosts that run elsewhere report nothing.
  void set_tcp_observer(TcpObserver* observer);
  // The link direction leaving a host (each host has exactly one link).
  std::uint32_t host_link(std::uint32_t host) const { return nodes_.at(host).links.at(0).link; }
  int host_link_direction(std::uint32_t host) const { return nodes_.at(host).links.at(0).direction; }
  std::size_t link_count() const { return links_.size(); }
  // The link a router sends a host's packets on (its route to that address; the first
  // path of several with ECMP); nullopt if it has none. For engines that route the same
  // way (controller/ns3_engine.h).
  std::optional<std::uint32_t> route_link(std::uint32_t router, wire::Ipv4Address destination) const;
  // Takes every link with exactly one end in `group` down (or back up): the group is
  // cut off from the rest of the network, as by a partition of a real one.
  void set_partitioned(const std::vector<std::uint32_t>& group, bool partitioned);

  // A distributed run: every process builds the whole network — the same numbering,
  // routes, random streams and faults everywhere — and runs only its own nodes. A node
  // that runs elsewhere is here only to keep that whole: its host starts no
  // connection and reports nothing (no packet ever reaches it in this process).
  void set_elsewhere(std::uint32_t node);
  bool here(std::uint32_t node) const { return !nodes_.at(node).elsewhere; }
  // A real host (controller/real_hosts.h): elsewhere, and what it sends is its
  // programs' bytes, which no host checks against a generated stream.
  void set_real(std::uint32_t node);

 private:
  struct Attachment {
    std::uint32_t link;
    std::uint32_t peer;
    int direction;  // the direction of `link` that leaves this node
  };
  struct Node {
    std::string name;
    std::unique_ptr<Host> host;
    std::unique_ptr<Router> router;
    wire::Ipv4Address address;  // hosts only
    std::vector<Attachment> links;
    std::vector<std::uint32_t> router_interfaces;  // parallel to links, routers only
    bool elsewhere = false;
  };

  Engine& engine_;
  PacketPool& pool_;
  std::uint64_t run_seed_;
  Observer* observer_;
  TcpObserver* tcp_observer_ = nullptr;
  std::vector<Node> nodes_;
  std::vector<std::unique_ptr<Link>> links_;
  AddressPlan addresses_;  // 198.18.0.0/15, for hosts added without an address
  std::unordered_map<std::uint32_t, std::vector<std::int64_t>> distances_;  // by router, with ECMP
  std::unordered_map<std::uint32_t, std::uint32_t> by_address_;             // host address -> node
  std::vector<std::uint32_t> real_addresses_;                                 // of real hosts: few

  void add_equal_cost_paths();
};

}  // namespace shakedown
