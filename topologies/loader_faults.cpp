// The loader's room for the fault schedule and the expectations.
#include "topologies/loader_internal.h"

#include "topologies/expect.h"

namespace shakedown::topology {

void Loader::faults(const YAML::Node& n) {
  if (!n.IsSequence()) fail(n, "faults", fmt::format("expected a list of faults, got {}", kind_of(n)));
  std::size_t index = 0;
  for (const YAML::Node& item : n) fault(item, index++);
}

void Loader::fault(const YAML::Node& item, std::size_t index) {
  const std::string where = fmt::format("faults[{}]", index);
  static const std::vector<std::string_view> keys = {
      "at",    "link",      "direction", "down",      "set",   "partition", "for",
      "crash", "restart",   "match",     "drop",      "delay", "duplicate", "corrupt", "during"};
  for_each_key(item, where, keys, [](const std::string&, const YAML::Node&, const std::string&) {});
  Fault* f = topo_.add_faults();
  {
    YAML::Emitter out;
    out << YAML::Flow << item;
    f->set_description(out.c_str());
  }
  if (item["at"]) f->set_at_ns(duration_ns(item["at"], where + ".at"));
  if (f->at_ns() < 0) fail(item["at"], where + ".at", "a fault cannot happen before the run starts");
  auto duration_or_forever = [&](const YAML::Node& v, const std::string& key) -> std::int64_t {
    if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "forever")) return 0;
    const std::int64_t d = duration_ns(v, key);
    if (d <= 0) fail(v, key, "must be more than zero (or 'forever')");
    return d;
  };
  const int kinds = (item["down"] ? 1 : 0) + (item["set"] ? 1 : 0) + (item["partition"] ? 1 : 0) +
                    (item["crash"] ? 1 : 0) + (item["match"] ? 1 : 0);
  if (kinds != 1)
    fail(item, where,
         kinds == 0 ? "a fault needs one of: down, set, partition, crash, match"
                    : "a fault does one thing: give only one of down, set, partition, crash, match");
  auto only_with = [&](std::string_view key, bool allowed, std::string_view with) {
    if (item[std::string(key)] && !allowed)
      fail(item[std::string(key)], where + "." + std::string(key), fmt::format("goes only with '{}'", with));
  };
  const bool is_down = static_cast<bool>(item["down"]), is_set = static_cast<bool>(item["set"]);
  const bool is_match = static_cast<bool>(item["match"]);
  only_with("for", static_cast<bool>(item["partition"]), "partition");
  only_with("restart", static_cast<bool>(item["crash"]), "crash");
  only_with("direction", is_set, "set");
  for (const char* action : {"drop", "delay", "duplicate", "corrupt", "during"}) only_with(action, is_match, "match");
  only_with("link", is_down || is_set, "down or set (a match names its link inside)");
  if (item["down"] || item["set"]) {
    if (!item["link"]) fail(item, where, "needs 'link: [A, B]'");
    const auto [link, dir] = find_link(item["link"], where + ".link");
    if (item["down"]) {
      f->mutable_link_down()->set_link(link);
      f->mutable_link_down()->set_duration_ns(duration_or_forever(item["down"], where + ".down"));
    } else {
      auto* set = f->mutable_link_set();
      set->set_link(link);
      std::string which = "both";
      if (item["direction"]) which = scalar(item["direction"], where + ".direction", "forward, backward or both");
      if (which != "forward" && which != "backward" && which != "both")
        fail(item["direction"], where + ".direction",
             fmt::format("expected forward (as the link is written here), backward or both, got '{}'", which));
      // "forward" is from the first end named in this fault.
      const bool fwd = which != "backward", bwd = which != "forward";
      const Link& l = topo_.links(static_cast<int>(link));
      if (fwd) {
        Direction d = dir == 0 ? l.forward() : l.backward();
        settings::read_direction(*this, item["set"], where + ".set", d);
        *(dir == 0 ? set->mutable_forward() : set->mutable_backward()) = d;
      }
      if (bwd) {
        Direction d = dir == 0 ? l.backward() : l.forward();
        settings::read_direction(*this, item["set"], where + ".set", d);
        *(dir == 0 ? set->mutable_backward() : set->mutable_forward()) = d;
      }
    }
  }
  if (item["partition"]) {
    auto* p = f->mutable_partition();
    for (std::uint32_t id : resolve(item["partition"], where + ".partition")) p->add_nodes(id);
    if (item["for"]) p->set_duration_ns(duration_or_forever(item["for"], where + ".for"));
  }
  if (item["crash"]) {
    auto* c = f->mutable_crash();
    c->set_host(one_node(item["crash"], where + ".crash"));
    if (topo_.nodes(static_cast<int>(c->host())).kind() != Node::HOST)
      fail(item["crash"], where + ".crash", "only hosts crash (a router can be cut off with partition)");
    if (item["restart"]) c->set_restart_after_ns(duration_or_forever(item["restart"], where + ".restart"));
  }
  if (item["match"]) {
    auto* p = f->mutable_packet();
    const YAML::Node m = item["match"];
    bool have_link = false;
    // A group at one end ([client*, r]) makes one fault per link, each counting its
    // own matches: "the first SYN of every client".
    std::vector<std::pair<std::uint32_t, std::uint32_t>> more_links;
    for_each_key(m, where + ".match", {"link", "flags", "from", "to", "src_port", "dst_port", "payload", "nth", "first"},
                 [&](const std::string& k, const YAML::Node& v, const std::string& path) {
                   if (k == "link") {
                     have_link = true;
                     const auto links = find_links(v, path);
                     p->set_link(links.front().first);
                     p->set_direction(links.front().second);
                     more_links.assign(links.begin() + 1, links.end());
                   }
                   if (k == "flags") {
                     // Flags that must be set, joined by '+'. A SYN without ACK listed
                     // means a connection request: ACK must then be clear.
                     const std::string text = scalar(v, path, "TCP flags such as SYN, SYN+ACK, FIN or RST");
                     std::uint32_t flags = 0;
                     std::size_t start = 0;
                     while (start <= text.size()) {
                       const auto plus = text.find('+', start);
                       const std::string word = text.substr(start, plus == std::string::npos ? plus : plus - start);
                       static const std::vector<std::pair<std::string_view, std::uint32_t>> bits = {
                           {"FIN", 0x01}, {"SYN", 0x02}, {"RST", 0x04}, {"PSH", 0x08}, {"ACK", 0x10}, {"URG", 0x20}};
                       const auto it = std::find_if(bits.begin(), bits.end(), [&](const auto& b) { return b.first == word; });
                       if (it == bits.end())
                         fail(v, path, fmt::format("unknown flag '{}'; expected FIN, SYN, RST, PSH, ACK or URG, joined by '+'", word));
                       flags |= it->second;
                       if (plus == std::string::npos) break;
                       start = plus + 1;
                     }
                     std::uint32_t mask = flags;
                     if ((flags & 0x02) && !(flags & 0x10)) mask |= 0x10;
                     p->set_flags(flags);
                     p->set_flags_mask(mask);
                   }
                   if (k == "from" || k == "to") {
                     const std::uint32_t id = one_node(v, path);
                     if (topo_.nodes(static_cast<int>(id)).kind() != Node::HOST)
                       fail(v, path, fmt::format("'{}' is a router; packets come from and go to hosts",
                                                 topo_.nodes(static_cast<int>(id)).name()));
                     if (k == "from") {
                       p->set_src(id);
                     } else {
                       p->set_dst(id);
                     }
                   }
                   if (k == "src_port") p->set_src_port(static_cast<std::uint32_t>(integer(v, path, 1, 65535)));
                   if (k == "dst_port") p->set_dst_port(static_cast<std::uint32_t>(integer(v, path, 1, 65535)));
                   if (k == "payload") p->set_with_payload(boolean(v, path));
                   if (k == "nth") {
                     // 2, [1, 2], or every.
                     if (v.IsScalar() && v.Scalar() == "every") {
                       p->add_nth(0);
                     } else if (v.IsSequence()) {
                       if (v.size() == 0) fail(v, path, "an empty list; give at least one match number, as in [1, 2]");
                       for (const YAML::Node& x : v)
                         p->add_nth(static_cast<std::uint32_t>(integer(x, path, 1, 1u << 31)));
                     } else {
                       p->add_nth(static_cast<std::uint32_t>(integer(v, path, 1, 1u << 31)));
                     }
                   }
                   if (k == "first") p->set_first(static_cast<std::uint32_t>(integer(v, path, 1, 1u << 31)));
                 });
    if (!have_link) fail(m, where + ".match", "needs 'link: [A, B]' (the packet is caught as it enters A's side)");
    if (m["nth"] && m["first"])
      fail(m["first"], where + ".match.first", "give 'nth' or 'first', not both ('nth: [1, 2]' is 'first: 2')");
    if (p->nth_size() == 0 && p->first() == 0) p->add_nth(1);  // the first match by default
    if (item["during"]) {
      const YAML::Node d = item["during"];
      if (!d.IsSequence() || d.size() != 2)
        fail(d, where + ".during", fmt::format("expected a time window [FROM, TO], as in [2s, 5s], got {}", kind_of(d)));
      p->set_from_ns(duration_ns(d[0], where + ".during"));
      p->set_until_ns(duration_ns(d[1], where + ".during"));
      if (p->from_ns() < 0) fail(d[0], where + ".during", "the window cannot begin before the run starts");
      if (p->until_ns() <= p->from_ns()) fail(d[1], where + ".during", "the window must end after it begins");
    }
    const int actions = (item["drop"] ? 1 : 0) + (item["delay"] ? 1 : 0) + (item["duplicate"] ? 1 : 0) +
                        (item["corrupt"] ? 1 : 0);
    if (actions != 1) fail(item, where, "a match needs exactly one of: drop, delay, duplicate, corrupt");
    if (item["drop"]) {
      if (!boolean(item["drop"], where + ".drop")) fail(item["drop"], where + ".drop", "write 'drop: true'");
      p->set_action(PacketFault::DROP);
    }
    if (item["duplicate"]) {
      if (!boolean(item["duplicate"], where + ".duplicate"))
        fail(item["duplicate"], where + ".duplicate", "write 'duplicate: true'");
      p->set_action(PacketFault::DUPLICATE);
    }
    if (item["corrupt"]) {
      if (!boolean(item["corrupt"], where + ".corrupt"))
        fail(item["corrupt"], where + ".corrupt", "write 'corrupt: true'");
      p->set_action(PacketFault::CORRUPT);
    }
    if (item["delay"]) {
      p->set_action(PacketFault::DELAY);
      p->set_delay_ns(duration_ns(item["delay"], where + ".delay"));
      if (p->delay_ns() <= 0) fail(item["delay"], where + ".delay", "must be more than zero");
    }
    if (item["at"]) fail(item["at"], where + ".at", "a match is active from the start; 'at' does not apply");
    for (const auto& [link, dir] : more_links) {
      Fault* g = topo_.add_faults();
      *g = *f;
      g->mutable_packet()->set_link(link);
      g->mutable_packet()->set_direction(dir);
    }
  }
}

void Loader::expectations(const YAML::Node& n) {
  if (!n.IsSequence()) fail(n, "expect", fmt::format("expected a list of expectations, got {}", kind_of(n)));
  std::size_t index = 0;
  for (const YAML::Node& item : n) expectation(item, index++);
}

void Loader::expectation(const YAML::Node& item, std::size_t index) {
  const std::string where = fmt::format("expect[{}]", index);
  Expectation* e = topo_.add_expectations();
  e->set_text(scalar(item, where, "an expectation such as 'connections.failed == 0'"));
  e->set_file(file());
  // A quoted string starts one column after its quote.
  const int line = item.Mark().line + 1, column = item.Mark().column + 1 + (item.Tag() == "!" ? 1 : 0);
  e->set_line(line);
  e->set_column(column);
  expect::Expression parsed;
  try {
    parsed = expect::parse(e->text());
  } catch (const expect::ParseError& err) {
    throw LoadError(file(), line, column + err.column - 1, where, err.what());
  }
  for (const auto& sel : expect::selectors(parsed)) {
    NodeSet* set = e->add_selectors();
    try {
      for (const std::uint32_t id : resolve(YAML::Node(sel.text), where)) {
        if (topo_.nodes(static_cast<int>(id)).kind() != Node::HOST)
          throw LoadError(file(), line, column + sel.column - 1, where,
                          fmt::format("'{}' is a router: expectations select hosts", topo_.nodes(static_cast<int>(id)).name()));
        set->add_nodes(id);
      }
    } catch (const LoadError& err) {
      if (err.line() == line && err.column() == column + sel.column - 1) throw;
      throw LoadError(file(), line, column + sel.column - 1, where, err.message());
    }
  }
}

}  // namespace shakedown::topology
