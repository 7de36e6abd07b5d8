// Compiled as C++17 (ns-3 3.37's headers are not C++20): see ns3_sim.h.
#include "controller/ns3_sim.h"

#include <algorithm>
#include <deque>
#include <functional>

#include <ns3/core-module.h>
#include <ns3/internet-module.h>
#include <ns3/network-module.h>
#include <ns3/point-to-point-module.h>
#include <ns3/traffic-control-layer.h>

namespace shakedown::ns3sim {

namespace {

using ns3::Ptr;

// One end of one connection, driven as nodes/apps/workload.cpp drives shakedown's.
struct Conn {
  bool client = false;
  const Workload* w = nullptr;
  Ptr<ns3::Socket> socket;
  std::uint32_t host = 0;
  std::uint32_t remote = 0;
  std::uint16_t local_port = 0, remote_port = 0;
  std::uint64_t released = 0, sent = 0, received = 0, round = 0, served = 0;
  bool waiting = false, shut = false, peer_closed = false, ended = false;
  std::uint64_t out() const { return w->request * w->rounds; }
  std::uint64_t in() const { return w->response * w->rounds; }
};

// The receiving device's error model: a link held down drops everything that arrives;
// then the direction's packet faults; then its random loss (a RateErrorModel). A
// packet is matched as it arrives; it was handed to the link `delay` earlier (exactly,
// on a link without a rate), which is the time a fault's window is compared with.
class FaultModel : public ns3::ErrorModel {
 public:
  FaultModel(const std::vector<Fault>& faults, std::int64_t delay_ns, Ptr<ns3::ErrorModel> loss)
      : faults_(faults), delay_ns_(delay_ns), loss_(loss), matches_(faults.size(), 0) {}
  int holds = 0;      // down while any
  bool down = false;  // the direction's own setting
  Drop last = kDropLoss;  // why the last packet it dropped was dropped

  void set_delay(std::int64_t ns) { delay_ns_ = ns; }
  void set_loss(double p) {
    if (!loss_ && p == 0) return;
    if (!loss_) {
      auto m = ns3::CreateObject<ns3::RateErrorModel>();
      m->SetAttribute("ErrorUnit", ns3::StringValue("ERROR_UNIT_PACKET"));
      loss_ = m;
    }
    loss_->SetAttribute("ErrorRate", ns3::DoubleValue(p));
  }

 private:
  bool DoCorrupt(Ptr<ns3::Packet> p) override {
    if (holds > 0 || down) {
      last = kDropLinkDown;
      return true;
    }
    bool fault = false;
    const std::int64_t handed = ns3::Simulator::Now().GetNanoSeconds() - delay_ns_;
    bytes_.resize(p->GetSize());
    p->CopyData(bytes_.data(), static_cast<std::uint32_t>(bytes_.size()));
    // Every fault counts its matches, whatever another does with the packet.
    for (std::size_t i = 0; i < faults_.size(); ++i) {
      const Fault& f = faults_[i];
      if (handed < f.from_ns || (f.until_ns > 0 && handed >= f.until_ns) || !matches(f)) continue;
      const std::uint32_t n = ++matches_[i];
      if ((f.nth.empty() && f.first == 0) || n <= f.first || std::binary_search(f.nth.begin(), f.nth.end(), n))
        fault = true;
    }
    last = fault ? kDropFault : kDropLoss;
    return fault || (loss_ && loss_->IsCorrupt(p));
  }
  void DoReset() override {}

  // bytes_: a 2-byte PPP header (the device has not taken it off yet), IPv4, TCP.
  bool matches(const Fault& f) const {
    constexpr std::size_t kPpp = 2;
    if (bytes_.size() < kPpp + 20 || bytes_[kPpp + 9] != 6) return false;
    const std::uint8_t* ip = bytes_.data() + kPpp;
    const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
    const std::size_t total = static_cast<std::size_t>(ip[2]) << 8 | ip[3];
    if (bytes_.size() < kPpp + ihl + 20 || total < ihl + 20) return false;
    const auto u32 = [](const std::uint8_t* b) {
      return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
    };
    if (f.has_src && u32(ip + 12) != f.src) return false;
    if (f.has_dst && u32(ip + 16) != f.dst) return false;
    const std::uint8_t* tcp = ip + ihl;
    const int sport = tcp[0] << 8 | tcp[1], dport = tcp[2] << 8 | tcp[3];
    if ((f.src_port >= 0 && sport != f.src_port) || (f.dst_port >= 0 && dport != f.dst_port)) return false;
    if ((tcp[13] & f.flags_mask) != (f.flags & f.flags_mask)) return false;
    const std::size_t header = static_cast<std::size_t>(tcp[12] >> 4) * 4;
    return !f.with_payload || total > ihl + header;
  }

  std::vector<Fault> faults_;
  std::int64_t delay_ns_;
  Ptr<ns3::ErrorModel> loss_;
  std::vector<std::uint32_t> matches_;
  std::vector<std::uint8_t> bytes_;
};

class Run {
 public:
  Run(const Simulation& sim, Reports& reports) : sim_(sim), reports_(reports) {}

  void build() {
    using namespace ns3;
    nodes_.Create(static_cast<std::uint32_t>(sim_.nodes.size()));
    InternetStackHelper internet;
    internet.Install(nodes_);
    std::uint32_t next_router_address = 0x64400001;  // 100.64.0.1 on: routers' interfaces, never a host's
    ifaces_.resize(sim_.links.size());
    receivers_.resize(sim_.links.size());
    devices_.resize(sim_.links.size());
    std::vector<bool> held(sim_.links.size(), false);  // a hold or a change: models on both devices
    for (const LinkHold& h : sim_.holds) held.at(h.link) = true;
    for (const LinkChange& c : sim_.changes) held.at(c.link) = true;
    for (std::size_t li = 0; li < sim_.links.size(); ++li) {
      const Link& l = sim_.links[li];
      PointToPointHelper p2p;
      p2p.SetChannelAttribute("Delay", TimeValue(NanoSeconds(l.delay_ns)));
      NetDeviceContainer devices = p2p.Install(nodes_.Get(l.a), nodes_.Get(l.b));
      for (int end = 0; end < 2; ++end) {
        // Device `end` sends the direction leaving it; the far device receives it, and
        // its receive error model is that direction's loss.
        const Direction& out = end == 0 ? l.forward : l.backward;
        const Direction& in = end == 0 ? l.backward : l.forward;
        const std::uint32_t node = end == 0 ? l.a : l.b;
        auto dev = DynamicCast<PointToPointNetDevice>(devices.Get(static_cast<std::uint32_t>(end)));
        devices_[li][static_cast<std::size_t>(end)] = dev;
        configure_device(dev, out);
        Ptr<Queue<Packet>> q = dev->GetQueue();
        q->TraceConnectWithoutContext("Drop", Callback<void, Ptr<const Packet>>(
                                                  [this](Ptr<const Packet>) { ++result_.drops[kDropQueue]; }));
        Ptr<RateErrorModel> loss;
        if (in.loss > 0) {
          loss = CreateObject<RateErrorModel>();
          loss->SetAttribute("ErrorRate", DoubleValue(in.loss));
          loss->SetAttribute("ErrorUnit", StringValue("ERROR_UNIT_PACKET"));
        }
        Ptr<FaultModel> faults;
        if (!in.faults.empty() || in.down || held[li])
          faults = CreateObject<FaultModel>(in.faults, l.delay_ns, loss);
        if (faults) {
          faults->down = in.down;
          dev->SetReceiveErrorModel(faults);
          receivers_[li][static_cast<std::size_t>(1 - end)] = faults;
        } else if (loss) {
          dev->SetReceiveErrorModel(loss);
        }
        dev->TraceConnectWithoutContext("PhyRxDrop", Callback<void, Ptr<const Packet>>([this, faults](Ptr<const Packet>) {
                                          ++result_.drops[faults ? faults->last : kDropLoss];
                                        }));
        Ptr<Ipv4> ipv4 = nodes_.Get(node)->GetObject<Ipv4>();
        const std::int32_t iface = ipv4->AddInterface(dev);
        const Node& spec = sim_.nodes[node];
        const std::uint32_t a = spec.host ? spec.address : next_router_address++;
        ipv4->AddAddress(iface, Ipv4InterfaceAddress(Ipv4Address(a), Ipv4Mask("255.255.255.255")));
        ipv4->SetUp(iface);
        ifaces_[li][static_cast<std::size_t>(end)] = static_cast<std::uint32_t>(iface);
        if (spec.host && spec.pcap && !sim_.pcap_dir.empty()) {
          p2p.EnablePcap(sim_.pcap_dir + "/" + spec.name + ".pcap", dev, false, true);
          ++result_.pcap_files;
        }
      }
    }
    // shakedown's routes: a host sends everything on its one link; a router as
    // shakedown's router does.
    Ipv4StaticRoutingHelper routing;
    for (std::uint32_t n = 0; n < sim_.nodes.size(); ++n) {
      Ptr<Ipv4> ipv4 = nodes_.Get(n)->GetObject<Ipv4>();
      Ptr<Ipv4L3Protocol> l3 = ipv4->GetObject<Ipv4L3Protocol>();
      l3->TraceConnectWithoutContext(
          "Drop", Callback<void, const Ipv4Header&, Ptr<const Packet>, Ipv4L3Protocol::DropReason, Ptr<Ipv4>,
                           std::uint32_t>([this](const Ipv4Header&, Ptr<const Packet>, Ipv4L3Protocol::DropReason r,
                                                 Ptr<Ipv4>, std::uint32_t) {
            ++result_.drops[r == Ipv4L3Protocol::DROP_TTL_EXPIRED ? kDropTtl : kDropNoRoute];
          }));
      // A device's queue, when full, stops it (flow control); with no queue disc the
      // traffic control layer then drops what comes: the tail drop of a full queue.
      nodes_.Get(n)->GetObject<TrafficControlLayer>()->TraceConnectWithoutContext(
          "TcDrop", Callback<void, Ptr<const Packet>>([this](Ptr<const Packet>) { ++result_.drops[kDropQueue]; }));
      const Node& spec = sim_.nodes[n];
      if (!spec.host) continue;
      routing.GetStaticRouting(ipv4)->AddNetworkRouteTo(Ipv4Address("0.0.0.0"), Ipv4Mask("0.0.0.0"),
                                                        iface_of(n, spec.link));
      nodes_.Get(n)->GetObject<TcpL4Protocol>()->SetAttribute("SocketType",
                                                              TypeIdValue(TypeId::LookupByName(spec.tcp.congestion)));
      watch_host(n, l3);
    }
    // Holds: both directions' receivers (index 0 receives what end a sends).
    for (const LinkHold& h : sim_.holds)
      Simulator::Schedule(NanoSeconds(h.at_ns), [this, h] {
        for (const Ptr<FaultModel>& m : receivers_[h.link]) m->holds += h.hold ? 1 : (m->holds > 0 ? -1 : 0);
      });
    // Changes: the channel's delay, the sending device's rate, MTU and queue, the
    // receiving device's loss and down.
    for (const LinkChange& c : sim_.changes)
      Simulator::Schedule(NanoSeconds(c.at_ns), [this, c] {
        if (c.delay_ns >= 0) {
          devices_[c.link][0]->GetChannel()->SetAttribute("Delay", TimeValue(NanoSeconds(c.delay_ns)));
          for (const Ptr<FaultModel>& m : receivers_[c.link]) m->set_delay(c.delay_ns);
        }
        for (int d = 0; d < 2; ++d) {
          if (!(d == 0 ? c.forward_set : c.backward_set)) continue;
          const Direction& n = d == 0 ? c.forward : c.backward;
          configure_device(devices_[c.link][static_cast<std::size_t>(d)], n);
          receivers_[c.link][static_cast<std::size_t>(d)]->set_loss(n.loss);
          receivers_[c.link][static_cast<std::size_t>(d)]->down = n.down;
        }
      });
    for (const Route& r : sim_.routes)
      routing.GetStaticRouting(nodes_.Get(r.router)->GetObject<Ipv4>())
          ->AddHostRouteTo(Ipv4Address(r.destination), iface_of(r.router, r.link));
  }

  void add(const Workload& w) {
    using namespace ns3;
    if (w.listen) {
      Ptr<Socket> listener = Socket::CreateSocket(nodes_.Get(w.server), TcpSocketFactory::GetTypeId());
      configure(listener, w.server, w.segment_size);
      listener->Bind(InetSocketAddress(Ipv4Address::GetAny(), w.port));
      listener->Listen();
      listener->SetAcceptCallback(
          Callback<bool, Ptr<Socket>, const Address&>([](Ptr<Socket>, const Address&) { return true; }),
          Callback<void, Ptr<Socket>, const Address&>([this, &w](Ptr<Socket> s, const Address& from) {
            Conn& c = conns_.emplace_back();
            c.w = &w;
            c.socket = s;
            c.host = w.server;
            const InetSocketAddress peer = InetSocketAddress::ConvertFrom(from);
            c.remote = peer.GetIpv4().Get();
            c.remote_port = peer.GetPort();
            c.local_port = w.port;
            hook(c);
            readable(c);  // what came with or after the handshake's last ACK
          }));
      listeners_.push_back(listener);
    }
    for (std::size_t k = 0; k < w.starts_ns.size(); ++k) {
      const std::uint32_t host = w.clients[k % w.clients.size()];
      Simulator::Schedule(NanoSeconds(w.starts_ns[k]), [this, &w, host] { open(w, host); });
    }
  }

  void open(const Workload& w, std::uint32_t host) {
    using namespace ns3;
    Conn& c = conns_.emplace_back();
    c.client = true;
    c.w = &w;
    c.host = host;
    c.remote = sim_.nodes[w.server].address;
    c.remote_port = w.port;
    c.socket = Socket::CreateSocket(nodes_.Get(host), TcpSocketFactory::GetTypeId());
    configure(c.socket, host, w.segment_size);
    c.socket->Bind();
    Address local;
    c.socket->GetSockName(local);
    c.local_port = InetSocketAddress::ConvertFrom(local).GetPort();
    hook(c);
    Conn* p = &c;
    c.socket->SetConnectCallback(Callback<void, Ptr<Socket>>([this, p](Ptr<Socket>) { advance_client(*p); }),
                                 Callback<void, Ptr<Socket>>([p](Ptr<Socket>) { p->ended = true; }));
    c.socket->Connect(InetSocketAddress(Ipv4Address(c.remote), c.remote_port));
  }

  Result finish_run(const std::function<bool(std::int64_t, std::uint64_t)>& keep_going) {
    using namespace ns3;
    // Every 10 ms of simulated time (and at the stop time): Ctrl-C, the stop time, and
    // whether anything but this check is left to happen.
    constexpr std::int64_t kStep = 10'000'000;
    std::uint64_t checks = 0;
    std::function<void()> check;
    check = [&] {
      ++checks;
      const std::int64_t now = Simulator::Now().GetNanoSeconds();
      if (!keep_going(now, Simulator::GetEventCount() - checks)) {
        result_.interrupted = true;
        Simulator::Stop();
      } else if (now >= sim_.limit_ns) {
        result_.stopped_at_limit = true;
        Simulator::Stop();
      } else if (!sim_.stop_when_idle || !Simulator::IsFinished()) {
        Simulator::Schedule(NanoSeconds(std::min(kStep, sim_.limit_ns - now)), check);
      }
    };
    Simulator::ScheduleNow(check);
    Simulator::Run();
    result_.events = Simulator::GetEventCount() - checks;
    // Idle before the stop time: the run ended with its last report, as shakedown's
    // engine ends with its last event.
    const bool idle = !result_.interrupted && !result_.stopped_at_limit;
    result_.last_ns = idle ? last_ns_ : Simulator::Now().GetNanoSeconds();
    return result_;
  }

 private:
  // A device's side of a direction: what it sends at, how big, how much it queues.
  static void configure_device(Ptr<ns3::PointToPointNetDevice> dev, const Direction& out) {
    using namespace ns3;
    // No rate: as good as none (a 1,500-byte packet takes 0 ns at a petabit).
    dev->SetDataRate(ns3::DataRate(out.rate_bps != 0 ? out.rate_bps : 1'000'000'000'000'000ull));
    if (out.mtu != 0) dev->SetMtu(static_cast<std::uint16_t>(std::min<std::uint32_t>(out.mtu, 65535)));
    Ptr<Queue<Packet>> q = dev->GetQueue();
    if (out.queue_bytes != 0)
      q->SetMaxSize(QueueSize(QueueSizeUnit::BYTES, static_cast<std::uint32_t>(out.queue_bytes)));
    else
      q->SetMaxSize(QueueSize(QueueSizeUnit::PACKETS, out.queue_packets));
  }

  std::uint32_t iface_of(std::uint32_t node, std::uint32_t link) const {
    return ifaces_[link][sim_.links[link].a == node ? 0 : 1];
  }

  void configure(Ptr<ns3::Socket> s, std::uint32_t host, std::uint32_t segment_size) {
    using namespace ns3;
    const Tcp& t = sim_.nodes[host].tcp;
    s->SetAttribute("SegmentSize", UintegerValue(segment_size));
    s->SetAttribute("RcvBufSize", UintegerValue(t.receive_buffer));
    s->SetAttribute("InitialCwnd", UintegerValue(t.initial_window));
    s->SetAttribute("ConnTimeout", TimeValue(NanoSeconds(t.initial_rto_ns)));
    // ConnCount counts SYNs sent, the first among them: one more than retransmissions.
    s->SetAttribute("ConnCount", UintegerValue(t.syn_retries + 1));
    s->SetAttribute("DataRetries", UintegerValue(t.data_retries));
    s->SetAttribute("DelAckCount", UintegerValue(t.delayed_ack_ns > 0 ? 2 : 1));
    if (t.delayed_ack_ns > 0) s->SetAttribute("DelAckTimeout", TimeValue(NanoSeconds(t.delayed_ack_ns)));
    s->SetAttribute("TcpNoDelay", BooleanValue(!t.nagle));
    s->SetAttribute("MaxSegLifetime", DoubleValue(static_cast<double>(t.msl_ns) / 1e9));
    s->SetAttribute("WindowScaling", BooleanValue(t.window_scaling));
    s->SetAttribute("Sack", BooleanValue(t.sack));
    s->SetAttribute("Timestamp", BooleanValue(t.timestamps));
    s->SetAttribute("MinRto", TimeValue(NanoSeconds(t.min_rto_ns)));
    s->SetAttribute("ReTxThreshold", UintegerValue(t.dupack_threshold));
  }

  // The callbacks every connection's socket gets, and ns-3's State trace for the ends
  // no segment shows.
  void hook(Conn& c) {
    using namespace ns3;
    Conn* p = &c;
    c.socket->SetRecvCallback(Callback<void, Ptr<Socket>>([this, p](Ptr<Socket>) { readable(*p); }));
    c.socket->SetSendCallback(
        Callback<void, Ptr<Socket>, std::uint32_t>([this, p](Ptr<Socket>, std::uint32_t) { advance(*p); }));
    c.socket->SetCloseCallbacks(Callback<void, Ptr<Socket>>([this, p](Ptr<Socket>) {
                                  p->peer_closed = true;
                                  advance(*p);
                                }),
                                Callback<void, Ptr<Socket>>([this, p](Ptr<Socket>) {
                                  // A RST was seen first, through the segments; what is left is
                                  // LAST_ACK's retries running out, which ns-3 ends by forgetting
                                  // the connection without leaving the state.
                                  p->ended = true;
                                  const std::int64_t t = Simulator::Now().GetNanoSeconds();
                                  last_ns_ = std::max(last_ns_, t);
                                  reports_.ended(p->host, t, p->remote, p->local_port, p->remote_port, true);
                                }));
    c.socket->TraceConnectWithoutContext(
        "State", Callback<void, TcpSocket::TcpStates_t, TcpSocket::TcpStates_t>(
                     [this, p](TcpSocket::TcpStates_t from, TcpSocket::TcpStates_t to) {
                       if (to != TcpSocket::CLOSED || from == TcpSocket::CLOSED || from == TcpSocket::LISTEN) return;
                       const std::int64_t t = Simulator::Now().GetNanoSeconds();
                       last_ns_ = std::max(last_ns_, t);
                       // Segments report a RST first (the side has seen it). What is left:
                       // TIME_WAIT's end; LAST_ACK left on an ACK (ns-3 takes any ACK at the
                       // next sequence number, docs/ns3.md); else retransmissions ran out.
                       reports_.ended(p->host, t, p->remote, p->local_port, p->remote_port,
                                      from != TcpSocket::TIME_WAIT && from != TcpSocket::LAST_ACK);
                     }));
  }

  void readable(Conn& c) {
    while (Ptr<ns3::Packet> packet = c.socket->Recv()) {
      if (packet->GetSize() == 0) break;
      c.received += packet->GetSize();
    }
    advance(c);
  }

  void advance(Conn& c) { c.client ? advance_client(c) : advance_server(c); }

  // Writes what the socket takes of what the application has produced.
  void push(Conn& c) {
    while (c.released > c.sent) {
      const std::uint32_t room = c.socket->GetTxAvailable();
      if (room == 0) break;
      const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(room, c.released - c.sent));
      const int took = c.socket->Send(ns3::Create<ns3::Packet>(n));
      if (took <= 0) break;
      c.sent += static_cast<std::uint64_t>(took);
    }
  }

  void close(Conn& c) {
    c.shut = true;
    c.socket->Close();
  }

  // Round k is complete once its request is sent and its response received; the next
  // request follows after the think time.
  void advance_client(Conn& c) {
    if (c.ended || c.shut) return;
    const Workload& w = *c.w;
    if (c.round == 0 && c.released == 0 && w.rounds > 0) c.released = w.request;
    for (;;) {
      push(c);
      if (c.waiting || c.round >= w.rounds) break;
      if (c.sent < (c.round + 1) * w.request || c.received < (c.round + 1) * w.response) break;
      if (++c.round >= w.rounds) break;
      if (w.think_ns > 0) {
        c.waiting = true;
        Conn* p = &c;
        ns3::Simulator::Schedule(ns3::NanoSeconds(w.think_ns), [this, p] {
          p->waiting = false;
          p->released += p->w->request;
          advance_client(*p);
        });
        break;
      }
      c.released += w.request;
    }
    const bool done_sending = c.sent == c.out();
    const bool done = done_sending && c.received >= c.in();
    if (w.client_closes ? done : c.peer_closed && done_sending) close(c);
  }

  void advance_server(Conn& c) {
    if (c.ended) return;
    const Workload& w = *c.w;
    if (w.echo) {
      c.released = c.received;
    } else {
      while (c.served < w.rounds && c.received >= (c.served + 1) * w.request) {
        ++c.served;
        c.released += w.response;
      }
    }
    push(c);
    if (c.shut) return;
    const bool done_receiving = c.received >= c.out();
    const bool done_sending =
        w.echo ? done_receiving && c.sent == c.received : w.response == 0 || (c.served == w.rounds && c.sent == c.released);
    if (w.server_closes ? done_sending && done_receiving : c.peer_closed && done_sending) close(c);
  }

  // Every packet the host's IPv4 layer sends, and every one it hands up, as bytes.
  void watch_host(std::uint32_t host, Ptr<ns3::Ipv4L3Protocol> l3) {
    using namespace ns3;
    for (const bool sent : {true, false})
      l3->TraceConnectWithoutContext(
          sent ? "SendOutgoing" : "LocalDeliver",
          Callback<void, const Ipv4Header&, Ptr<const Packet>, std::uint32_t>(
              [this, host, sent](const Ipv4Header& ip, Ptr<const Packet> segment, std::uint32_t) {
                const std::int64_t t = Simulator::Now().GetNanoSeconds();
                last_ns_ = std::max(last_ns_, t);
                Ptr<Packet> p = segment->Copy();
                p->AddHeader(ip);
                bytes_.resize(p->GetSize());
                p->CopyData(bytes_.data(), static_cast<std::uint32_t>(bytes_.size()));
                sent ? reports_.sent(host, t, bytes_.data(), bytes_.size())
                     : reports_.delivered(host, t, bytes_.data(), bytes_.size());
              }));
  }

  const Simulation& sim_;
  Reports& reports_;
  Result result_;
  std::int64_t last_ns_ = 0;
  std::vector<std::uint8_t> bytes_;  // a packet being reported
  ns3::NodeContainer nodes_;
  std::vector<std::array<std::uint32_t, 2>> ifaces_;  // by link: the interfaces of end a and end b
  // By link: the error models of the device at b (what a sends) and at a.
  std::vector<std::array<Ptr<FaultModel>, 2>> receivers_;
  std::vector<std::array<Ptr<ns3::PointToPointNetDevice>, 2>> devices_;  // by link: at a, at b
  std::vector<Ptr<ns3::Socket>> listeners_;
  std::deque<Conn> conns_;  // stable addresses: the callbacks hold pointers
};

}  // namespace

Result run(const Simulation& sim, Reports& reports,
           const std::function<bool(std::int64_t now_ns, std::uint64_t events)>& keep_going) {
  using namespace ns3;
  Simulator::Destroy();
  // Real checksums, as every shakedown packet has: captures open cleanly, and the
  // recorder reads the segments as it reads any host's.
  GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));
  RngSeedManager::SetSeed(static_cast<std::uint32_t>(sim.seed % 0xffffffffu) + 1);
  RngSeedManager::SetRun(sim.seed >> 32);
  Result result;
  {
    Run run(sim, reports);
    run.build();
    for (const Workload& w : sim.workloads) run.add(w);
    result = run.finish_run(keep_going);
    Simulator::Destroy();
  }
  return result;
}

}  // namespace shakedown::ns3sim
