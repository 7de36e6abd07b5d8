// What one direction of a link does to packets: every parameter of Linux netem
// (man tc-netem), with the same meaning, plus a transmit queue and an MTU.
//
// The chain, in the order a packet meets it (STYLE rule 7):
//
//   up? -> MTU -> drop-tail queue -> serialization at `rate`
//       -> duplicate -> loss -> corrupt -> reorder / delay + jitter -> far end
//
// Within "duplicate -> loss -> corrupt -> reorder/delay" the decisions are netem's own,
// in netem's order (netem_enqueue): a duplicate and a loss on the same packet cancel
// out; the copy goes through loss, corruption and delay again on its own.
//
// One difference from a netem qdisc, on purpose: netem applies loss before its queue,
// and its `limit` counts packets still inside the delay line. Here the queue is a
// router's transmit queue in front of the wire, as in ns-3 and htsim: a packet is
// queued, serialized at `rate`, and only then impaired and propagated. Lost packets
// therefore still use link capacity, as on a real lossy medium, and `queue` limits
// only packets waiting to be sent.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <variant>
#include <vector>

#include "emulator/packet.h"
#include "emulator/time.h"
#include "emulator/units.h"

namespace shakedown {

enum class JitterDistribution : std::uint8_t {
  uniform,       // netem's default: delay uniform in [delay - jitter, delay + jitter)
  normal,        // netem's normal.dist
  pareto,        // netem's pareto.dist
  paretonormal,  // netem's paretonormal.dist
};

struct DelayParams {
  Duration delay = Duration::zero();
  Duration jitter = Duration::zero();
  Probability correlation;  // netem's delay correlation
  JitterDistribution distribution = JitterDistribution::uniform;
  // netem sorts its delay line by send time, so jitter reorders packets. A physical
  // FIFO link does not: by default a packet never overtakes the one before it. Setting
  // this restores netem's behaviour (a switch or multipath network that may reorder).
  bool jitter_reorders = false;
  bool operator==(const DelayParams&) const = default;
};

// netem "loss random P [CORRELATION]".
struct RandomLoss {
  Probability probability;
  Probability correlation;
  bool operator==(const RandomLoss&) const = default;
};

// netem "loss gemodel p [r [1-h [1-k]]]": a Good and a Bad state. Each packet first
// draws a state change (Good->Bad with p, Bad->Good with r), then is lost with the loss
// probability of the state it was in: 1-k in Good, 1-h in Bad. tc's defaults: r = 1-p,
// 1-h = 100%, 1-k = 0%, i.e. the simple Gilbert model.
struct GilbertElliottLoss {
  Probability p;
  Probability r;
  Probability one_minus_h = Probability::from_fraction(1.0);
  Probability one_minus_k;
  bool operator==(const GilbertElliottLoss&) const = default;
};

// netem "loss state p13 [p31 [p32 [p23 [p14]]]]": the 4-state Markov model of
// Salsano et al. States: 1 transmitted in a gap, 2 transmitted in a burst, 3 lost in a
// burst, 4 isolated loss in a gap. tc's defaults: p31 = 1-p13, p32 = 0, p23 = 100%,
// p14 = 0.
struct FourStateLoss {
  Probability p13;
  Probability p31;
  Probability p32;
  Probability p23 = Probability::from_fraction(1.0);
  Probability p14;
  bool operator==(const FourStateLoss&) const = default;
};

using LossModel = std::variant<std::monostate, RandomLoss, GilbertElliottLoss, FourStateLoss>;

// netem "reorder PROBABILITY [CORRELATION] gap DISTANCE": packets 1..gap-1 of every
// cycle are delayed normally; from then on each packet, with the probability, is sent at
// once (no delay), which restarts the cycle. gap 1 makes any packet eligible.
struct ReorderParams {
  Probability probability;
  Probability correlation;
  std::uint32_t gap = 1;
  bool operator==(const ReorderParams&) const = default;
};

// A targeted fault: act on the nth packet a predicate matches (the textbook's "delay
// the first SYN by 30 s"). The engine knows no TCP: nodes/faults.h builds predicates
// that look at TCP flags, ports and addresses.
//
// Every fault counts every packet it sees that matches, whatever another fault does to
// that packet: "drop the 1st SYN" and "drop the 2nd SYN" drop the first two.
struct PacketFault {
  enum class Action : std::uint8_t {
    drop,       // gone, with drop reason `fault`
    delay,      // held, then handed to the link `delay` later (hold and replay)
    duplicate,  // a copy goes right behind it
    corrupt,    // one bit flipped
  };
  std::function<bool(const Packet&)> match;
  // Which matches it acts on, counted from 1: those numbered in `nth` (sorted), and
  // every one up to `first`. Neither: every match.
  std::vector<std::uint32_t> nth = {1};
  std::uint32_t first = 0;
  // It sees only packets handed to the link in [from, until); the count starts there.
  TimePoint from = TimePoint::zero();
  TimePoint until = TimePoint::max();
  Action action = Action::drop;
  Duration delay = Duration::zero();

  bool every() const { return nth.empty() && first == 0; }
  bool acts_on(std::uint32_t match_number) const {
    return every() || match_number <= first || std::binary_search(nth.begin(), nth.end(), match_number);
  }
};

struct LinkParams {
  DelayParams delay;
  LossModel loss;
  Probability duplicate;
  Probability duplicate_correlation;
  Probability corrupt;
  Probability corrupt_correlation;
  ReorderParams reorder;

  // Serialization: 0 bps means unlimited (no queueing at all). netem's
  // "rate RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]]".
  DataRate rate;
  std::int32_t packet_overhead = 0;
  std::uint32_t cell_size = 0;
  std::int32_t cell_overhead = 0;

  // Drop-tail transmit queue: packets waiting behind the one being serialized. 0 means
  // no limit of that kind. 1000 packets is Linux's default txqueuelen.
  std::uint32_t queue_packets = 1000;
  std::uint64_t queue_bytes = 0;

  // Largest IPv4 datagram the link carries; larger ones are dropped (reason mtu).
  std::uint32_t mtu = 1500;

  bool up = true;
  bool operator==(const LinkParams&) const = default;
};

}  // namespace shakedown
