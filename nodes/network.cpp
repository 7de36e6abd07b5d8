#include "nodes/network.h"

#include <limits>
#include <queue>
#include <stdexcept>

#include <fmt/format.h>

namespace shakedown {

std::uint32_t Network::add_host(const std::string& name, const tcp::Config& config) {
  const auto a = addresses_.next([&](std::uint32_t x) { return by_address_.contains(x); });
  if (!a)
    throw std::length_error(
        fmt::format("the address plan {} has no address left for host '{}'", addresses_.prefix().to_string(), name));
  return add_host(name, config, wire::Ipv4Address{*a});
}

std::uint32_t Network::add_host(const std::string& name, const tcp::Config& config, wire::Ipv4Address address) {
  const auto id = static_cast<std::uint32_t>(nodes_.size());
  if (!by_address_.emplace(address.value, id).second)
    throw std::invalid_argument(fmt::format("host '{}' cannot have address {}: host '{}' has it", name,
                                            wire::to_string(address), nodes_[by_address_.at(address.value)].name));
  Node n;
  n.name = name;
  n.address = address;
  n.host = std::make_unique<Host>(engine_, pool_, id, n.address, config, run_seed_, observer_);
  n.host->set_unchecked_peers(&real_addresses_);
  n.host->set_tcp_observer(tcp_observer_);
  nodes_.push_back(std::move(n));
  return id;
}

std::uint32_t Network::add_router(const std::string& name) {
  const auto id = static_cast<std::uint32_t>(nodes_.size());
  Node n;
  n.name = name;
  n.router = std::make_unique<Router>(engine_, id, observer_);
  nodes_.push_back(std::move(n));
  return id;
}

std::uint32_t Network::add_link(std::uint32_t a, std::uint32_t b, const LinkParams& forward,
                                const LinkParams& backward) {
  if (a >= nodes_.size() || b >= nodes_.size() || a == b)
    throw std::invalid_argument(fmt::format("a link needs two distinct existing nodes, not {} and {}", a, b));
  const auto id = static_cast<std::uint32_t>(links_.size());
  links_.push_back(std::make_unique<Link>(engine_, pool_, run_seed_, id, forward, backward));
  Link& l = *links_.back();
  if (observer_ != nullptr) l.set_observer(observer_);
  const std::uint32_t ends[2] = {a, b};
  for (int side = 0; side < 2; ++side) {
    Node& n = nodes_[ends[side]];
    LinkDirection& out = l.direction(side);     // leaves this end
    LinkDirection& in = l.direction(1 - side);  // arrives at this end
    n.links.push_back(Attachment{id, ends[1 - side], side});
    if (n.host) {
      if (n.links.size() > 1) throw std::invalid_argument("host '" + n.name + "' already has a link");
      n.host->attach(out);
      in.set_receiver(&n.host->input());
    } else {
      const auto iface = n.router->add_interface(out);
      n.router_interfaces.push_back(iface);
      in.set_receiver(&n.router->input(iface));
    }
  }
  return id;
}

void Network::set_partitioned(const std::vector<std::uint32_t>& group, bool partitioned) {
  std::vector<bool> inside(nodes_.size(), false);
  for (std::uint32_t n : group) inside.at(n) = true;
  // Each link a step of its own (engine.h): in a distributed run they may be in
  // different processes, and their traces must fall in this order.
  std::uint32_t step = engine_.running_step();
  for (std::uint32_t n = 0; n < nodes_.size(); ++n) {
    if (!inside[n]) continue;
    for (const Attachment& at : nodes_[n].links)
      if (!inside[at.peer]) {
        engine_.set_running_step(++step);
        links_[at.link]->hold_down(partitioned);
      }
  }
}

void Network::build(bool ecmp) {
  const std::size_t n = nodes_.size();
  constexpr std::int64_t kInfinity = std::numeric_limits<std::int64_t>::max();
  for (std::uint32_t source = 0; source < n; ++source) {
    if (!nodes_[source].router) continue;
    // Dijkstra from this router; first_hop[v] is the attachment index leaving `source`.
    std::vector<std::int64_t> dist(n, kInfinity);
    std::vector<int> first_hop(n, -1);
    std::vector<std::uint32_t> first_peer(n, std::numeric_limits<std::uint32_t>::max());
    using Item = std::pair<std::int64_t, std::uint32_t>;
    std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
    dist[source] = 0;
    queue.push({0, source});
    while (!queue.empty()) {
      const auto [d, u] = queue.top();
      queue.pop();
      if (d != dist[u]) continue;
      if (u != source && nodes_[u].host) continue;  // hosts do not forward
      for (std::size_t k = 0; k < nodes_[u].links.size(); ++k) {
        const Attachment& at = nodes_[u].links[k];
        const std::int64_t w = links_[at.link]->direction(at.direction).params().delay.delay.ns();
        const std::int64_t nd = d + w;
        const int hop = u == source ? static_cast<int>(k) : first_hop[u];
        const std::uint32_t peer = u == source ? at.peer : first_peer[u];
        // Ties: the path whose first hop goes to the lower node id wins.
        if (nd < dist[at.peer] || (nd == dist[at.peer] && peer < first_peer[at.peer])) {
          dist[at.peer] = nd;
          first_hop[at.peer] = hop;
          first_peer[at.peer] = peer;
          queue.push({nd, at.peer});
        }
      }
    }
    Node& r = nodes_[source];
    for (std::uint32_t v = 0; v < n; ++v) {
      if (!nodes_[v].host || first_hop[v] < 0) continue;
      r.router->routes().add(Prefix{nodes_[v].address, 32},
                             r.router_interfaces[static_cast<std::size_t>(first_hop[v])]);
    }
    if (ecmp) distances_[source] = std::move(dist);
  }
  if (ecmp) add_equal_cost_paths();
}

std::optional<std::uint32_t> Network::route_link(std::uint32_t router, wire::Ipv4Address destination) const {
  const Node& r = nodes_.at(router);
  if (!r.router) return std::nullopt;
  const std::optional<Route> route = r.router->routes().lookup(destination);
  if (!route) return std::nullopt;
  for (std::size_t k = 0; k < r.router_interfaces.size(); ++k)
    if (r.router_interfaces[k] == route->interface) return r.links[k].link;
  return std::nullopt;
}

// With every router's distances known, a first hop k from router s towards host v is
// on a shortest path when w(k) + dist(peer, v) == dist(s, v).
void Network::add_equal_cost_paths() {
  constexpr std::int64_t kInfinity = std::numeric_limits<std::int64_t>::max();
  const std::size_t n = nodes_.size();
  for (std::uint32_t s = 0; s < n; ++s) {
    if (!nodes_[s].router) continue;
    const auto& ds = distances_.at(s);
    for (std::uint32_t v = 0; v < n; ++v) {
      if (!nodes_[v].host || ds[v] == kInfinity) continue;
      std::vector<std::uint32_t> hops;
      for (std::size_t k = 0; k < nodes_[s].links.size(); ++k) {
        const Attachment& at = nodes_[s].links[k];
        const std::int64_t w = links_[at.link]->direction(at.direction).params().delay.delay.ns();
        std::int64_t rest = kInfinity;
        if (at.peer == v) {
          rest = 0;
        } else if (nodes_[at.peer].router) {
          rest = distances_.at(at.peer)[v];
        }
        if (rest != kInfinity && w + rest == ds[v]) hops.push_back(nodes_[s].router_interfaces[k]);
      }
      if (hops.size() > 1) nodes_[s].router->routes().add_multipath(Prefix{nodes_[v].address, 32}, hops);
    }
  }
}

}  // namespace shakedown

namespace shakedown {

void Network::set_elsewhere(std::uint32_t node) {
  Node& n = nodes_.at(node);
  n.elsewhere = true;
  if (n.host) n.host->set_tcp_observer(nullptr);
}

void Network::set_real(std::uint32_t node) {
  set_elsewhere(node);
  real_addresses_.push_back(nodes_.at(node).address.value);
}

void Network::set_tcp_observer(TcpObserver* observer) {
  tcp_observer_ = observer;
  for (Node& n : nodes_)
    if (n.host) n.host->set_tcp_observer(n.elsewhere ? nullptr : observer);
}

}  // namespace shakedown
