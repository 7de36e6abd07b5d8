// The loader's room for links and generators: a link's two ends and settings, the
// generated topologies, and finding the link between two nodes (faults name links so).
#include "topologies/loader_internal.h"

#include <map>

#include "topologies/generators.h"

namespace shakedown::topology {

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

void Loader::links(const YAML::Node& n) {
  if (!n.IsSequence()) fail(n, "links", fmt::format("expected a list of links, got {}", kind_of(n)));
  std::size_t index = 0;
  for (const YAML::Node& item : n) link(item, index++);
}

void Loader::link(const YAML::Node& item, std::size_t index) { link(item, index, default_forward_, default_backward_); }

void Loader::link(const YAML::Node& item, std::size_t index, Direction forward, Direction backward) {
  const std::string where = fmt::format("links[{}]", index);
  settings::read_sides(*this, item, where, forward, backward, /*with_ends=*/true);
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
    if (item["link"]) settings::read_sides(*this, item["link"], where + ".link", link_fwd, link_bwd);
    if (item["bottleneck"]) {
      if (kind != "dumbbell") fail(item["bottleneck"], where + ".bottleneck", "only a dumbbell has a bottleneck");
      settings::read_sides(*this, item["bottleneck"], where + ".bottleneck", neck_fwd, neck_bwd);
    }
    Tcp host_tcp = default_tcp_;
    if (item["tcp"]) settings::read_tcp(*this, item["tcp"], where + ".tcp", host_tcp);

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

}  // namespace shakedown::topology
