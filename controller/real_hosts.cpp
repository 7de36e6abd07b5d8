#include "controller/real_hosts.h"

#include <unistd.h>

#include <array>
#include <stdexcept>

#include <fmt/format.h>

namespace shakedown::controller {

std::vector<std::uint32_t> real_hosts(const topology::Topology& topo) {
  std::vector<std::uint32_t> out;
  for (int n = 0; n < topo.nodes_size(); ++n)
    if (topo.nodes(n).kind() == topology::Node::HOST && topo.nodes(n).has_real())
      out.push_back(static_cast<std::uint32_t>(n));
  return out;
}

struct RealHosts::Bridge final : PacketReceiver {
  Bridge(std::unique_ptr<TunDevice> d, LinkDirection& o, PacketPool& p, RealHostStats& s, std::string n,
         std::string ns, std::uint32_t a, std::uint32_t node_id, Engine& e, RealSide* t)
      : device(std::move(d)),
        out(o),
        pool(p),
        stats(s),
        name(std::move(n)),
        netns(std::move(ns)),
        address(a),
        node(node_id),
        engine(e),
        traces(t) {}

  // The emulated network delivers to the host: out to its stack.
  void receive(PacketPtr packet) override {
    if (traces != nullptr) traces->delivered(node, engine.now().ns(), packet->bytes());
    if (device->write(packet->bytes()))
      ++stats.packets_out;
    else
      ++stats.refused;
  }

  // The stack sent: everything waiting, into the host's link at the clock's time.
  void drain() {
    std::array<std::uint8_t, 65536> buf;
    for (int i = 0; i < 4096; ++i) {
      const std::size_t n = device->read(buf);
      if (n == 0) return;
      if ((buf[0] >> 4) != 4 || n < 20) {
        ++stats.ignored;
        continue;
      }
      PacketPtr p = pool.make(n);
      std::copy_n(buf.begin(), n, p->bytes().begin());
      ++stats.packets_in;
      if (traces != nullptr) traces->sent(node, engine.now().ns(), p->bytes());
      out.send(std::move(p));
    }
  }

  std::unique_ptr<TunDevice> device;
  LinkDirection& out;
  PacketPool& pool;
  RealHostStats& stats;
  std::string name;
  std::string netns;
  bool made = false;  // the run made the namespace (and removes it)
  std::uint32_t address;
  std::uint32_t node;
  Engine& engine;
  RealSide* traces;
};

namespace {

// The longest prefix holding every host's address: the real hosts' devices route it
// to the emulated network. Below /8 the devices get a /32 and a route per host.
int common_prefix(const topology::Topology& topo) {
  std::uint32_t first = 0, differ = 0;
  bool any = false;
  for (const auto& n : topo.nodes()) {
    if (n.kind() != topology::Node::HOST) continue;
    if (!any) first = n.address(), any = true;
    differ |= first ^ n.address();
  }
  int len = 32;
  while (len > 0 && (differ >> (32 - len)) != 0) --len;
  return len;
}

std::uint32_t mtu_of(const topology::Topology& topo, std::uint32_t node) {
  for (const auto& l : topo.links())
    if (l.a() == node) return l.forward().mtu();
    else if (l.b() == node) return l.backward().mtu();
  return 1500;
}

}  // namespace

RealHosts::RealHosts(const topology::Topology& topo, Network& network, PacketPool& pool, RealtimeDriver& driver,
                     Engine& engine, RealSide* traces) {
  int prefix = std::min(common_prefix(topo), 30);
  std::vector<std::uint32_t> routes;
  if (prefix < 8) {
    prefix = 32;
    for (const auto& n : topo.nodes())
      if (n.kind() == topology::Node::HOST) routes.push_back(n.address());
    if (routes.size() > 4096)
      throw std::runtime_error(
          "the hosts' addresses share no prefix of /8 or longer, and a route each for more than 4,096 hosts is "
          "too many: give them addresses in one prefix (addresses: 198.18.0.0/15)");
  }
  int k = 0;
  for (const std::uint32_t node : real_hosts(topo)) {
    const auto& n = topo.nodes(static_cast<int>(node));
    try {
      auto ns = std::make_unique<NetNamespace>(n.real().netns());
      const bool made = ns->created();
      if (made) note_.add(ns->name());
      namespaces_.push_back(std::move(ns));
      // Run-unique: two runs joining one namespace must not reuse a device's name.
      const std::string device = fmt::format("sd{}t{}", getpid(), k++);
      auto tun = std::make_unique<TunDevice>(n.real().netns(), device, n.address(), prefix,
                                             static_cast<int>(mtu_of(topo, node)), routes);
      Link& link = network.link(network.host_link(node));
      const int d = network.host_link_direction(node);
      auto bridge = std::make_unique<Bridge>(std::move(tun), link.direction(d), pool, stats_, n.name(),
                                             n.real().netns(), n.address(), node, engine, traces);
      bridge->made = made;
      link.direction(1 - d).set_receiver(bridge.get());
      driver.watch(bridge->device->fd(), [b = bridge.get()] { b->drain(); });
      bridges_.push_back(std::move(bridge));
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("real host {}: {}", n.name(), e.what()));
    }
  }
}

RealHosts::~RealHosts() = default;

std::vector<std::string> RealHosts::describe() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < bridges_.size(); ++i) {
    const Bridge& b = *bridges_[i];
    out.push_back(fmt::format("{} in netns {} ({}), {}.{}.{}.{} on {}", b.name, b.netns,
                              b.made ? "made for this run" : "joined", b.address >> 24, (b.address >> 16) & 0xff,
                              (b.address >> 8) & 0xff, b.address & 0xff, b.device->device()));
  }
  return out;
}

}  // namespace shakedown::controller
