#include "nodes/router.h"

#include "nodes/wire/bytes.h"
#include "nodes/wire/checksum.h"
#include "nodes/wire/ipv4.h"

namespace shakedown {

std::uint16_t checksum_adjust(std::uint16_t checksum, std::uint16_t old_word, std::uint16_t new_word) {
  // HC' = ~(~HC + ~m + m')  (RFC 1624 equation 3)
  std::uint32_t sum = static_cast<std::uint16_t>(~checksum);
  sum += static_cast<std::uint16_t>(~old_word);
  sum += new_word;
  return static_cast<std::uint16_t>(~wire::checksum_fold(sum));
}

Router::Router(Engine& engine, std::uint32_t node_id, Observer* observer)
    : engine_(engine), node_id_(node_id), observer_(observer) {}

std::uint32_t Router::add_interface(LinkDirection& out) {
  const auto index = static_cast<std::uint32_t>(outputs_.size());
  outputs_.push_back(&out);
  inputs_.push_back(std::make_unique<Input>(*this, index));
  return index;
}

void Router::drop(const Packet& packet, DropReason reason) {
  ++stats_.dropped[static_cast<int>(reason)];
  if (observer_ != nullptr)
    observer_->on_packet(
        PacketEvent{engine_.now(), PacketEventKind::drop, Site{Site::Kind::node, node_id_, 0}, reason, packet});
}

void Router::forward(std::uint32_t, PacketPtr packet) {
  const auto parsed = wire::parse_ipv4(packet->bytes(), /*verify_checksum=*/true);
  if (!parsed.ok()) return drop(*packet, DropReason::corrupt);
  const wire::Ipv4Header& h = parsed.value.header;
  // RFC 1812 5.3.1: a packet whose TTL would reach zero is not forwarded.
  if (h.ttl <= 1) return drop(*packet, DropReason::ttl);
  const auto route = routes_.lookup(h.dst, flow_hash(packet->bytes()));
  if (!route || route->interface >= outputs_.size()) return drop(*packet, DropReason::no_route);
  // TTL shares its 16-bit word with the protocol field.
  std::uint8_t* b = packet->bytes().data();
  const std::uint16_t old_word = wire::get16(b + 8);
  b[8] = static_cast<std::uint8_t>(h.ttl - 1);
  wire::put16(b + 10, checksum_adjust(wire::get16(b + 10), old_word, wire::get16(b + 8)));
  ++stats_.forwarded;
  outputs_[route->interface]->send(std::move(packet));
}

}  // namespace shakedown
