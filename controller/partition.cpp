#include "controller/partition.h"

#include <metis.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <queue>

#include <fmt/format.h>

#include "controller/report.h"
#include "topologies/loader.h"

namespace shakedown::controller {

namespace {

constexpr std::uint64_t kMss = 1448;

Duration ns(std::int64_t n) { return Duration::nanoseconds(n); }

std::string pretty(Duration d) { return d == Duration::zero() ? std::string("0") : to_string(d); }

std::uint64_t segments_of(std::uint64_t bytes) { return (bytes + kMss - 1) / kMss; }

// Segments one connection of a workload puts on the wire, both ways, roughly: the
// handshake and the teardown, each data segment and an ACK for every other one.
std::uint64_t segments_per_connection(const topology::Workload& w) {
  using W = topology::Workload;
  const auto with_acks = [](std::uint64_t data) { return data + (data + 1) / 2; };
  switch (w.app()) {
    case W::CONNECT:
      return 7;
    case W::BULK:
      return 7 + with_acks(segments_of(w.bytes()));
    case W::REQUEST_RESPONSE:
      return 7 + std::uint64_t{w.repetitions()} * with_acks(segments_of(w.request()) + segments_of(w.response()));
    case W::ECHO:
      return 7 + std::uint64_t{w.repetitions()} * with_acks(2 * segments_of(w.request()));
    case W::STREAM: {
      const double bytes = static_cast<double>(w.rate_bps()) / 8 * static_cast<double>(w.duration_ns()) / 1e9;
      return 7 + with_acks(segments_of(static_cast<std::uint64_t>(std::min(bytes, 1e15))));
    }
    case W::SYN_FLOOD:
      return 7;  // a SYN, and the server's SYN-ACK retransmissions
    default:
      return 7;
  }
}

// The neighbours of every node, with the link and its delay (the smaller direction's).
struct Graph {
  struct Edge {
    std::uint32_t to, link;
    std::int64_t delay;
  };
  std::vector<std::vector<Edge>> adj;
  explicit Graph(const topology::Topology& t) : adj(static_cast<std::size_t>(t.nodes_size())) {
    for (int i = 0; i < t.links_size(); ++i) {
      const auto& l = t.links(i);
      const std::int64_t d = std::min(l.forward().delay_ns(), l.backward().delay_ns());
      adj[l.a()].push_back({l.b(), static_cast<std::uint32_t>(i), d});
      adj[l.b()].push_back({l.a(), static_cast<std::uint32_t>(i), d});
    }
  }
  // Shortest delays towards `root` through routers only, as the network routes: each
  // node's next hop (ties to the lower node id), its distance, and the order in which
  // Dijkstra settled the nodes (a next hop is settled before the nodes it serves).
  struct Routes {
    std::vector<std::uint32_t> next;
    std::vector<std::int64_t> dist;
    std::vector<std::uint32_t> settled;
  };
  Routes towards(const topology::Topology& t, std::uint32_t root) const {
    constexpr std::uint32_t kNone = 0xffffffffu;
    std::vector<std::int64_t> dist(adj.size(), INT64_MAX);
    std::vector<std::uint32_t> next(adj.size(), kNone);
    std::vector<std::uint32_t> settled;
    using Item = std::pair<std::int64_t, std::uint32_t>;
    std::priority_queue<Item, std::vector<Item>, std::greater<>> q;
    dist[root] = 0;
    q.push({0, root});
    while (!q.empty()) {
      const auto [d, u] = q.top();
      q.pop();
      if (d != dist[u]) continue;
      settled.push_back(u);
      if (u != root && t.nodes(static_cast<int>(u)).kind() == topology::Node::HOST) continue;  // hosts do not forward
      for (const Edge& e : adj[u]) {
        const std::int64_t nd = d + e.delay;
        if (nd < dist[e.to] || (nd == dist[e.to] && u < next[e.to])) {
          dist[e.to] = nd;
          next[e.to] = u;
          q.push({nd, e.to});
        }
      }
    }
    return Routes{std::move(next), std::move(dist), std::move(settled)};
  }
};

}  // namespace

Lookahead lookahead(const topology::Direction& d) {
  Lookahead l{ns(d.delay_ns()), "its delay"};
  if (d.reorder() > 0) return {Duration::zero(), fmt::format("reordering ({:g}%): a packet may go at once", d.reorder() * 100)};
  if (d.jitter_ns() > 0) {
    if (d.distribution() != topology::Direction::UNIFORM)
      return {Duration::zero(),
              fmt::format("{} jitter: a delay may come out as zero",
                          topology::Direction::Distribution_Name(d.distribution()) == "NORMAL" ? "normal" : "Pareto")};
    const std::int64_t least = std::max<std::int64_t>(0, d.delay_ns() - d.jitter_ns());
    l = {ns(least), fmt::format("{} of uniform jitter off its {} delay", pretty(ns(d.jitter_ns())), pretty(ns(d.delay_ns())))};
  }
  return l;
}

Lookahead link_lookahead(const topology::Topology& t, std::uint32_t link) {
  const auto& l = t.links(static_cast<int>(link));
  Lookahead best = lookahead(l.forward());
  const auto consider = [&](const topology::Direction& d, const std::string& when) {
    Lookahead x = lookahead(d);
    if (x.least < best.least) {
      if (!when.empty()) x.why += " " + when;
      best = x;
    }
  };
  consider(l.backward(), "");
  for (int i = 0; i < t.faults_size(); ++i) {
    const auto& f = t.faults(i);
    if (!f.has_link_set() || f.link_set().link() != link) continue;
    const std::string when = fmt::format("(after faults[{}] at {})", i, pretty(ns(f.at_ns())));
    if (f.link_set().has_forward()) consider(f.link_set().forward(), when);
    if (f.link_set().has_backward()) consider(f.link_set().backward(), when);
  }
  // A link a fault takes down loses what is in flight on it at that instant; split
  // between two processes, its far end holds those packets and learns of the fault
  // too late. Until that is carried across, such a link stays whole.
  for (int i = 0; i < t.faults_size() && best.least > Duration::zero(); ++i) {
    const auto& f = t.faults(i);
    bool down = false;
    if (f.has_link_down()) down = f.link_down().link() == link;
    if (f.has_link_set() && f.link_set().link() == link)
      down = (f.link_set().has_forward() && f.link_set().forward().down()) ||
             (f.link_set().has_backward() && f.link_set().backward().down());
    if (f.has_partition()) {
      const auto& g = f.partition().nodes();
      const bool a_in = std::find(g.begin(), g.end(), l.a()) != g.end();
      const bool b_in = std::find(g.begin(), g.end(), l.b()) != g.end();
      down = a_in != b_in;
    }
    if (down)
      best = Lookahead{Duration::zero(), fmt::format("faults[{}] takes it down at {}, losing what is in flight on it, "
                                                     "which cannot yet be done across processes",
                                                     i, pretty(ns(f.at_ns())))};
  }
  return best;
}

namespace {

// Nodes joined by links without lookahead run in one rank: such a link cannot be cut.
// Each group goes to the rank its pins name (when they name one) or else to the rank
// holding most of its work. Pins that name two ranks are left as they are: the cut is
// then refused, naming the link.
void keep_whole(const topology::Topology& t, const Graph& g, const std::vector<std::int64_t>& link_least,
                const std::vector<std::uint64_t>& work, std::vector<std::uint32_t>& rank_of) {
  const auto n = static_cast<std::uint32_t>(rank_of.size());
  std::vector<std::uint32_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0u);
  const auto root = [&parent](std::uint32_t u) {
    while (parent[u] != u) u = parent[u] = parent[parent[u]];
    return u;
  };
  bool any = false;
  for (std::uint32_t u = 0; u < n; ++u)
    for (const auto& e : g.adj[u])
      if (link_least[e.link] <= 0 && e.to != u) {
        parent[root(u)] = root(e.to);
        any = true;
      }
  if (!any) return;
  std::vector<std::int64_t> pinned_to(n, -1);  // by group root: -1 none, -2 several
  for (const auto& p : t.pins()) {
    std::int64_t& x = pinned_to[root(p.node())];
    x = x == -1 || x == static_cast<std::int64_t>(p.rank()) ? static_cast<std::int64_t>(p.rank()) : -2;
  }
  std::vector<std::map<std::uint32_t, std::uint64_t>> share(n);  // by group root: work by rank
  for (std::uint32_t u = 0; u < n; ++u) share[root(u)][rank_of[u]] += work[u];
  for (std::uint32_t u = 0; u < n; ++u) {
    const std::uint32_t r = root(u);
    if (share[r].size() < 2 || pinned_to[r] == -2) continue;
    if (pinned_to[r] >= 0) {
      rank_of[u] = static_cast<std::uint32_t>(pinned_to[r]);
      continue;
    }
    const auto most = std::max_element(share[r].begin(), share[r].end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    rank_of[u] = most->first;
  }
}

std::vector<std::uint64_t> work_on(const topology::Topology& t, const Graph& g) {
  std::vector<std::uint64_t> work(static_cast<std::size_t>(t.nodes_size()), 1);
  std::vector<std::uint32_t> servers;
  for (const auto& w : t.workloads()) servers.push_back(w.server());
  std::sort(servers.begin(), servers.end());
  servers.erase(std::unique(servers.begin(), servers.end()), servers.end());
  // Routers on the way: only while that stays cheap (the routes to each server).
  const bool paths = servers.size() <= 1000;
  const std::size_t n = work.size();
  std::vector<double> carried(n, 0.0);  // by routers
  std::vector<double> flow(n);
  std::vector<std::uint32_t> rank_in(n);
  for (const std::uint32_t server : servers) {
    std::fill(flow.begin(), flow.end(), 0.0);
    for (const auto& w : t.workloads()) {
      if (w.server() != server) continue;
      const std::uint64_t per_client = std::uint64_t{w.connections()} * segments_per_connection(w);
      for (const std::uint32_t c : w.clients()) {
        work[c] += per_client;
        work[server] += per_client;
        flow[c] += static_cast<double>(per_client);
      }
    }
    if (!paths) continue;
    // Each node's traffic goes on to its next hop — with ECMP, shared evenly by every
    // neighbour on a shortest path, as the routers share flows — farthest nodes first.
    const Graph::Routes r = g.towards(t, server);
    for (std::uint32_t i = 0; i < r.settled.size(); ++i) rank_in[r.settled[i]] = i;
    std::vector<std::uint32_t> hops;
    for (std::size_t i = r.settled.size(); i-- > 0;) {
      const std::uint32_t u = r.settled[i];
      if (u == server || flow[u] == 0.0) continue;
      hops.clear();
      if (t.ecmp()) {
        for (const auto& e : g.adj[u]) {
          const bool forwards = e.to == server || t.nodes(static_cast<int>(e.to)).kind() != topology::Node::HOST;
          if (forwards && r.dist[e.to] != INT64_MAX && r.dist[e.to] + e.delay == r.dist[u] && rank_in[e.to] < i &&
              std::find(hops.begin(), hops.end(), e.to) == hops.end())
            hops.push_back(e.to);
        }
      } else if (r.next[u] < n) {
        hops.push_back(r.next[u]);
      }
      for (const std::uint32_t v : hops) {
        const double share = flow[u] / static_cast<double>(hops.size());
        if (v == server) continue;
        carried[v] += share;
        flow[v] += share;
      }
    }
  }
  for (std::size_t u = 0; u < n; ++u) work[u] += static_cast<std::uint64_t>(std::llround(carried[u]));
  return work;
}

}  // namespace

std::vector<std::uint64_t> node_work(const topology::Topology& t) { return work_on(t, Graph(t)); }

double Partition::imbalance() const {
  const std::uint64_t total = std::accumulate(weight.begin(), weight.end(), std::uint64_t{0});
  if (total == 0 || weight.empty()) return 1.0;
  const double mean = static_cast<double>(total) / static_cast<double>(weight.size());
  return static_cast<double>(*std::max_element(weight.begin(), weight.end())) / mean;
}

Partition partition(const topology::Topology& t, std::uint32_t ranks) {
  const auto n = static_cast<std::uint32_t>(t.nodes_size());
  if (ranks == 0) throw PartitionError("a run needs at least one rank");
  if (ranks > topology::kMaxRanks) throw PartitionError(fmt::format("{} ranks: at most {}", ranks, topology::kMaxRanks));
  for (const auto& p : t.pins())
    if (p.rank() >= ranks)
      throw PartitionError(fmt::format("partition: '{}' is pinned to rank {}, but the run has ranks 0 to {}",
                                       t.nodes(static_cast<int>(p.node())).name(), p.rank(), ranks - 1));
  Partition out;
  out.ranks = ranks;
  out.rank_of.assign(n, 0);
  // The graph and every link's lookahead, once: METIS, the balancing and the cut use them.
  const Graph g(t);
  const std::vector<std::uint64_t> work = work_on(t, g);
  std::vector<std::int64_t> link_least(static_cast<std::size_t>(t.links_size()));
  for (int i = 0; i < t.links_size(); ++i) link_least[i] = link_lookahead(t, static_cast<std::uint32_t>(i)).least.ns();

  if (ranks > 1) {
    // METIS's weights are 32-bit: scale the work so that its total stays below 2^30.
    const std::uint64_t total = std::accumulate(work.begin(), work.end(), std::uint64_t{0});
    const double scale = total > (1u << 30) ? static_cast<double>(1u << 30) / static_cast<double>(total) : 1.0;
    std::vector<idx_t> xadj(n + 1, 0), adjncy, vwgt(n), adjwgt;
    for (std::uint32_t u = 0; u < n; ++u) {
      vwgt[u] = static_cast<idx_t>(std::max(1.0, std::round(static_cast<double>(work[u]) * scale)));
      for (const auto& e : g.adj[u]) {
        if (e.to == u) continue;
        adjncy.push_back(static_cast<idx_t>(e.to));
        // A link with less lookahead is dearer to cut (windows shrink to it); one with
        // none is as dear as METIS allows.
        const std::int64_t least = link_least[e.link];
        adjwgt.push_back(least <= 0 ? 1'000'000 : static_cast<idx_t>(std::clamp<std::int64_t>(1'000'000'000 / least, 1, 100'000)));
      }
      xadj[u + 1] = static_cast<idx_t>(adjncy.size());
    }
    // More ranks than nodes: the rest are idle.
    idx_t nv = static_cast<idx_t>(n), ncon = 1, nparts = static_cast<idx_t>(std::min(ranks, n)), objval = 0;
    idx_t options[METIS_NOPTIONS];
    METIS_SetDefaultOptions(options);
    options[METIS_OPTION_SEED] = 1;  // the same file partitions the same way
    options[METIS_OPTION_NUMBERING] = 0;
    std::vector<idx_t> part(n, 0);
    // k-way: it keeps the balance (1.03) where recursive bisection trades it for a
    // smaller cut, and a rank's work is what decides a window's length.
    const int rc = nparts == 1 ? METIS_OK : METIS_PartGraphKway(&nv, &ncon, xadj.data(), adjncy.empty() ? nullptr : adjncy.data(), vwgt.data(), nullptr,
                          adjwgt.empty() ? nullptr : adjwgt.data(), &nparts, nullptr, nullptr, options, &objval,
                          part.data());
    if (rc != METIS_OK) throw PartitionError(fmt::format("METIS could not partition the topology (code {})", rc));
    // Pins win. METIS's part numbers are arbitrary: first give each part the rank its
    // pinned nodes agree on most, so that pins move as few nodes as possible.
    std::vector<std::uint32_t> label(ranks);
    std::iota(label.begin(), label.end(), 0u);
    if (t.pins_size() > 0) {
      std::vector<std::vector<std::uint64_t>> agree(ranks, std::vector<std::uint64_t>(ranks, 0));
      for (const auto& p : t.pins()) ++agree[static_cast<std::size_t>(part[p.node()])][p.rank()];
      std::vector<bool> part_done(ranks, false), rank_done(ranks, false);
      for (std::uint32_t round = 0; round < ranks; ++round) {
        std::uint32_t bp = 0, br = 0;
        std::int64_t best = -1;
        for (std::uint32_t a = 0; a < ranks; ++a)
          for (std::uint32_t r = 0; r < ranks; ++r)
            if (!part_done[a] && !rank_done[r] && static_cast<std::int64_t>(agree[a][r]) > best) {
              best = static_cast<std::int64_t>(agree[a][r]);
              bp = a;
              br = r;
            }
        part_done[bp] = rank_done[br] = true;
        label[bp] = br;
      }
    }
    for (std::uint32_t u = 0; u < n; ++u) out.rank_of[u] = label[static_cast<std::size_t>(part[u])];
  }
  for (const auto& p : t.pins()) out.rank_of[p.node()] = p.rank();
  keep_whole(t, g, link_least, work, out.rank_of);
  // METIS keeps its balance (1.03) on even weights; a star's server and router each
  // carry a third of the work, and it may put both in one rank. A few greedy moves
  // after it: the heaviest movable node of the busiest rank that fits the gap goes to
  // the idlest, never one with a link that has no lookahead.
  if (ranks > 1) {
    std::vector<bool> fixed(n, false);
    for (const auto& p : t.pins()) fixed[p.node()] = true;
    for (std::uint32_t u = 0; u < n; ++u)
      for (const auto& e : g.adj[u])
        if (link_least[e.link] <= 0) fixed[u] = true;
    std::vector<std::uint64_t> load(ranks, 0);
    for (std::uint32_t u = 0; u < n; ++u) load[out.rank_of[u]] += work[u];
    const std::uint64_t total = std::accumulate(load.begin(), load.end(), std::uint64_t{0});
    // Each move scans the nodes: bounded so that a million-node topology spends well
    // under a second here.
    const std::uint64_t moves = std::max<std::uint64_t>(64, 100'000'000 / std::max<std::uint32_t>(n, 1));
    for (std::uint64_t move = 0; move < moves; ++move) {
      const auto busiest = static_cast<std::uint32_t>(std::max_element(load.begin(), load.end()) - load.begin());
      const auto idlest = static_cast<std::uint32_t>(std::min_element(load.begin(), load.end()) - load.begin());
      if (static_cast<double>(load[busiest]) <= 1.05 * static_cast<double>(total) / ranks) break;
      const std::uint64_t gap = load[busiest] - load[idlest];
      std::optional<std::uint32_t> best;
      for (std::uint32_t u = 0; u < n; ++u)
        if (out.rank_of[u] == busiest && !fixed[u] && work[u] < gap && (!best || work[u] > work[*best])) best = u;
      if (!best) break;
      out.rank_of[*best] = idlest;
      load[busiest] -= work[*best];
      load[idlest] += work[*best];
    }
  }
  // An empty rank takes the last node of the rank with the most that may move (not
  // pinned, no link without lookahead); with none, it stays idle — it still takes part
  // in every window, with nothing to run.
  std::vector<bool> movable(n, true);
  for (const auto& p : t.pins()) movable[p.node()] = false;
  for (std::uint32_t u = 0; u < n; ++u)
    for (const auto& e : g.adj[u])
      if (link_least[e.link] <= 0) movable[u] = false;
  for (std::uint32_t r = 0; r < ranks; ++r) {
    std::vector<std::uint32_t> count(ranks, 0);
    for (const std::uint32_t x : out.rank_of) ++count[x];
    if (count[r] > 0) continue;
    const auto most = static_cast<std::uint32_t>(std::max_element(count.begin(), count.end()) - count.begin());
    if (count[most] < 2) break;
    for (std::uint32_t u = n; u-- > 0;)
      if (out.rank_of[u] == most && movable[u]) {
        out.rank_of[u] = r;
        break;
      }
  }

  out.weight.assign(ranks, 0);
  out.hosts.assign(ranks, 0);
  out.routers.assign(ranks, 0);
  for (std::uint32_t u = 0; u < n; ++u) {
    const std::uint32_t r = out.rank_of[u];
    out.weight[r] += work[u];
    (t.nodes(static_cast<int>(u)).kind() == topology::Node::HOST ? out.hosts : out.routers)[r] += 1;
  }
  for (int i = 0; i < t.links_size(); ++i) {
    const auto& l = t.links(i);
    if (out.rank_of[l.a()] == out.rank_of[l.b()]) continue;
    out.cut.push_back(static_cast<std::uint32_t>(i));
    const Lookahead la = link_lookahead(t, static_cast<std::uint32_t>(i));
    if (la.least < out.lookahead) {
      out.lookahead = la.least;
      out.lookahead_link = static_cast<std::uint32_t>(i);
      out.lookahead_why = la.why;
    }
    if (la.least <= Duration::zero()) {
      const std::string a = t.nodes(static_cast<int>(l.a())).name(), b = t.nodes(static_cast<int>(l.b())).name();
      throw PartitionError(fmt::format(
          "the partition into {} ranks cuts the link {} - {} (links[{}]), where a packet can take no time: {}; "
          "pin both ends to one rank (partition: {{{}: [{}, {}]}}) or run on fewer ranks",
          ranks, a, b, i, la.why, out.rank_of[l.a()], a, b));
    }
  }
  return out;
}

std::string describe(const topology::Topology& t, const Partition& p) {
  std::string s = fmt::format("{} into {} rank{} (METIS{}):\n", t.name().empty() ? "the topology" : t.name(),
                              p.ranks, p.ranks == 1 ? "" : "s", t.pins_size() > 0 ? ", with the file's pins" : "");
  const auto plural = [](std::uint64_t k, const char* one, const char* many) {
    return fmt::format("{} {}", thousands(k), k == 1 ? one : many);
  };
  const std::uint64_t total = std::accumulate(p.weight.begin(), p.weight.end(), std::uint64_t{0});
  for (std::uint32_t r = 0; r < p.ranks; ++r)
    if (p.hosts[r] + p.routers[r] == 0) {
      s += fmt::format("  rank {}: idle (more ranks than this network splits into: too few nodes, or nodes joined by links without lookahead)\n", r);
    } else {
      s += fmt::format("  rank {}: {}, {}, estimated work {} ({:.1f}%)\n", r, plural(p.hosts[r], "host", "hosts"),
                     plural(p.routers[r], "router", "routers"), thousands(p.weight[r]),
                     total == 0 ? 0.0 : 100.0 * static_cast<double>(p.weight[r]) / static_cast<double>(total));
    }
  s += fmt::format("  balance: the busiest rank has {:.2f} times the mean work\n", p.imbalance());
  if (p.cut.empty()) {
    s += "  cut: no link (the ranks share no traffic)\n";
  } else {
    const auto& l = t.links(static_cast<int>(*p.lookahead_link));
    s += fmt::format("  cut: {} link{}; lookahead {}, from {} - {}: {}\n", thousands(p.cut.size()), p.cut.size() == 1 ? "" : "s",
                     pretty(p.lookahead), t.nodes(static_cast<int>(l.a())).name(), t.nodes(static_cast<int>(l.b())).name(),
                     p.lookahead_why);
  }
  return s;
}

}  // namespace shakedown::controller
