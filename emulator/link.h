// Point-to-point full-duplex links. Each direction is an impairment chain (see
// link_params.h for the order and netem's meaning of every parameter).
//
// Scale: a direction keeps at most three engine events whatever the number of packets
// it holds — one for the end of the current serialization, one for the earliest
// arrival in its delay line, one for the earliest release of the packets a targeted
// fault holds (htsim's head-packet scheduling, ARCHITECTURE rule 6).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulator/engine.h"
#include "emulator/fifo.h"
#include "emulator/jitter.h"
#include "emulator/link_params.h"
#include "emulator/loss.h"
#include "emulator/packet.h"
#include "emulator/random.h"
#include "emulator/trace.h"

namespace shakedown {

// What sits at the far end of a link direction: a node's interface.
class PacketReceiver {
 public:
  virtual ~PacketReceiver() = default;
  virtual void receive(PacketPtr packet) = 0;
};

struct LinkStats {
  std::uint64_t enqueued_packets = 0;
  std::uint64_t enqueued_bytes = 0;
  std::uint64_t delivered_packets = 0;
  std::uint64_t delivered_bytes = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t corrupted = 0;
  std::uint64_t reordered = 0;  // sent at once by the reorder stage
  std::uint64_t dropped[kDropReasonCount] = {};
  std::uint32_t max_queue_packets = 0;

  std::uint64_t drops(DropReason r) const { return dropped[static_cast<int>(r)]; }
  // Every counter (adding up the processes of a distributed run: each counts only what
  // it ran, so the sums are the counts of one process).
  template <typename F>
  void each(F&& f) {
    f(enqueued_packets), f(enqueued_bytes), f(delivered_packets), f(delivered_bytes);
    f(duplicated), f(corrupted), f(reordered), f(max_queue_packets);
    for (auto& d : dropped) f(d);
  }
};

class LinkDirection final : private EventHandler {
 public:
  // `component` names the direction for its random streams, e.g. "link/3/0"; the same
  // name and run seed give the same draws.
  LinkDirection(Engine& engine, PacketPool& pool, std::uint64_t run_seed, std::string component, Site site,
                const LinkParams& params);
  LinkDirection(const LinkDirection&) = delete;
  LinkDirection& operator=(const LinkDirection&) = delete;
  ~LinkDirection();

  void set_receiver(PacketReceiver* receiver) { receiver_ = receiver; }

  // A distributed run's cut link: the far end lives in another process. The near end
  // hands each packet to `carry` as it enters the delay line — when it will arrive, and
  // its place in the line — instead of keeping it; the far end's copy of the direction
  // takes it with arrive() and hands it over exactly as a whole link would (the same
  // event, with the same key). Nothing else of the direction changes.
  using Carry = std::function<void(TimePoint arrival, std::uint64_t seq, PacketPtr packet)>;
  void set_far_end_away(Carry carry) { carry_ = std::move(carry); }
  void arrive(TimePoint arrival, std::uint64_t seq, PacketPtr packet);
  void set_observer(Observer* observer) { observer_ = observer; }

  // Hands a packet to the link at engine.now().
  void send(PacketPtr packet);

  // Changes any parameter while running. Packets already serialized or in flight keep
  // the delay they were given; the packet being serialized finishes at the old rate.
  // Models with state (loss chains, correlations, the reorder counter) restart.
  void set_params(const LinkParams& params);
  // Down drops everything queued and in flight (reason link_down) and then every packet
  // sent until it is up again. This is the link's own setting (LinkParams::up).
  void set_up(bool up);
  // A fault that takes the link down for a while (a partition, a `down` fault) holds
  // it down, and lets go when it ends: the direction is up when its own setting says
  // up and nothing holds it down, so a fault's end restores what was there before it,
  // however faults overlap.
  void hold_down(bool hold);
  bool up() const { return params_.up && down_holds_ == 0; }
  // Targeted faults act on packets as they are handed to the link, before anything
  // else; a held packet re-enters the link, past the faults, when its delay is over.
  // Each fault draws (the bit a corruption flips) from its own random stream, so that
  // adding a fault changes nothing the impairments do.
  void add_fault(PacketFault fault);
  std::size_t held_packets() const { return held_.size(); }

  const LinkParams& params() const { return params_; }
  const LinkStats& stats() const { return stats_; }
  void set_stats(const LinkStats& s) { stats_ = s; }  // a distributed run's sums (LinkStats::each)
  std::size_t queued_packets() const { return queue_.size(); }
  std::size_t in_flight() const { return delay_line_.size(); }
  const Site& site() const { return site_; }

 private:
  enum Event : std::uint64_t { kTransmissionDone, kDeliveryDue, kHeldRelease };
  void on_event(std::uint64_t tag) override;

  struct InFlight {
    TimePoint arrival;
    std::uint64_t seq;  // keeps equal arrival times in send order
    PacketPtr packet;
  };
  struct Later {
    bool operator()(const InFlight& a, const InFlight& b) const {
      return a.arrival > b.arrival || (a.arrival == b.arrival && a.seq > b.seq);
    }
  };

  Scheduler::Key delivery_key(const InFlight& f) const;
  void build_stages();
  // Applies targeted faults; true if the packet was consumed (dropped or held).
  bool apply_faults(PacketPtr& packet);
  void enter(PacketPtr packet);
  void release_held();
  static void flip_random_bit(Packet& packet, RandomStream& rng);
  void flush();  // drops everything queued and in flight: the direction went down
  void start_transmission();
  void transmission_done();
  // netem_enqueue from the duplicate decision on; `may_duplicate` is false for the copy.
  void impair(PacketPtr packet, bool may_duplicate);
  void propagate(PacketPtr packet);
  void enter_delay_line(TimePoint arrival, PacketPtr packet);
  void deliver_due();
  void drop(PacketPtr packet, DropReason reason);
  void emit(PacketEventKind kind, const Packet& packet, DropReason reason = DropReason::loss);
  Duration serialization_time(std::size_t bytes) const;

  Engine& engine_;
  PacketPool& pool_;
  std::uint64_t run_seed_;
  std::string component_;
  Site site_;
  LinkParams params_;
  PacketReceiver* receiver_ = nullptr;
  Observer* observer_ = nullptr;
  Carry carry_;

  // Stage: drop-tail queue and serialization.
  Fifo<PacketPtr> queue_;
  std::uint64_t queue_bytes_ = 0;
  PacketPtr on_wire_;
  EventId transmission_event_;

  // Stages: duplicate, loss, corrupt, reorder, delay. Each owns its random stream.
  std::optional<LossStage> loss_;
  std::optional<JitterStage> jitter_;
  RandomStream duplicate_rng_{0};
  RandomStream corrupt_rng_{0};
  RandomStream reorder_rng_{0};
  CorrelatedDraw duplicate_draw_;
  CorrelatedDraw corrupt_draw_;
  CorrelatedDraw reorder_draw_;
  std::uint32_t duplicate_threshold_ = 0;
  std::uint32_t corrupt_threshold_ = 0;
  std::uint32_t reorder_threshold_ = 0;
  std::uint32_t reorder_counter_ = 0;
  std::uint32_t params_version_ = 0;  // distinguishes streams after set_params
  std::uint32_t down_holds_ = 0;      // faults holding the direction down now

  // Stage: the delay line, a min-heap on (arrival, seq).
  std::vector<InFlight> delay_line_;
  std::uint64_t next_seq_ = 0;
  TimePoint last_arrival_ = TimePoint::zero();
  EventId delivery_event_;
  Owner far_owner_ = owners::kNone;  // whose events the hand-overs are

  // Targeted faults, and the packets they hold (a min-heap on release time).
  struct Fault {
    PacketFault spec;
    std::uint32_t seen = 0;
    RandomStream rng{0};
    bool acting = false;  // on the packet being handed over now
  };
  std::vector<Fault> faults_;
  std::vector<InFlight> held_;
  EventId held_event_;

  LinkStats stats_;
};

class Link {
 public:
  // Directions: 0 carries packets from the first end to the second, 1 back.
  Link(Engine& engine, PacketPool& pool, std::uint64_t run_seed, std::uint32_t id, const LinkParams& forward,
       const LinkParams& backward);

  std::uint32_t id() const { return id_; }
  LinkDirection& direction(int d) { return *directions_[d]; }
  const LinkDirection& direction(int d) const { return *directions_[d]; }
  void set_up(bool up);
  void hold_down(bool hold);
  void set_observer(Observer* observer);

 private:
  std::uint32_t id_;
  std::unique_ptr<LinkDirection> directions_[2];
};

}  // namespace shakedown
