#include "topologies/validate.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_set>

#include <fmt/format.h>

#include "emulator/units.h"
#include "topologies/expect.h"
#include "topologies/loader.h"

namespace shakedown::topology {

namespace {

class Checker {
 public:
  Checker(const Topology& t, std::string file) : t_(t), file_(std::move(file)) {}

  void run() {
    if (t_.until_ns() < 0 || t_.until_ns() > kMaxHorizonNs)
      fail("until_ns", fmt::format("{} is outside 0..{}", t_.until_ns(), kMaxHorizonNs));
    horizon_ = std::max(kDefaultHorizonNs, t_.until_ns());
    if (static_cast<std::uint64_t>(t_.nodes_size()) > 1'000'000'000u) fail("nodes", "more than 10^9 nodes");
    nodes();
    links();
    std::set<std::pair<std::uint32_t, std::uint32_t>> served;  // (server, port) with a listener
    for (int i = 0; i < t_.workloads_size(); ++i) {
      const Workload& w = t_.workloads(i);
      const std::string path = fmt::format("workloads[{}]", i);
      workload(w, path);
      if (w.app() != Workload::SYN_FLOOD && !w.no_listener() && !served.insert({w.server(), w.port()}).second)
        fail(path + ".port", fmt::format("port {} of node {} already serves another workload", w.port(), w.server()));
    }
    for (int i = 0; i < t_.faults_size(); ++i) fault(t_.faults(i), fmt::format("faults[{}]", i));
    for (int i = 0; i < t_.expectations_size(); ++i) expectation(t_.expectations(i), fmt::format("expectations[{}]", i));
    std::set<std::uint32_t> pinned;
    for (int i = 0; i < t_.pins_size(); ++i) {
      const std::string path = fmt::format("pins[{}]", i);
      node(path + ".node", t_.pins(i).node());
      if (t_.pins(i).rank() >= kMaxRanks) fail(path + ".rank", fmt::format("{} is not below {}", t_.pins(i).rank(), kMaxRanks));
      if (!pinned.insert(t_.pins(i).node()).second) fail(path + ".node", "is pinned twice");
    }
  }

 private:
  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    throw LoadError(file_, 0, 0, path, message);
  }

  void time(const std::string& path, std::int64_t ns) const {
    if (ns < 0) fail(path, fmt::format("{} is negative", ns));
    if (ns > horizon_)
      fail(path, fmt::format("{} is past the run's horizon of {} ns (until_ns raises it, up to {})", ns, horizon_,
                             kMaxHorizonNs));
  }
  void probability(const std::string& path, double p) const {
    if (!(p >= 0.0 && p <= 1.0)) fail(path, fmt::format("{} is not a probability from 0 to 1", p));
  }
  template <typename Int>
  void range(const std::string& path, Int v, Int lo, Int hi) const {
    if (v < lo || v > hi) fail(path, fmt::format("{} is outside {}..{}", v, lo, hi));
  }
  void node(const std::string& path, std::uint32_t id) const {
    if (id >= static_cast<std::uint32_t>(t_.nodes_size()))
      fail(path, fmt::format("node {} does not exist (there are {})", id, t_.nodes_size()));
  }
  void host(const std::string& path, std::uint32_t id) const {
    node(path, id);
    if (t_.nodes(static_cast<int>(id)).kind() != Node::HOST)
      fail(path, fmt::format("node {} ('{}') is a router, not a host", id, t_.nodes(static_cast<int>(id)).name()));
  }
  void link_index(const std::string& path, std::uint32_t id) const {
    if (id >= static_cast<std::uint32_t>(t_.links_size()))
      fail(path, fmt::format("link {} does not exist (there are {})", id, t_.links_size()));
  }

  void nodes() {
    std::unordered_set<std::string> names;
    std::unordered_set<std::uint32_t> addresses;
    for (int i = 0; i < t_.nodes_size(); ++i) {
      const Node& n = t_.nodes(i);
      const std::string path = fmt::format("nodes[{}]", i);
      if (!valid_name(n.name())) fail(path + ".name", fmt::format("'{}' is not a valid name", n.name()));
      if (!names.insert(n.name()).second) fail(path + ".name", fmt::format("'{}' is there twice", n.name()));
      if (n.kind() != Node::HOST && n.kind() != Node::ROUTER) fail(path + ".kind", "is neither HOST nor ROUTER");
      if (n.kind() != Node::HOST) continue;
      if (n.address() == 0) fail(path + ".address", "a host needs an address");
      if (!addresses.insert(n.address()).second) fail(path + ".address", "is the address of another host too");
      tcp(n.tcp(), path + ".tcp");
    }
  }

  void tcp(const Tcp& c, const std::string& path) const {
    auto positive = [&](const char* field, std::int64_t ns) {
      time(path + "." + field, ns);
      if (ns == 0) fail(path + "." + field, "must be more than zero");
    };
    positive("initial_rto_ns", c.initial_rto_ns());
    positive("min_rto_ns", c.min_rto_ns());
    positive("max_rto_ns", c.max_rto_ns());
    if (c.min_rto_ns() > c.max_rto_ns()) fail(path + ".min_rto_ns", "is larger than max_rto_ns");
    range(path + ".syn_retries", c.syn_retries(), 0, 255);
    range(path + ".synack_retries", c.synack_retries(), 0, 255);
    range(path + ".data_retries", c.data_retries(), 0, 255);
    time(path + ".msl_ns", c.msl_ns());
    time(path + ".fin_wait_2_timeout_ns", c.fin_wait_2_timeout_ns());
    range(path + ".mss", c.mss(), 88u, 65495u);
    range(path + ".receive_buffer", c.receive_buffer(), 2304u, 1u << 30);
    range(path + ".initial_window", c.initial_window(), 1u, 1000u);
    if (!Tcp::Congestion_IsValid(c.congestion())) fail(path + ".congestion", "is not an algorithm");
    range(path + ".dupack_threshold", c.dupack_threshold(), 1, 1000);
    time(path + ".keepalive_time_ns", c.keepalive_time_ns());
    time(path + ".keepalive_interval_ns", c.keepalive_interval_ns());
    range(path + ".keepalive_probes", c.keepalive_probes(), 1, 1000);
    time(path + ".delayed_ack_ns", c.delayed_ack_ns());
    range(path + ".syn_loss_window_after", c.syn_loss_window_after(), 0, 255);
  }

  void direction(const Direction& d, const std::string& path) const {
    time(path + ".delay_ns", d.delay_ns());
    time(path + ".jitter_ns", d.jitter_ns());
    if (d.jitter_ns() > d.delay_ns() && !d.jitter_reorders())
      fail(path + ".jitter_ns", "is larger than the delay: a packet cannot arrive before it was sent");
    probability(path + ".jitter_correlation", d.jitter_correlation());
    if (!Direction::Distribution_IsValid(d.distribution())) fail(path + ".distribution", "is not a distribution");
    switch (d.loss_case()) {
      case Direction::kRandomLoss:
        probability(path + ".random_loss.probability", d.random_loss().probability());
        probability(path + ".random_loss.correlation", d.random_loss().correlation());
        break;
      case Direction::kGilbertElliott: {
        const auto& g = d.gilbert_elliott();
        for (const auto& [f, v] : {std::pair{"p", g.p()}, {"r", g.r()}, {"one_minus_h", g.one_minus_h()},
                                   {"one_minus_k", g.one_minus_k()}})
          probability(path + ".gilbert_elliott." + f, v);
        break;
      }
      case Direction::kFourState: {
        const auto& s = d.four_state();
        for (const auto& [f, v] :
             {std::pair{"p13", s.p13()}, {"p31", s.p31()}, {"p32", s.p32()}, {"p23", s.p23()}, {"p14", s.p14()}})
          probability(path + ".four_state." + f, v);
        break;
      }
      case Direction::LOSS_NOT_SET:
        break;
    }
    probability(path + ".duplicate", d.duplicate());
    probability(path + ".duplicate_correlation", d.duplicate_correlation());
    probability(path + ".corrupt", d.corrupt());
    probability(path + ".corrupt_correlation", d.corrupt_correlation());
    probability(path + ".reorder", d.reorder());
    probability(path + ".reorder_correlation", d.reorder_correlation());
    range(path + ".packet_overhead", d.packet_overhead(), -65535, 65535);
    range(path + ".cell_size", d.cell_size(), 0u, 65535u);
    range(path + ".cell_overhead", d.cell_overhead(), -65535, 65535);
    range(path + ".queue_packets", d.queue_packets(), 0u, 100'000'000u);
    range(path + ".mtu", d.mtu(), 68u, 65535u);
  }

  void links() {
    std::vector<std::uint32_t> count(static_cast<std::size_t>(t_.nodes_size()), 0);
    for (int i = 0; i < t_.links_size(); ++i) {
      const Link& l = t_.links(i);
      const std::string path = fmt::format("links[{}]", i);
      node(path + ".a", l.a());
      node(path + ".b", l.b());
      if (l.a() == l.b()) fail(path, "links a node to itself");
      for (const std::uint32_t n : {l.a(), l.b()})
        if (++count[n] > 1 && t_.nodes(static_cast<int>(n)).kind() == Node::HOST)
          fail(path, fmt::format("host '{}' has a second link; a host has exactly one",
                                 t_.nodes(static_cast<int>(n)).name()));
      direction(l.forward(), path + ".forward");
      direction(l.backward(), path + ".backward");
    }
    for (int i = 0; i < t_.nodes_size(); ++i)
      if (t_.nodes(i).kind() == Node::HOST && count[static_cast<std::size_t>(i)] == 0)
        fail(fmt::format("nodes[{}]", i), fmt::format("host '{}' has no link", t_.nodes(i).name()));
  }

  void workload(const Workload& w, const std::string& path) const {
    if (!w.name().empty() && !valid_name(w.name())) fail(path + ".name", fmt::format("'{}' is not a valid name", w.name()));
    if (!Workload::App_IsValid(w.app())) fail(path + ".app", "is not an application");
    if (w.clients_size() == 0) fail(path + ".clients", "names no hosts");
    host(path + ".server", w.server());
    for (int i = 0; i < w.clients_size(); ++i) {
      host(fmt::format("{}.clients[{}]", path, i), w.clients(i));
      if (w.clients(i) == w.server()) fail(fmt::format("{}.clients[{}]", path, i), "is the server too");
    }
    range(path + ".port", w.port(), 1u, 65535u);
    range(path + ".client_port", w.client_port(), 0u, 65535u);
    range(path + ".connections", w.connections(), 1u, kMaxConnectionsPerClient);
    const auto& s = w.start();
    if (!Workload::Start::Kind_IsValid(s.kind())) fail(path + ".start.kind", "is not a kind of start");
    time(path + ".start.at_ns", s.at_ns());
    time(path + ".start.from_ns", s.from_ns());
    time(path + ".start.to_ns", s.to_ns());
    for (int i = 0; i < s.times_ns_size(); ++i) time(fmt::format("{}.start.times_ns[{}]", path, i), s.times_ns(i));
    const auto total = static_cast<std::uint64_t>(w.clients_size()) * w.connections();
    if (s.kind() == Workload::Start::LIST && static_cast<std::uint64_t>(s.times_ns_size()) != total)
      fail(path + ".start.times_ns", fmt::format("has {} times for {} connections", s.times_ns_size(), total));
    if (s.kind() == Workload::Start::UNIFORM && s.to_ns() <= s.from_ns())
      fail(path + ".start.to_ns", "the interval must end after it begins");
    if (s.kind() == Workload::Start::POISSON && !(s.rate_per_second() > 0 && std::isfinite(s.rate_per_second())))
      fail(path + ".start.rate_per_second", "must be a positive number");
    range(path + ".repetitions", w.repetitions(), 1u, 1'000'000'000u);
    time(path + ".think_ns", w.think_ns());
    time(path + ".duration_ns", w.duration_ns());
    range(path + ".chunk", w.chunk(), 1u, 1u << 30);
    if (!Workload::Close_IsValid(w.close())) fail(path + ".close", "is not a way to close");
    range(path + ".backlog", w.backlog(), 1u, 1u << 30);
    range(path + ".syn_backlog", w.syn_backlog(), 1u, 1u << 30);
    if (w.app() == Workload::BULK && w.bytes() == 0) fail(path + ".bytes", "bulk needs bytes");
    if ((w.app() == Workload::REQUEST_RESPONSE || w.app() == Workload::ECHO) && w.request() == 0)
      fail(path + ".request", "this application needs a request size");
    if (w.app() == Workload::STREAM && (w.rate_bps() == 0 || w.duration_ns() == 0))
      fail(path, "a stream needs rate_bps and duration_ns");
  }

  void fault(const Fault& f, const std::string& path) const {
    time(path + ".at_ns", f.at_ns());
    switch (f.kind_case()) {
      case Fault::kLinkDown:
        link_index(path + ".link_down.link", f.link_down().link());
        time(path + ".link_down.duration_ns", f.link_down().duration_ns());
        break;
      case Fault::kLinkSet:
        link_index(path + ".link_set.link", f.link_set().link());
        if (f.link_set().has_forward()) direction(f.link_set().forward(), path + ".link_set.forward");
        if (f.link_set().has_backward()) direction(f.link_set().backward(), path + ".link_set.backward");
        break;
      case Fault::kPartition:
        if (f.partition().nodes_size() == 0) fail(path + ".partition.nodes", "names no nodes");
        for (int i = 0; i < f.partition().nodes_size(); ++i)
          node(fmt::format("{}.partition.nodes[{}]", path, i), f.partition().nodes(i));
        time(path + ".partition.duration_ns", f.partition().duration_ns());
        break;
      case Fault::kCrash:
        host(path + ".crash.host", f.crash().host());
        time(path + ".crash.restart_after_ns", f.crash().restart_after_ns());
        break;
      case Fault::kPacket: {
        const PacketFault& p = f.packet();
        const std::string at = path + ".packet";
        link_index(at + ".link", p.link());
        range(at + ".direction", p.direction(), 0u, 1u);
        range(at + ".flags", p.flags(), 0u, 255u);
        range(at + ".flags_mask", p.flags_mask(), 0u, 255u);
        if (p.has_src()) host(at + ".src", p.src());
        if (p.has_dst()) host(at + ".dst", p.dst());
        if (p.has_src_port()) range(at + ".src_port", p.src_port(), 1u, 65535u);
        if (p.has_dst_port()) range(at + ".dst_port", p.dst_port(), 1u, 65535u);
        for (int i = 0; i < p.nth_size(); ++i) range(fmt::format("{}.nth[{}]", at, i), p.nth(i), 0u, 1u << 31);
        range(at + ".first", p.first(), 0u, 1u << 31);
        time(at + ".from_ns", p.from_ns());
        time(at + ".until_ns", p.until_ns());
        if (p.until_ns() != 0 && p.until_ns() <= p.from_ns()) fail(at + ".until_ns", "the window must end after it begins");
        if (!PacketFault::Action_IsValid(p.action())) fail(at + ".action", "is not an action");
        time(at + ".delay_ns", p.delay_ns());
        if (p.action() == PacketFault::DELAY && p.delay_ns() == 0) fail(at + ".delay_ns", "a delay must be more than zero");
        break;
      }
      case Fault::KIND_NOT_SET:
        fail(path, "does nothing: it needs one of link_down, link_set, partition, crash, packet");
    }
  }

  void expectation(const Expectation& e, const std::string& path) const {
    expect::Expression parsed;
    try {
      parsed = expect::parse(e.text());
    } catch (const expect::ParseError& err) {
      fail(path + ".text", fmt::format("'{}': {}", e.text(), err.what()));
    } catch (const std::exception& err) {
      fail(path + ".text", fmt::format("'{}': {}", e.text(), err.what()));
    }
    const auto wanted = expect::selectors(parsed).size();
    if (static_cast<std::size_t>(e.selectors_size()) != wanted)
      fail(path + ".selectors", fmt::format("has {} host sets for the {} selectors of the text", e.selectors_size(), wanted));
    for (int i = 0; i < e.selectors_size(); ++i)
      for (int j = 0; j < e.selectors(i).nodes_size(); ++j)
        node(fmt::format("{}.selectors[{}].nodes[{}]", path, i, j), e.selectors(i).nodes(j));
  }

  const Topology& t_;
  std::string file_;
  std::int64_t horizon_ = kDefaultHorizonNs;
};

}  // namespace

void validate(const Topology& topology, const std::string& file) { Checker(topology, file).run(); }

}  // namespace shakedown::topology
