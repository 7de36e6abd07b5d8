#include "controller/captures.h"

#include <filesystem>

namespace shakedown::controller {

Captures::Captures(const topology::Topology& topology, const Network& network, const std::string& dir, Mode mode,
                   const std::vector<std::uint32_t>& hosts) {
  const std::size_t directions = static_cast<std::size_t>(topology.links_size()) * 2;
  on_enqueue_.assign(directions, nullptr);
  on_deliver_.assign(directions, nullptr);
  const std::filesystem::path base(dir);
  if (mode == Mode::links) {
    for (int l = 0; l < topology.links_size(); ++l) {
      const auto& link = topology.links(l);
      writers_.push_back(std::make_unique<PcapWriter>(
          (base / (network.name(link.a()) + "--" + network.name(link.b()) + ".pcap")).string()));
      on_enqueue_[static_cast<std::size_t>(l) * 2] = writers_.back().get();
      on_enqueue_[static_cast<std::size_t>(l) * 2 + 1] = writers_.back().get();
    }
    return;
  }
  std::vector<std::uint32_t> selected = hosts;
  if (selected.empty())
    for (std::uint32_t n = 0; n < network.node_count(); ++n)
      if (network.is_host(n)) selected.push_back(n);
  for (const std::uint32_t h : selected) {
    writers_.push_back(std::make_unique<PcapWriter>((base / (network.name(h) + ".pcap")).string()));
    const std::size_t out = static_cast<std::size_t>(network.host_link(h)) * 2 +
                            static_cast<std::size_t>(network.host_link_direction(h));
    on_enqueue_[out] = writers_.back().get();
    on_deliver_[out ^ 1u] = writers_.back().get();
  }
}

void Captures::on_packet(const PacketEvent& e) {
  if (e.site.kind != Site::Kind::link) return;
  const std::size_t d = static_cast<std::size_t>(e.site.id) * 2 + e.site.direction;
  PcapWriter* w = nullptr;
  if (e.kind == PacketEventKind::enqueue) w = on_enqueue_[d];
  if (e.kind == PacketEventKind::deliver) w = on_deliver_[d];
  if (w != nullptr) w->write(e.time, e.packet.bytes());
}

void Captures::flush() {
  for (auto& w : writers_) w->flush();
}

std::uint64_t Captures::records() const {
  std::uint64_t n = 0;
  for (const auto& w : writers_) n += w->records();
  return n;
}

}  // namespace shakedown::controller
