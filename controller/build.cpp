#include "controller/build.h"

namespace shakedown::controller {

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
  }
  p.duplicate = fraction(d.duplicate());
  p.corrupt = fraction(d.corrupt());
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
  return a;
}

Built::Built(Engine& engine, PacketPool& pool, const topology::Topology& topo, Observer* observer)
    : network(engine, pool, topo.seed(), observer), workloads(engine, network, topo.seed()) {
  for (const auto& n : topo.nodes()) {
    if (n.kind() == topology::Node::HOST) {
      network.add_host(n.name(), tcp_config(n.tcp()));
    } else {
      network.add_router(n.name());
    }
  }
  for (const auto& l : topo.links()) network.add_link(l.a(), l.b(), link_params(l.forward()), link_params(l.backward()));
  network.build(topo.ecmp());
  for (const auto& w : topo.workloads()) workloads.add(workload(w));
}

}  // namespace shakedown::controller
