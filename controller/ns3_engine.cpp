#include "controller/ns3_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "controller/ns3_sim.h"
#include "controller/real_side.h"
#include "nodes/apps/workload.h"
#include "nodes/network.h"
#include "topologies/loader.h"
#include "topologies/settings.h"


namespace shakedown::controller {

namespace {

std::string link_name(const topology::Topology& topo, const topology::Link& l) {
  return fmt::format("link '{}'—'{}'", topo.nodes(static_cast<int>(l.a())).name(),
                     topo.nodes(static_cast<int>(l.b())).name());
}

// What cannot be expressed, and where: grouped by what when written out.
struct Refusal {
  std::string what, where;
};

void direction_refusals(const topology::Topology& topo, const topology::Link& l, const topology::Direction& d,
                        const char* which, std::vector<Refusal>& out) {
  const std::string where = fmt::format("{} ({})", link_name(topo, l), which);
  const auto no = [&](const char* what) { out.push_back({what, where}); };
  if (d.jitter_ns() != 0) no("jitter (ns-3's point-to-point channel has one fixed delay)");
  if (d.reorder() != 0) no("reorder");
  if (d.duplicate() != 0) no("duplicate");
  if (d.corrupt() != 0) no("corrupt");
  if (d.has_gilbert_elliott()) no("Gilbert-Elliott loss");
  if (d.has_four_state()) no("4-state loss");
  if (d.has_random_loss() && d.random_loss().correlation() != 0) no("loss correlation");
  if (d.packet_overhead() != 0 || d.cell_size() != 0 || d.cell_overhead() != 0) no("packet or cell overheads");
  if (d.queue_packets() != 0 && d.queue_bytes() != 0)
    no("a queue limited both in packets and in bytes (ns-3's queue has one limit)");
}

struct Exchange {
  std::uint64_t request = 0, response = 0, rounds = 0;
  bool echo = false;
  std::uint64_t out() const { return request * rounds; }
  std::uint64_t in() const { return response * rounds; }
};

Exchange exchange_of(const topology::Workload& w) {
  Exchange x;
  switch (w.app()) {
    case topology::Workload::CONNECT:
      break;
    case topology::Workload::BULK:
      x.request = w.bytes();
      x.rounds = 1;
      break;
    case topology::Workload::REQUEST_RESPONSE:
      x.request = w.request();
      x.response = w.response();
      x.rounds = w.repetitions();
      break;
    case topology::Workload::ECHO:
      x.request = w.request();
      x.response = w.request();
      x.rounds = w.repetitions();
      x.echo = true;
      break;
    default:
      break;
  }
  return x;
}

}  // namespace

std::vector<std::string> ns3_refusals(const topology::Topology& topo) {
  std::vector<Refusal> out;
  const topology::Tcp def = topology::settings::default_tcp();
  for (const topology::Node& n : topo.nodes()) {
    const std::string host = fmt::format("'{}'", n.name());
    if (n.has_real()) out.push_back({"a real host (real hosts live in real time)", host});
    if (n.kind() != topology::Node::HOST) continue;
    const topology::Tcp& t = n.tcp();
    const auto no = [&](const char* what) { out.push_back({what, host}); };
    if (t.max_rto_ns() != def.max_rto_ns()) no("tcp max_rto (ns-3 has no ceiling to set)");
    if (t.synack_retries() != def.synack_retries()) no("tcp synack_retries (ns-3 retries a SYN-ACK syn_retries times)");
    if (t.fin_wait_2_timeout_ns() != def.fin_wait_2_timeout_ns()) no("tcp fin_wait_2_timeout (ns-3 has none)");
    if (t.application_reads()) no("tcp application_reads");
    if (t.keepalive()) no("tcp keepalive");
    if (t.two_way_handshake()) no("tcp two_way_handshake (a teaching variant of shakedown's TCP)");
    if (t.isn_clock()) no("tcp isn_clock");
    if (t.strict_paws()) no("tcp strict_paws");
    if (t.syn_loss_window_after() != def.syn_loss_window_after()) no("tcp syn_loss_window_after");
  }
  for (const topology::Link& l : topo.links()) {
    if (l.forward().delay_ns() != l.backward().delay_ns())
      out.push_back({"a delay that differs by direction (ns-3's channel has one)", link_name(topo, l)});
    direction_refusals(topo, l, l.forward(), "forward", out);
    direction_refusals(topo, l, l.backward(), "backward", out);
  }
  if (topo.ecmp()) out.push_back({"ecmp", "routing"});
  for (const topology::Fault& f : topo.faults()) {
    const std::string where = f.description().empty() ? "a fault" : f.description();
    if (f.has_crash()) out.push_back({"crashes (not yet mapped to ns-3)", where});
    if (f.has_link_set()) {
      // Whole new settings, held to what a link's own are; the delay stays one for both
      // directions.
      const topology::LinkSet& set = f.link_set();
      const topology::Link& l = topo.links(static_cast<int>(set.link()));
      std::vector<Refusal> changed;
      if (set.has_forward()) direction_refusals(topo, l, set.forward(), "forward", changed);
      if (set.has_backward()) direction_refusals(topo, l, set.backward(), "backward", changed);
      for (Refusal& r : changed) out.push_back({r.what, where});
      const std::int64_t fwd = set.has_forward() ? set.forward().delay_ns() : l.forward().delay_ns();
      const std::int64_t bwd = set.has_backward() ? set.backward().delay_ns() : l.backward().delay_ns();
      if (fwd != bwd) out.push_back({"a delay that differs by direction (ns-3's channel has one)", where});
    }
    else if (f.packet().action() != topology::PacketFault::DROP)
      out.push_back({"a packet fault that delays, duplicates or corrupts (ns-3's error models drop)", where});
  }
  for (const topology::Workload& w : topo.workloads()) {
    const std::string where = fmt::format("workload '{}'", w.name());
    const auto no = [&](const char* what) { out.push_back({what, where}); };
    if (w.app() == topology::Workload::STREAM) no("app stream");
    if (w.app() == topology::Workload::SYN_FLOOD) no("app syn_flood");
    if (w.close() == topology::Workload::ABORT || w.close() == topology::Workload::SERVER_ABORT)
      no("close by abort (ns-3's socket API has no abortive close)");
    if (w.half_close()) no("half_close");
    if (w.client_port() != 0) no("client_port");
    if (w.backlog() != topology::kDefaultBacklog || w.syn_backlog() != topology::kDefaultSynBacklog)
      no("backlog or syn_backlog (ns-3's listener has no limits)");
  }
  // One line per feature, naming up to three places: a fault on every client's link is
  // one line, not a thousand.
  std::vector<std::string> lines;
  std::vector<std::vector<std::string>> places;
  for (const Refusal& r : out) {
    const std::string head = r.what;
    const auto it = std::find(lines.begin(), lines.end(), head);
    const auto i = static_cast<std::size_t>(it - lines.begin());
    if (it == lines.end()) {
      lines.push_back(head);
      places.emplace_back();
    }
    if (std::find(places[i].begin(), places[i].end(), r.where) == places[i].end()) places[i].push_back(r.where);
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string where;
    for (std::size_t k = 0; k < std::min<std::size_t>(places[i].size(), 3); ++k)
      where += (k == 0 ? "" : ", ") + places[i][k];
    if (places[i].size() > 3) where += fmt::format(" and {} more", places[i].size() - 3);
    lines[i] += ": " + where;
  }
  return lines;
}

namespace {

// The reports of the ns-3 side, to the side that turns segments into a connection's
// states and the recorder's facts.
class ToSide final : public ns3sim::Reports {
 public:
  explicit ToSide(RealSide& side) : side_(side) {}
  void sent(std::uint32_t host, std::int64_t t, const std::uint8_t* packet, std::size_t size) override {
    side_.sent(host, t, std::span<const std::uint8_t>(packet, size));
  }
  void delivered(std::uint32_t host, std::int64_t t, const std::uint8_t* packet, std::size_t size) override {
    side_.delivered(host, t, std::span<const std::uint8_t>(packet, size));
  }
  void ended(std::uint32_t host, std::int64_t t, std::uint32_t remote, std::uint16_t local_port,
             std::uint16_t remote_port, bool timed_out) override {
    side_.ended_by_timer(host, t, wire::Ipv4Address{remote}, local_port, remote_port,
                         timed_out ? tcp::EventKind::timed_out : tcp::EventKind::closed);
  }

 private:
  RealSide& side_;
};

ns3sim::Tcp tcp_of(const topology::Tcp& t) {
  ns3sim::Tcp n;
  n.receive_buffer = t.receive_buffer();
  n.initial_window = t.initial_window();
  n.initial_rto_ns = t.initial_rto_ns();
  n.min_rto_ns = t.min_rto_ns();
  n.syn_retries = static_cast<std::uint32_t>(t.syn_retries());
  n.data_retries = static_cast<std::uint32_t>(t.data_retries());
  n.delayed_ack_ns = t.delayed_ack_ns();
  n.msl_ns = t.msl_ns();
  n.dupack_threshold = static_cast<std::uint32_t>(t.dupack_threshold());
  n.nagle = t.nagle();
  n.window_scaling = t.window_scaling();
  n.sack = t.sack();
  n.timestamps = t.timestamps();
  n.congestion = t.congestion() == topology::Tcp::CUBIC  ? "ns3::TcpCubic"
                 : t.congestion() == topology::Tcp::RENO ? "ns3::TcpLinuxReno"
                                                         : "ns3::TcpNewReno";
  return n;
}

ns3sim::Direction direction_of(const topology::Direction& d) {
  ns3sim::Direction n;
  n.down = d.down();
  n.rate_bps = d.rate_bps();
  n.mtu = d.mtu();
  n.queue_packets = d.queue_packets();
  n.queue_bytes = d.queue_bytes();
  n.loss = d.has_random_loss() ? d.random_loss().probability() : 0.0;
  return n;
}

}  // namespace

Ns3Result run_ns3(const topology::Topology& topo, const Network& network, const apps::Workloads& workloads,
                  RealSide& side, std::int64_t limit_ns, bool stop_when_idle, const std::string& pcap_dir,
                  const std::vector<std::uint32_t>& pcap_hosts,
                  const std::function<bool(std::int64_t now_ns, std::uint64_t events)>& keep_going) {
  ns3sim::Simulation sim;
  sim.seed = topo.seed();
  sim.limit_ns = limit_ns;
  sim.stop_when_idle = stop_when_idle;
  sim.pcap_dir = pcap_dir;
  for (std::uint32_t n = 0; n < static_cast<std::uint32_t>(topo.nodes_size()); ++n) {
    const topology::Node& node = topo.nodes(static_cast<int>(n));
    ns3sim::Node& s = sim.nodes.emplace_back();
    s.name = node.name();
    s.host = node.kind() == topology::Node::HOST;
    if (!s.host) continue;
    s.address = network.address(n).value;
    s.link = network.host_link(n);
    s.tcp = tcp_of(node.tcp());
    s.pcap = pcap_hosts.empty() || std::find(pcap_hosts.begin(), pcap_hosts.end(), n) != pcap_hosts.end();
  }
  for (const topology::Link& l : topo.links())
    sim.links.push_back({l.a(), l.b(), l.forward().delay_ns(), direction_of(l.forward()), direction_of(l.backward())});
  // Links down (held, as shakedown holds them), and a partition's: every link with
  // exactly one end in the group.
  const auto hold = [&](std::int64_t at, std::int64_t duration, std::uint32_t link) {
    sim.holds.push_back({at, link, true});
    if (duration > 0) sim.holds.push_back({at + duration, link, false});
  };
  for (const topology::Fault& f : topo.faults()) {
    if (f.has_link_set()) {
      const topology::LinkSet& set = f.link_set();
      ns3sim::LinkChange c;
      c.at_ns = f.at_ns();
      c.link = set.link();
      c.delay_ns = set.has_forward() ? set.forward().delay_ns() : set.backward().delay_ns();
      c.forward_set = set.has_forward();
      c.backward_set = set.has_backward();
      if (c.forward_set) c.forward = direction_of(set.forward());
      if (c.backward_set) c.backward = direction_of(set.backward());
      sim.changes.push_back(std::move(c));
    }
    if (f.has_link_down()) hold(f.at_ns(), f.link_down().duration_ns(), f.link_down().link());
    if (!f.has_partition()) continue;
    std::vector<bool> inside(static_cast<std::size_t>(topo.nodes_size()), false);
    for (const std::uint32_t n : f.partition().nodes()) inside.at(n) = true;
    for (std::uint32_t l = 0; l < static_cast<std::uint32_t>(topo.links_size()); ++l)
      if (inside[topo.links(static_cast<int>(l)).a()] != inside[topo.links(static_cast<int>(l)).b()])
        hold(f.at_ns(), f.partition().duration_ns(), l);
  }
  for (const topology::Fault& f : topo.faults()) {
    if (!f.has_packet()) continue;
    const topology::PacketFault& p = f.packet();  // ns3_refusals let only packet drops through
    ns3sim::Fault n;
    n.flags = static_cast<std::uint8_t>(p.flags());
    n.flags_mask = static_cast<std::uint8_t>(p.flags_mask());
    n.has_src = p.has_src();
    if (n.has_src) n.src = network.address(p.src()).value;
    n.has_dst = p.has_dst();
    if (n.has_dst) n.dst = network.address(p.dst()).value;
    n.src_port = p.has_src_port() ? static_cast<std::int32_t>(p.src_port()) : -1;
    n.dst_port = p.has_dst_port() ? static_cast<std::int32_t>(p.dst_port()) : -1;
    n.with_payload = p.with_payload();
    n.nth.assign(p.nth().begin(), p.nth().end());
    std::sort(n.nth.begin(), n.nth.end());
    if (!n.nth.empty() && n.nth.front() == 0) n.nth.clear();  // 0: every match
    n.first = p.first();
    n.from_ns = p.from_ns();
    n.until_ns = p.until_ns();
    ns3sim::Link& l = sim.links.at(p.link());
    (p.direction() == 0 ? l.forward : l.backward).faults.push_back(std::move(n));
  }
  // Every router's route to every host, as shakedown's routers have them.
  for (std::uint32_t r = 0; r < sim.nodes.size(); ++r) {
    if (sim.nodes[r].host) continue;
    for (const ns3sim::Node& h : sim.nodes)
      if (h.host)
        if (const auto link = network.route_link(r, wire::Ipv4Address{h.address})) sim.routes.push_back({r, h.address, *link});
  }
  for (int wi = 0; wi < topo.workloads_size(); ++wi) {
    const topology::Workload& w = topo.workloads(wi);
    const Exchange x = exchange_of(w);
    ns3sim::Workload& s = sim.workloads.emplace_back();
    s.server = w.server();
    s.port = static_cast<std::uint16_t>(w.port());
    s.listen = !w.no_listener();
    s.clients.assign(w.clients().begin(), w.clients().end());
    for (const TimePoint t : workloads.start_times(static_cast<std::size_t>(wi))) s.starts_ns.push_back(t.ns());
    // ns-3 announces no MSS: both ends are given the smaller MSS of the two, less the
    // timestamp option's 12 bytes when it is on — what shakedown's TCP puts in a
    // segment (RFC 7323, and Linux).
    std::uint32_t mss = topo.nodes(static_cast<int>(w.server())).tcp().mss();
    bool timestamps = topo.nodes(static_cast<int>(w.server())).tcp().timestamps();
    for (const std::uint32_t c : w.clients()) {
      mss = std::min(mss, topo.nodes(static_cast<int>(c)).tcp().mss());
      timestamps = timestamps && topo.nodes(static_cast<int>(c)).tcp().timestamps();
    }
    s.segment_size = mss - (timestamps ? 12u : 0u);
    s.request = x.request;
    s.response = x.response;
    s.rounds = x.rounds;
    s.echo = x.echo;
    s.think_ns = w.think_ns();
    s.client_closes = w.close() == topology::Workload::CLIENT || w.close() == topology::Workload::BOTH;
    s.server_closes = w.close() == topology::Workload::SERVER || w.close() == topology::Workload::BOTH;
  }
  ToSide reports(side);
  // ns-3's simulator is one per process (Simulator is a singleton, ChecksumEnabled a
  // global value): runs on ns-3 in one process, from threads of the library or a
  // sweep, take turns.
  static std::mutex one_at_a_time;
  const std::lock_guard<std::mutex> turn(one_at_a_time);
  const ns3sim::Result r = ns3sim::run(sim, reports, keep_going);
  Ns3Result out;
  out.events = r.events;
  out.last_ns = r.last_ns;
  out.interrupted = r.interrupted;
  out.stopped_at_limit = r.stopped_at_limit;
  out.pcap_files = r.pcap_files;
  out.drops[static_cast<int>(DropReason::loss)] = r.drops[ns3sim::kDropLoss];
  out.drops[static_cast<int>(DropReason::queue_full)] = r.drops[ns3sim::kDropQueue];
  out.drops[static_cast<int>(DropReason::ttl)] = r.drops[ns3sim::kDropTtl];
  out.drops[static_cast<int>(DropReason::no_route)] = r.drops[ns3sim::kDropNoRoute];
  out.drops[static_cast<int>(DropReason::fault)] = r.drops[ns3sim::kDropFault];
  out.drops[static_cast<int>(DropReason::link_down)] = r.drops[ns3sim::kDropLinkDown];
  return out;
}

}  // namespace shakedown::controller
