// A link direction between a scripted sender and a recording receiver.
#pragma once

#include <cstdint>
#include <vector>

#include "emulator/engine.h"
#include "emulator/link.h"
#include "emulator/packet.h"
#include "test_packets.h"

namespace shakedown::testing {

struct Arrival {
  TimePoint time;
  std::uint32_t tag;
  bool duplicate;
  std::vector<std::uint8_t> bytes;  // kept only when asked
};

class Recorder final : public PacketReceiver {
 public:
  Recorder(Engine& engine, bool keep_bytes) : engine_(engine), keep_bytes_(keep_bytes) {}
  void receive(PacketPtr p) override {
    Arrival a{engine_.now(), tag_of(*p), p->duplicate, {}};
    if (keep_bytes_) a.bytes.assign(p->bytes().begin(), p->bytes().end());
    arrivals.push_back(std::move(a));
  }
  std::vector<Arrival> arrivals;

 private:
  Engine& engine_;
  bool keep_bytes_;
};

// Members in this order so that the link dies first and returns its packets to the pool.
struct LinkHarness {
  explicit LinkHarness(const LinkParams& params, std::uint64_t seed = 1, bool keep_bytes = false)
      : recorder(engine, keep_bytes), link(engine, pool, seed, "test/0", Site{}, params) {
    link.set_receiver(&recorder);
  }
  void send_at(TimePoint t, std::uint32_t tag, std::size_t payload = 100) {
    engine.at(t, [this, tag, payload] { link.send(make_udp(pool, tag, payload)); });
  }
  // n packets, one every `gap`, starting at time zero; tags 0..n-1.
  void send_train(int n, Duration gap, std::size_t payload = 100) {
    for (int i = 0; i < n; ++i) send_at(TimePoint::zero() + gap * i, static_cast<std::uint32_t>(i), payload);
  }
  std::vector<std::uint32_t> tags() const {
    std::vector<std::uint32_t> t;
    for (const auto& a : recorder.arrivals) t.push_back(a.tag);
    return t;
  }

  Engine engine;
  PacketPool pool;
  Recorder recorder;
  LinkDirection link;
};

}  // namespace shakedown::testing
