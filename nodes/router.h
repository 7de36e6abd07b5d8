// A router: forwards IPv4 packets by longest-prefix match, decrementing TTL. Each
// output interface's queue is its link's queue. What it cannot forward is dropped
// with a reason the observer sees: `corrupt` (a header checksum that fails, or a
// header too broken to read), `ttl`, `no_route`.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "emulator/link.h"
#include "emulator/trace.h"
#include "nodes/routing.h"

namespace shakedown {

struct RouterStats {
  std::uint64_t forwarded = 0;
  std::uint64_t dropped[kDropReasonCount] = {};
  std::uint64_t drops(DropReason r) const { return dropped[static_cast<int>(r)]; }
  template <typename F>
  void each(F&& f) {  // every counter (LinkStats::each)
    f(forwarded);
    for (auto& d : dropped) f(d);
  }
};

class Router {
 public:
  Router(Engine& engine, std::uint32_t node_id, Observer* observer = nullptr);
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Adds an interface sending into `out` (the link direction leaving this router);
  // returns its number. The receiver returned by `input(i)` is what the link direction
  // arriving at this router delivers to.
  std::uint32_t add_interface(LinkDirection& out);
  PacketReceiver& input(std::uint32_t interface) { return *inputs_[interface]; }
  RoutingTable& routes() { return routes_; }
  const RoutingTable& routes() const { return routes_; }
  const RouterStats& stats() const { return stats_; }
  void set_stats(const RouterStats& s) { stats_ = s; }  // a distributed run's sums (RouterStats::each)

 private:
  class Input final : public PacketReceiver {
   public:
    Input(Router& router, std::uint32_t interface) : router_(router), interface_(interface) {}
    void receive(PacketPtr packet) override { router_.forward(interface_, std::move(packet)); }

   private:
    Router& router_;
    std::uint32_t interface_;
  };

  void forward(std::uint32_t from, PacketPtr packet);
  void drop(const Packet& packet, DropReason reason);

  Engine& engine_;
  std::uint32_t node_id_;
  Observer* observer_;
  RoutingTable routes_;
  std::vector<LinkDirection*> outputs_;
  std::vector<std::unique_ptr<Input>> inputs_;
  RouterStats stats_;
};

// RFC 1624: the header checksum after one 16-bit word changed from `old_word` to
// `new_word`, without summing the header again.
std::uint16_t checksum_adjust(std::uint16_t checksum, std::uint16_t old_word, std::uint16_t new_word);

}  // namespace shakedown
