#include "controller/build.h"

#include <algorithm>

#include <fmt/format.h>

#include "nodes/faults.h"

namespace shakedown::controller {

// The proto's enums are cast to the C++ enums below: they must line up.
static_assert(static_cast<int>(JitterDistribution::uniform) == topology::Direction::UNIFORM &&
              static_cast<int>(JitterDistribution::normal) == topology::Direction::NORMAL &&
              static_cast<int>(JitterDistribution::pareto) == topology::Direction::PARETO &&
              static_cast<int>(JitterDistribution::paretonormal) == topology::Direction::PARETONORMAL &&
              topology::Direction::Distribution_MAX == topology::Direction::PARETONORMAL);
static_assert(static_cast<int>(apps::AppKind::connect) == topology::Workload::CONNECT &&
              static_cast<int>(apps::AppKind::bulk) == topology::Workload::BULK &&
              static_cast<int>(apps::AppKind::request_response) == topology::Workload::REQUEST_RESPONSE &&
              static_cast<int>(apps::AppKind::echo) == topology::Workload::ECHO &&
              static_cast<int>(apps::AppKind::stream) == topology::Workload::STREAM &&
              static_cast<int>(apps::AppKind::syn_flood) == topology::Workload::SYN_FLOOD &&
              topology::Workload::App_MAX == topology::Workload::SYN_FLOOD);
static_assert(static_cast<int>(apps::CloseMode::client) == topology::Workload::CLIENT &&
              static_cast<int>(apps::CloseMode::server) == topology::Workload::SERVER &&
              static_cast<int>(apps::CloseMode::both) == topology::Workload::BOTH &&
              static_cast<int>(apps::CloseMode::client_abort) == topology::Workload::ABORT &&
              static_cast<int>(apps::CloseMode::server_abort) == topology::Workload::SERVER_ABORT &&
              static_cast<int>(apps::CloseMode::never) == topology::Workload::NEVER &&
              topology::Workload::Close_MAX == topology::Workload::NEVER);
static_assert(static_cast<int>(apps::StartSchedule::Kind::at) == topology::Workload::Start::AT &&
              static_cast<int>(apps::StartSchedule::Kind::list) == topology::Workload::Start::LIST &&
              static_cast<int>(apps::StartSchedule::Kind::uniform) == topology::Workload::Start::UNIFORM &&
              static_cast<int>(apps::StartSchedule::Kind::poisson) == topology::Workload::Start::POISSON &&
              topology::Workload::Start::Kind_MAX == topology::Workload::Start::POISSON);

namespace {
Duration ns(std::int64_t n) { return Duration::nanoseconds(n); }
Probability fraction(double p) { return Probability::from_fraction(p); }
}  // namespace

tcp::Config tcp_config(const topology::Tcp& t) {
  tcp::Config c;
  c.initial_rto = ns(t.initial_rto_ns());
  c.min_rto = ns(t.min_rto_ns());
  c.max_rto = ns(t.max_rto_ns());
  c.syn_retries = t.syn_retries();
  c.synack_retries = t.synack_retries();
  c.data_retries = t.data_retries();
  c.msl = ns(t.msl_ns());
  c.fin_wait_2_timeout = ns(t.fin_wait_2_timeout_ns());
  c.mss = static_cast<std::uint16_t>(t.mss());
  c.receive_buffer = t.receive_buffer();
  c.initial_window = t.initial_window();
  switch (t.congestion()) {
    case topology::Tcp::RENO:
      c.congestion = tcp::CongestionAlgorithm::reno;
      break;
    case topology::Tcp::NEWRENO:
      c.congestion = tcp::CongestionAlgorithm::newreno;
      break;
    default:
      c.congestion = tcp::CongestionAlgorithm::cubic;
      break;
  }
  c.dupack_threshold = t.dupack_threshold();
  c.sack = t.sack();
  c.timestamps = t.timestamps();
  c.window_scaling = t.window_scaling();
  c.application_reads = t.application_reads();
  c.keepalive = t.keepalive();
  c.keepalive_time = ns(t.keepalive_time_ns());
  c.keepalive_interval = ns(t.keepalive_interval_ns());
  c.keepalive_probes = t.keepalive_probes();
  c.nagle = t.nagle();
  c.delayed_ack = ns(t.delayed_ack_ns());
  c.two_way_handshake = t.two_way_handshake();
  c.isn_clock = t.isn_clock();
  c.syn_loss_window_after = t.syn_loss_window_after();
  c.strict_paws = t.strict_paws();
  return c;
}

LinkParams link_params(const topology::Direction& d) {
  LinkParams p;
  p.delay.delay = ns(d.delay_ns());
  p.delay.jitter = ns(d.jitter_ns());
  p.delay.correlation = fraction(d.jitter_correlation());
  p.delay.distribution = static_cast<JitterDistribution>(d.distribution());
  p.delay.jitter_reorders = d.jitter_reorders();
  if (d.has_random_loss()) {
    p.loss = RandomLoss{fraction(d.random_loss().probability()), fraction(d.random_loss().correlation())};
  } else if (d.has_gilbert_elliott()) {
    const auto& g = d.gilbert_elliott();
    p.loss = GilbertElliottLoss{fraction(g.p()), fraction(g.r()), fraction(g.one_minus_h()), fraction(g.one_minus_k())};
  } else if (d.has_four_state()) {
    const auto& f = d.four_state();
    p.loss = FourStateLoss{fraction(f.p13()), fraction(f.p31()), fraction(f.p32()), fraction(f.p23()),
                           fraction(f.p14())};
  }
  p.duplicate = fraction(d.duplicate());
  p.duplicate_correlation = fraction(d.duplicate_correlation());
  p.corrupt = fraction(d.corrupt());
  p.corrupt_correlation = fraction(d.corrupt_correlation());
  p.packet_overhead = d.packet_overhead();
  p.cell_size = d.cell_size();
  p.cell_overhead = d.cell_overhead();
  p.up = !d.down();
  p.reorder.probability = fraction(d.reorder());
  p.reorder.correlation = fraction(d.reorder_correlation());
  p.reorder.gap = d.reorder_gap();
  p.rate = DataRate::bps(d.rate_bps());
  p.queue_packets = d.queue_packets();
  p.queue_bytes = d.queue_bytes();
  p.mtu = d.mtu();
  return p;
}

apps::Workload workload(const topology::Workload& w) {
  apps::Workload a;
  a.name = w.name();
  a.app = static_cast<apps::AppKind>(w.app());
  a.clients.assign(w.clients().begin(), w.clients().end());
  a.server = w.server();
  a.port = static_cast<std::uint16_t>(w.port());
  a.client_port = static_cast<std::uint16_t>(w.client_port());
  a.connections = w.connections();
  const auto& s = w.start();
  a.start.kind = static_cast<apps::StartSchedule::Kind>(s.kind());
  a.start.at = TimePoint::zero() + ns(s.at_ns());
  for (std::int64_t t : s.times_ns()) a.start.times.push_back(TimePoint::zero() + ns(t));
  a.start.from = TimePoint::zero() + ns(s.from_ns());
  a.start.to = TimePoint::zero() + ns(s.to_ns());
  a.start.rate_per_second = s.rate_per_second();
  a.bytes = w.bytes();
  a.request = w.request();
  a.response = w.response();
  a.repetitions = w.repetitions();
  a.think = ns(w.think_ns());
  a.rate = DataRate::bps(w.rate_bps());
  a.duration = ns(w.duration_ns());
  a.chunk = w.chunk();
  a.close = static_cast<apps::CloseMode>(w.close());
  a.half_close = w.half_close();
  a.listen.backlog = w.backlog();
  a.listen.syn_backlog = w.syn_backlog();
  a.serve = !w.no_listener();
  return a;
}

Built::Built(Engine& engine, PacketPool& pool, const topology::Topology& topo, Observer* observer,
             bool report_timer_sets, const std::vector<bool>* here)
    : network(engine, pool, topo.seed(), observer), workloads(engine, network, topo.seed()) {
  // Each piece says where it is when the network refuses it.
  const auto piece = [](std::string where, auto&& build) {
    try {
      build();
    } catch (const std::invalid_argument& e) {
      throw BuildError(std::move(where), e.what());
    } catch (const std::out_of_range& e) {
      throw BuildError(std::move(where), e.what());
    }
  };
  for (int i = 0; i < topo.nodes_size(); ++i) {
    const auto& n = topo.nodes(i);
    piece(fmt::format("nodes[{}] ({})", i, n.name()), [&] {
      if (n.kind() == topology::Node::HOST) {
        tcp::Config c = tcp_config(n.tcp());
        c.report_timer_sets = report_timer_sets;
        network.add_host(n.name(), c, wire::Ipv4Address{n.address()});
      } else {
        network.add_router(n.name());
      }
    });
  }
  if (here != nullptr)
    for (std::uint32_t n = 0; n < network.node_count(); ++n)
      if (!here->at(n)) network.set_elsewhere(n);
  // A real host's TCP is Linux's (real_hosts.h): the emulator's copy runs nothing.
  for (int i = 0; i < topo.nodes_size(); ++i)
    if (topo.nodes(i).has_real()) network.set_real(static_cast<std::uint32_t>(i));
  for (int i = 0; i < topo.links_size(); ++i) {
    const auto& l = topo.links(i);
    piece(fmt::format("links[{}] ({} - {})", i, l.a(), l.b()),
          [&] { network.add_link(l.a(), l.b(), link_params(l.forward()), link_params(l.backward())); });
  }
  piece("routes", [&] { network.build(topo.ecmp()); });
  for (int i = 0; i < topo.workloads_size(); ++i)
    piece(fmt::format("workloads[{}] ({})", i, topo.workloads(i).name()),
          [&] { workloads.add(workload(topo.workloads(i))); });
  for (int i = 0; i < topo.faults_size(); ++i)
    piece(fmt::format("faults[{}]", i), [&] { schedule(engine, topo.faults(i), owners::fault(static_cast<std::uint32_t>(i))); });
}

void Built::schedule(Engine& engine, const topology::Fault& f, Owner owner) {
  const TimePoint at = TimePoint::zero() + ns(f.at_ns());
  Network& net = network;
  switch (f.kind_case()) {
    case topology::Fault::kLinkDown: {
      const std::uint32_t link = f.link_down().link();
      engine.at(at, owner, [&net, link] { net.link(link).hold_down(true); });
      if (f.link_down().duration_ns() > 0)
        engine.at(at + ns(f.link_down().duration_ns()), owner, [&net, link] { net.link(link).hold_down(false); });
      break;
    }
    case topology::Fault::kLinkSet: {
      const auto& s = f.link_set();
      const std::uint32_t link = s.link();
      if (s.has_forward())
        engine.at(at, owner, [&net, link, p = link_params(s.forward())] { net.link(link).direction(0).set_params(p); });
      if (s.has_backward())
        engine.at(at, owner, [&net, link, p = link_params(s.backward())] { net.link(link).direction(1).set_params(p); });
      break;
    }
    case topology::Fault::kPartition: {
      std::vector<std::uint32_t> group(f.partition().nodes().begin(), f.partition().nodes().end());
      engine.at(at, owner, [&net, group] { net.set_partitioned(group, true); });
      if (f.partition().duration_ns() > 0)
        engine.at(at + ns(f.partition().duration_ns()), owner, [&net, group] { net.set_partitioned(group, false); });
      break;
    }
    case topology::Fault::kCrash: {
      const std::uint32_t host = f.crash().host();
      engine.at(at, owner, [&net, host] { net.host(host).crash(); });
      if (f.crash().restart_after_ns() > 0)
        engine.at(at + ns(f.crash().restart_after_ns()), owner, [&net, host] { net.host(host).restart(); });
      break;
    }
    case topology::Fault::kPacket: {
      const auto& p = f.packet();
      TcpMatch m;
      if (p.flags_mask() != 0) {
        m.flags = static_cast<std::uint8_t>(p.flags());
        m.flags_mask = static_cast<std::uint8_t>(p.flags_mask());
      }
      if (p.has_src()) m.src = net.address(p.src());
      if (p.has_dst()) m.dst = net.address(p.dst());
      if (p.has_src_port()) m.src_port = static_cast<std::uint16_t>(p.src_port());
      if (p.has_dst_port()) m.dst_port = static_cast<std::uint16_t>(p.dst_port());
      m.with_payload = p.with_payload();
      PacketFault pf;
      pf.match = match_tcp(m);
      pf.nth.assign(p.nth().begin(), p.nth().end());
      std::sort(pf.nth.begin(), pf.nth.end());
      if (!pf.nth.empty() && pf.nth.front() == 0) pf.nth.clear();  // 0: every match
      pf.first = p.first();
      pf.from = TimePoint::zero() + ns(p.from_ns());
      if (p.until_ns() > 0) pf.until = TimePoint::zero() + ns(p.until_ns());
      pf.action = static_cast<PacketFault::Action>(p.action());
      pf.delay = ns(p.delay_ns());
      net.link(p.link()).direction(static_cast<int>(p.direction())).add_fault(std::move(pf));
      break;
    }
    case topology::Fault::KIND_NOT_SET:
      break;
  }
}

}  // namespace shakedown::controller
