// The loader's room for names, references and addresses: hosts and routers by name or
// range, groups, references to them ("client*", "client[2..5]"), the address plan, and
// which hosts can reach which.
#include "topologies/loader_internal.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <unordered_map>

#include "emulator/address_plan.h"

namespace shakedown::topology {

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
  std::optional<std::string> netns;  // a real host's
  if (body && !body.IsNull()) {
    if (kind == Node::ROUTER) {
      for_each_key(body, where, {}, [](const std::string&, const YAML::Node&, const std::string&) {});
    } else {
      for_each_key(body, where, {"tcp", "address", "real"}, [&](const std::string& k, const YAML::Node& v,
                                                                 const std::string& path) {
        if (k == "tcp") settings::read_tcp(*this, v, path, tcp_here);
        if (k == "real") {
          if (names.size() != 1) fail(v, path, "a range of hosts cannot share one real host's namespace");
          std::string ns;
          for_each_key(v, path, {"netns"}, [&](const std::string&, const YAML::Node& n, const std::string& at) {
            ns = scalar(n, at, "a network namespace name such as sd-laptop");
          });
          // What `ip netns` accepts, and short enough to name a device after.
          const bool fine = !ns.empty() && ns.size() <= 32 && ns != "." && ns != ".." &&
                            std::all_of(ns.begin(), ns.end(), [](char c) {
                              return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' ||
                                     c == '.';
                            });
          if (!fine)
            fail(v, path + ".netns",
                 "a real host needs netns: a name of up to 32 letters, digits, '-', '_' or '.', such as sd-laptop");
          netns = ns;
        }
        if (k == "address") {
          if (names.size() != 1) fail(v, path, "a range of hosts cannot share one address");
          const auto a = parse_ipv4(scalar(v, path, "an IPv4 address such as 198.18.0.10"));
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
    if (netns) topo_.mutable_nodes(static_cast<int>(id))->mutable_real()->set_netns(*netns);
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

std::uint32_t Loader::one_node(const YAML::Node& n, const std::string& key) {
  const auto ids = resolve(n, key);
  if (ids.size() != 1) fail(n, key, fmt::format("names {} nodes; expected exactly one", ids.size()));
  return ids.front();
}

// Every host without an address of its own gets the next free one of the plan, in
// file order; an address given twice, or a plan too small, is an error.
void Loader::assign_addresses(const YAML::Node& hosts_at, const YAML::Node& plan) {
  AddressPrefix prefix;  // 198.18.0.0/15, the benchmarking range (RFC 2544)
  if (plan) {
    try {
      prefix = AddressPrefix::parse(scalar(plan, "addresses", "a prefix such as 198.18.0.0/15"));
    } catch (const std::invalid_argument& e) {
      fail(plan, "addresses", e.what());
    }
  }
  std::unordered_map<std::uint32_t, std::string> taken;
  for (const Node& n : topo_.nodes()) {
    if (n.kind() != Node::HOST || n.address() == 0) continue;
    const auto [it, fresh] = taken.emplace(n.address(), n.name());
    if (!fresh)
      fail(explicit_at_.at(n.name()), "hosts." + n.name() + ".address",
           fmt::format("{} is already the address of '{}'", format_ipv4(n.address()), it->second));
  }
  AddressPlan addresses(prefix);
  for (Node& n : *topo_.mutable_nodes()) {
    if (n.kind() != Node::HOST || n.address() != 0) continue;
    const auto a = addresses.next([&](std::uint32_t x) { return taken.contains(x); });
    if (!a)
      fail(plan ? plan : hosts_at, "addresses",
           fmt::format("the address plan {} has no address left for host '{}'", prefix.to_string(), n.name()));
    n.set_address(*a);
  }
}

// Hosts do not forward: a server is reachable from a client when a path of routers
// joins their links.
void Loader::check_reachable() {
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
        fail(workload_at_[static_cast<std::size_t>(i)], fmt::format("workload[{}]", i),
             fmt::format("'{}' cannot reach '{}': no path of links and routers joins them",
                         topo_.nodes(static_cast<int>(c)).name(), topo_.nodes(static_cast<int>(w.server())).name()));
  }
}

// `partition: {0: [client*, r1], 1: [server]}`: a rank is a whole number below
// kMaxRanks; a node is pinned once.
void Loader::pins(const YAML::Node& n) {
  if (!n.IsMap()) fail(n, "partition", fmt::format("expected a map of rank to nodes, as in {{0: [client*], 1: [server]}}, got {}", kind_of(n)));
  std::unordered_map<std::uint32_t, std::uint32_t> rank_of;
  for (const auto& kv : n) {
    const YAML::Node key = kv.first;
    const auto rank = static_cast<std::uint32_t>(integer(key, "partition", 0, kMaxRanks - 1));
    const std::string where = fmt::format("partition.{}", rank);
    for (const std::uint32_t node : resolve(kv.second, where)) {
      const auto [it, fresh] = rank_of.emplace(node, rank);
      if (!fresh)
        fail(kv.second, where,
             fmt::format("'{}' is pinned to rank {} already", topo_.nodes(static_cast<int>(node)).name(), it->second));
      Pin* p = topo_.add_pins();
      p->set_node(node);
      p->set_rank(rank);
    }
  }
}

}  // namespace shakedown::topology
