#include "emulator/link.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "link_harness.h"
#include "stats.h"

namespace shakedown {
namespace {

using testing::Binomial;
using testing::LinkHarness;

Probability pct(double p) { return Probability::from_fraction(p / 100.0); }
TimePoint at(Duration d) { return TimePoint::zero() + d; }
constexpr std::size_t kUdpHeaders = 28;

TEST(Link, DelayIsExact) {
  LinkParams p;
  p.delay.delay = 10_ms;
  LinkHarness h(p);
  h.send_at(at(1_ms), 1);
  h.engine.run();
  ASSERT_EQ(h.recorder.arrivals.size(), 1u);
  EXPECT_EQ(h.recorder.arrivals[0].time, at(11_ms));
}

TEST(Link, SerializationAtRate) {
  // A 1500-byte packet on 100 Mbps takes 120 us; back to back they leave 120 us apart.
  LinkParams p;
  p.rate = DataRate::mbps(100);
  p.delay.delay = 5_ms;
  LinkHarness h(p);
  for (int i = 0; i < 3; ++i) h.send_at(TimePoint::zero(), i, 1500 - kUdpHeaders);
  h.engine.run();
  ASSERT_EQ(h.recorder.arrivals.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(h.recorder.arrivals[i].time, at(5_ms + 120_us * (i + 1))) << i;
}

TEST(Link, PacketOverheadAndCells) {
  // netem "rate 1Mbit 20 100 5": 1000 + 20 = 1020 bytes -> 11 cells of 105 bytes.
  LinkParams p;
  p.rate = DataRate::mbps(1);
  p.packet_overhead = 20;
  p.cell_size = 100;
  p.cell_overhead = 5;
  LinkHarness h(p);
  h.send_at(TimePoint::zero(), 0, 1000 - kUdpHeaders);
  h.engine.run();
  ASSERT_EQ(h.recorder.arrivals.size(), 1u);
  EXPECT_EQ(h.recorder.arrivals[0].time, at(Duration::nanoseconds(11LL * 105 * 8 * 1000)));
}

TEST(Link, QueueOverflowDropsExactlyTheExcess) {
  // 50 packets at once into a queue of 10: one goes on the wire, 10 wait, 39 drop.
  LinkParams p;
  p.rate = DataRate::mbps(10);
  p.queue_packets = 10;
  LinkHarness h(p);
  for (int i = 0; i < 50; ++i) h.send_at(TimePoint::zero(), i);
  h.engine.run();
  EXPECT_EQ(h.recorder.arrivals.size(), 11u);
  EXPECT_EQ(h.link.stats().drops(DropReason::queue_full), 39u);
  EXPECT_EQ(h.link.stats().max_queue_packets, 10u);
  EXPECT_EQ(h.tags(), (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
}

TEST(Link, QueueByteLimit) {
  // 1000-byte packets, a 3500-byte queue: three fit behind the one on the wire.
  LinkParams p;
  p.rate = DataRate::mbps(10);
  p.queue_packets = 0;
  p.queue_bytes = 3500;
  LinkHarness h(p);
  for (int i = 0; i < 10; ++i) h.send_at(TimePoint::zero(), i, 1000 - kUdpHeaders);
  h.engine.run();
  EXPECT_EQ(h.recorder.arrivals.size(), 4u);
  EXPECT_EQ(h.link.stats().drops(DropReason::queue_full), 6u);
}

TEST(Link, QueueDrainsAndRefills) {
  // One packet every 100 us into a link that needs 120 us per packet: the queue grows
  // by one packet per 600 us, and nothing is lost below the limit.
  LinkParams p;
  p.rate = DataRate::mbps(100);
  p.queue_packets = 100;
  LinkHarness h(p);
  h.send_train(300, 100_us, 1500 - kUdpHeaders);
  h.engine.run();
  EXPECT_EQ(h.recorder.arrivals.size(), 300u);
  EXPECT_EQ(h.recorder.arrivals.back().time, at(120_us * 300));
  EXPECT_EQ(h.link.stats().max_queue_packets, 50u);  // 300 arrivals, 249 done, 1 on the wire
}

TEST(Link, MtuDrops) {
  LinkParams p;
  p.mtu = 576;
  LinkHarness h(p);
  h.send_at(TimePoint::zero(), 0, 576 - kUdpHeaders);
  h.send_at(TimePoint::zero(), 1, 577 - kUdpHeaders);
  h.engine.run();
  EXPECT_EQ(h.tags(), (std::vector<std::uint32_t>{0}));
  EXPECT_EQ(h.link.stats().drops(DropReason::mtu), 1u);
}

TEST(Link, RandomLossThroughTheChain) {
  LinkParams p;
  p.loss = RandomLoss{pct(1), {}};
  p.delay.delay = 1_ms;
  LinkHarness h(p);
  const int n = 100'000;
  h.send_train(n, 10_us);
  h.engine.run();
  const auto lost = h.link.stats().drops(DropReason::loss);
  EXPECT_EQ(lost + h.recorder.arrivals.size(), static_cast<std::uint64_t>(n));
  EXPECT_TRUE((Binomial{n, 0.01}.contains(static_cast<double>(lost)))) << lost;
}

TEST(Link, DuplicationRateAndCopiesAreIdentical) {
  LinkParams p;
  p.duplicate = pct(5);
  LinkHarness h(p, 2, /*keep_bytes=*/true);
  const int n = 50'000;
  h.send_train(n, 10_us);
  h.engine.run();
  const auto dups = h.link.stats().duplicated;
  EXPECT_EQ(h.recorder.arrivals.size(), n + dups);
  EXPECT_TRUE((Binomial{n, 0.05}.contains(static_cast<double>(dups)))) << dups;
  // Every copy carries the same bytes as its original and arrives with it.
  std::map<std::uint32_t, std::vector<std::uint8_t>> originals;
  for (const auto& a : h.recorder.arrivals)
    if (!a.duplicate) originals[a.tag] = a.bytes;
  std::uint64_t checked = 0;
  for (const auto& a : h.recorder.arrivals) {
    if (!a.duplicate) continue;
    ASSERT_EQ(a.bytes, originals.at(a.tag));
    ++checked;
  }
  EXPECT_EQ(checked, dups);
}

TEST(Link, DuplicateAndLossCancelOutAsInNetem) {
  // netem counts copies: 1, plus 1 for a duplicate, minus 1 for a loss. With both at
  // 100% every packet arrives exactly once: the loss takes the duplicate, not the packet.
  LinkParams p;
  p.duplicate = pct(100);
  p.loss = RandomLoss{pct(100), {}};
  LinkHarness h(p);
  h.send_train(10, 1_ms);
  h.engine.run();
  EXPECT_EQ(h.recorder.arrivals.size(), 10u);
  EXPECT_EQ(h.link.stats().duplicated, 0u);
  EXPECT_EQ(h.link.stats().drops(DropReason::loss), 0u);
}

TEST(Link, ADuplicateIsImpairedOnItsOwn) {
  // 100% duplicate, no loss: two copies of each, each with its own jitter draw.
  LinkParams p;
  p.duplicate = pct(100);
  p.delay = DelayParams{10_ms, 5_ms};
  p.delay.jitter_reorders = true;
  LinkHarness h(p);
  h.send_train(100, 1_ms);
  h.engine.run();
  ASSERT_EQ(h.recorder.arrivals.size(), 200u);
  std::map<std::uint32_t, std::vector<TimePoint>> by_tag;
  for (const auto& a : h.recorder.arrivals) by_tag[a.tag].push_back(a.time);
  int differ = 0;
  for (const auto& [tag, times] : by_tag) {
    ASSERT_EQ(times.size(), 2u);
    differ += times[0] != times[1];
  }
  EXPECT_GT(differ, 90);
}

int bit_distance(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  int d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += __builtin_popcount(a[i] ^ b[i]);
  return d;
}

TEST(Link, CorruptionFlipsExactlyOneBitAtItsRate) {
  LinkParams p;
  p.corrupt = pct(5);
  LinkHarness h(p, 3, /*keep_bytes=*/true);
  const int n = 50'000;
  h.send_train(n, 10_us);
  h.engine.run();
  ASSERT_EQ(h.recorder.arrivals.size(), static_cast<std::size_t>(n));
  PacketPool reference_pool;
  int corrupted = 0;
  std::vector<int> bytes_hit(128, 0);
  for (const auto& a : h.recorder.arrivals) {
    // The tag may itself be corrupted; compare with the packet sent in its position.
    const auto index = static_cast<std::uint32_t>(&a - h.recorder.arrivals.data());
    PacketPtr sent = testing::make_udp(reference_pool, index);
    std::vector<std::uint8_t> original(sent->bytes().begin(), sent->bytes().end());
    const int d = bit_distance(a.bytes, original);
    ASSERT_LE(d, 1);
    if (d == 1) {
      ++corrupted;
      for (std::size_t i = 0; i < original.size(); ++i)
        if (a.bytes[i] != original[i]) ++bytes_hit[i];
    }
  }
  EXPECT_EQ(static_cast<std::uint64_t>(corrupted), h.link.stats().corrupted);
  EXPECT_TRUE((Binomial{n, 0.05}.contains(corrupted))) << corrupted;
  // Anywhere in the packet, headers included: both the IPv4 header (20 bytes of 128)
  // and the payload are hit.
  const int in_header = std::accumulate(bytes_hit.begin(), bytes_hit.begin() + 20, 0);
  EXPECT_TRUE((Binomial{static_cast<double>(corrupted), 20.0 / 128}.contains(in_header))) << in_header;
}

TEST(Link, ReorderEveryFifthPacketWithGapFive) {
  // netem "delay 10ms reorder 100% gap 5": packets 5, 10, 15, ... go at once.
  LinkParams p;
  p.delay.delay = 10_ms;
  p.reorder = {pct(100), {}, 5};
  LinkHarness h(p);
  h.send_train(20, 1_ms);
  h.engine.run();
  ASSERT_EQ(h.recorder.arrivals.size(), 20u);
  for (const auto& a : h.recorder.arrivals) {
    const TimePoint sent = at(1_ms * static_cast<std::int64_t>(a.tag));
    const bool immediate = (a.tag + 1) % 5 == 0;
    EXPECT_EQ(a.time, immediate ? sent : sent + 10_ms) << "packet " << a.tag + 1;
  }
  // Packet 5 (tag 4) overtakes packets 1..4.
  EXPECT_EQ(h.tags()[0], 4u);
  EXPECT_EQ(h.link.stats().reordered, 4u);
}

TEST(Link, ReorderProbabilityWithGapOne) {
  LinkParams p;
  p.delay.delay = 10_ms;
  p.reorder = {pct(25), {}, 1};
  LinkHarness h(p, 4);
  const int n = 50'000;
  h.send_train(n, 100_us);
  h.engine.run();
  EXPECT_TRUE((Binomial{n, 0.25}.contains(static_cast<double>(h.link.stats().reordered)))) << h.link.stats().reordered;
}

TEST(Link, ReorderFractionWithGapIsARenewalProcess) {
  // gap 5, 25%: a cycle is 4 delayed packets plus Geometric(0.25) trials, mean length
  // 4 + 4 = 8 and variance (1-q)/q^2 = 12; the number of cycles in n packets has
  // variance n * 12 / 8^3 (renewal CLT).
  LinkParams p;
  p.delay.delay = 10_ms;
  p.reorder = {pct(25), {}, 5};
  LinkHarness h(p, 5);
  const int n = 100'000;
  h.send_train(n, 100_us);
  h.engine.run();
  const double reordered = static_cast<double>(h.link.stats().reordered);
  EXPECT_NEAR(reordered, n / 8.0, 5 * std::sqrt(n * 12.0 / 512.0)) << reordered;
}

TEST(Link, JitterKeepsAFifoLinkInOrderByDefault) {
  LinkParams p;
  p.delay = DelayParams{10_ms, 5_ms};
  LinkHarness h(p, 6);
  const int n = 5'000;
  h.send_train(n, 100_us);
  h.engine.run();
  const auto tags = h.tags();
  EXPECT_TRUE(std::is_sorted(tags.begin(), tags.end()));
  for (const auto& a : h.recorder.arrivals) {
    const TimePoint sent = at(100_us * static_cast<std::int64_t>(a.tag));
    ASSERT_GE(a.time - sent, 5_ms);
  }
}

TEST(Link, JitterReordersWhenAllowed) {
  LinkParams p;
  p.delay = DelayParams{10_ms, 5_ms};
  p.delay.jitter_reorders = true;
  LinkHarness h(p, 6);
  const int n = 5'000;
  h.send_train(n, 100_us);
  h.engine.run();
  const auto tags = h.tags();
  ASSERT_EQ(tags.size(), static_cast<std::size_t>(n));
  EXPECT_FALSE(std::is_sorted(tags.begin(), tags.end()));
  // Each delay is its own uniform draw in [5, 15) ms.
  for (const auto& a : h.recorder.arrivals) {
    const Duration d = a.time - at(100_us * static_cast<std::int64_t>(a.tag));
    ASSERT_GE(d, 5_ms);
    ASSERT_LT(d, 15_ms);
  }
}

TEST(Link, GoingDownDropsWhatIsQueuedAndInFlightAndThenEverything) {
  LinkParams p;
  p.rate = DataRate::mbps(1);  // 1 ms per 125-byte packet
  p.delay.delay = 10_ms;
  LinkHarness h(p);
  for (int i = 0; i < 5; ++i) h.send_at(TimePoint::zero(), i, 125 - kUdpHeaders);
  h.engine.at(at(3500_us), [&] { h.link.set_up(false); });  // 3 in flight, 1 on the wire, 1 queued
  h.send_at(at(4_ms), 10);
  h.engine.at(at(20_ms), [&] { h.link.set_up(true); });
  h.send_at(at(21_ms), 11, 125 - kUdpHeaders);
  h.engine.run();
  EXPECT_EQ(h.tags(), (std::vector<std::uint32_t>{11}));
  EXPECT_EQ(h.recorder.arrivals[0].time, at(32_ms));
  EXPECT_EQ(h.link.stats().drops(DropReason::link_down), 6u);
}

TEST(Link, ParametersChangeWhileRunning) {
  LinkParams p;
  p.delay.delay = 10_ms;
  LinkHarness h(p);
  h.send_at(at(0_ms), 0);
  h.engine.at(at(1_ms), [&] {
    LinkParams q = h.link.params();
    q.delay.delay = 50_ms;
    q.loss = RandomLoss{pct(100), {}};
    h.link.set_params(q);
  });
  h.send_at(at(2_ms), 1);
  h.engine.at(at(3_ms), [&] {
    LinkParams q = h.link.params();
    q.loss = LossModel{};
    h.link.set_params(q);
  });
  h.send_at(at(4_ms), 2);
  h.engine.run();
  ASSERT_EQ(h.recorder.arrivals.size(), 2u);
  EXPECT_EQ(h.recorder.arrivals[0].time, at(10_ms)) << "in flight before the change: old delay";
  EXPECT_EQ(h.recorder.arrivals[1].time, at(54_ms));
  EXPECT_EQ(h.link.stats().drops(DropReason::loss), 1u);
}

class CountingObserver final : public Observer {
 public:
  void on_packet(const PacketEvent& e) override {
    ++kinds[static_cast<int>(e.kind)];
    if (e.kind == PacketEventKind::drop) ++reasons[static_cast<int>(e.reason)];
  }
  std::uint64_t kinds[3] = {};
  std::uint64_t reasons[kDropReasonCount] = {};
};

TEST(Link, ObserverSeesEveryPacketExactlyOnceWithItsFate) {
  LinkParams p;
  p.rate = DataRate::mbps(10);
  p.queue_packets = 5;
  p.loss = RandomLoss{pct(10), {}};
  p.duplicate = pct(5);
  p.mtu = 1000;
  LinkHarness h(p, 9);
  CountingObserver obs;
  h.link.set_observer(&obs);
  for (int i = 0; i < 2000; ++i) h.send_at(at(50_us * i), i, i % 50 == 0 ? 1200 : 600);
  h.engine.run();
  const auto& s = h.link.stats();
  EXPECT_EQ(obs.kinds[0], s.enqueued_packets);
  EXPECT_EQ(obs.kinds[1], h.recorder.arrivals.size());
  for (int r = 0; r < kDropReasonCount; ++r) EXPECT_EQ(obs.reasons[r], s.dropped[r]) << r;
  EXPECT_GT(s.drops(DropReason::loss), 0u);
  EXPECT_GT(s.drops(DropReason::queue_full), 0u);
  EXPECT_EQ(s.drops(DropReason::mtu), 40u);
  // Conservation: every packet sent, plus every copy made, arrives or drops.
  std::uint64_t drops = 0;
  for (auto d : s.dropped) drops += d;
  EXPECT_EQ(2000 + s.duplicated, h.recorder.arrivals.size() + drops);
}

TEST(Link, SameSeedSameArrivalsAndADifferentSeedDiffers) {
  auto run = [](std::uint64_t seed) {
    LinkParams p;
    p.delay = DelayParams{10_ms, 3_ms, pct(25), JitterDistribution::paretonormal, true};
    p.loss = GilbertElliottLoss{pct(2), pct(20)};
    p.duplicate = pct(2);
    p.corrupt = pct(2);
    p.reorder = {pct(10), {}, 3};
    p.rate = DataRate::mbps(50);
    LinkHarness h(p, seed);
    h.send_train(5'000, 50_us, 500);
    h.engine.run();
    std::vector<std::pair<std::int64_t, std::uint32_t>> out;
    for (const auto& a : h.recorder.arrivals) out.emplace_back(a.time.ns(), a.tag);
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(Link, SteadyStateAllocatesNoPackets) {
  LinkParams p;
  p.rate = DataRate::mbps(100);
  p.delay.delay = 10_ms;
  p.duplicate = pct(1);
  LinkHarness h(p);
  h.send_train(2'000, 100_us, 1000);
  h.engine.run_until(at(100_ms));
  const auto created = h.pool.packets_created();
  const auto buffers = h.pool.buffer_allocations();
  h.engine.run();
  EXPECT_EQ(h.pool.packets_created(), created);
  EXPECT_EQ(h.pool.buffer_allocations(), buffers);
  EXPECT_EQ(h.pool.in_use(), 0u);
}

PacketFault on_tag(std::uint32_t tag, PacketFault::Action action, std::uint32_t nth = 1,
                   Duration delay = Duration::zero()) {
  PacketFault f;
  f.match = [tag](const Packet& p) { return testing::tag_of(p) == tag; };
  f.nth = nth == 0 ? std::vector<std::uint32_t>{} : std::vector<std::uint32_t>{nth};
  f.action = action;
  f.delay = delay;
  return f;
}

TEST(LinkFaults, DropTheNthMatch) {
  LinkParams p;
  p.delay.delay = 1_ms;
  LinkHarness h(p);
  PacketFault f;
  f.match = [](const Packet& pk) { return testing::tag_of(pk) % 2 == 0; };  // even tags
  f.nth = {3};                                                              // the third even packet: tag 4
  h.link.add_fault(f);
  h.send_train(10, 1_ms);
  h.engine.run();
  EXPECT_EQ(h.tags(), (std::vector<std::uint32_t>{0, 1, 2, 3, 5, 6, 7, 8, 9}));
  EXPECT_EQ(h.link.stats().drops(DropReason::fault), 1u);
}

TEST(LinkFaults, DelayHoldsAndReplaysPastTheFaults) {
  LinkParams p;
  p.delay.delay = 1_ms;
  LinkHarness h(p);
  h.link.add_fault(on_tag(0, PacketFault::Action::delay, 1, 30_ms));
  h.send_train(5, 1_ms);
  h.engine.run();
  EXPECT_EQ(h.tags(), (std::vector<std::uint32_t>{1, 2, 3, 4, 0}));
  EXPECT_EQ(h.recorder.arrivals.back().time, at(31_ms)) << "held 30 ms, then the link's 1 ms";
  EXPECT_EQ(h.link.held_packets(), 0u);
}

TEST(LinkFaults, DuplicateEveryMatchAndCorruptOne) {
  LinkParams p;
  LinkHarness h(p, 1, /*keep_bytes=*/true);
  h.link.add_fault(on_tag(2, PacketFault::Action::duplicate, /*nth=*/0));
  h.link.add_fault(on_tag(3, PacketFault::Action::corrupt));
  h.send_train(5, 1_ms);
  h.send_at(at(10_ms), 2);
  h.engine.run();
  EXPECT_EQ(h.tags().size(), 8u) << "two copies of each tag-2 packet";
  PacketPool reference;
  PacketPtr clean = testing::make_udp(reference, 3);
  int differing = 0;
  for (const auto& a : h.recorder.arrivals)
    if (a.bytes.size() == clean->size() && a.tag == 3)
      for (std::size_t i = 0; i < a.bytes.size(); ++i) differing += __builtin_popcount(a.bytes[i] ^ clean->bytes()[i]);
  EXPECT_EQ(differing, 1);
}

PacketFault on_any(PacketFault::Action action) {
  PacketFault f;
  f.match = [](const Packet&) { return true; };
  f.action = action;
  return f;
}

// Issue: a packet one fault dropped was never seen by the faults after it, so "drop
// the 1st" and "drop the 2nd" dropped the first and the third. Each counts all its
// matches.
TEST(LinkFaults, EveryFaultCountsEveryMatch) {
  LinkParams p;
  LinkHarness h(p);
  PacketFault first = on_any(PacketFault::Action::drop), second = first;
  second.nth = {2};
  h.link.add_fault(first);
  h.link.add_fault(second);
  h.send_train(5, 1_ms);
  h.engine.run();
  EXPECT_EQ(h.tags(), (std::vector<std::uint32_t>{2, 3, 4}));
}

TEST(LinkFaults, AListARangeAndAWindow) {
  LinkParams p;
  {
    LinkHarness h(p);
    PacketFault f = on_any(PacketFault::Action::drop);
    f.nth = {2, 4};
    h.link.add_fault(f);
    h.send_train(6, 1_ms);
    h.engine.run();
    EXPECT_EQ(h.tags(), (std::vector<std::uint32_t>{0, 2, 4, 5})) << "nth: [2, 4]";
  }
  {
    LinkHarness h(p);
    PacketFault f = on_any(PacketFault::Action::drop);
    f.nth.clear();
    f.first = 3;
    h.link.add_fault(f);
    h.send_train(6, 1_ms);
    h.engine.run();
    EXPECT_EQ(h.tags(), (std::vector<std::uint32_t>{3, 4, 5})) << "first: 3";
  }
  {
    // Packets leave at 0, 1, ..., 9 ms; the window [3 ms, 7 ms) sees tags 3 to 6 and
    // counts from there: its 2nd match is tag 4; every match in it, tags 3 to 6.
    LinkHarness h(p);
    PacketFault f = on_any(PacketFault::Action::drop);
    f.nth = {2};
    f.from = at(3_ms);
    f.until = at(7_ms);
    h.link.add_fault(f);
    h.send_train(10, 1_ms);
    h.engine.run();
    EXPECT_EQ(h.tags(), (std::vector<std::uint32_t>{0, 1, 2, 3, 5, 6, 7, 8, 9})) << "nth 2 during [3ms, 7ms)";
  }
}

// Two faults on one packet act together: the delays add up, and a drop wins.
TEST(LinkFaults, FaultsOnOnePacketActTogether) {
  LinkParams p;
  p.delay.delay = 1_ms;
  LinkHarness h(p);
  h.link.add_fault(on_tag(0, PacketFault::Action::delay, 1, 10_ms));
  h.link.add_fault(on_tag(0, PacketFault::Action::delay, 1, 20_ms));
  h.link.add_fault(on_tag(1, PacketFault::Action::delay, 1, 10_ms));
  h.link.add_fault(on_tag(1, PacketFault::Action::drop));
  h.send_train(3, 1_ms);
  h.engine.run();
  EXPECT_EQ(h.tags(), (std::vector<std::uint32_t>{2, 0}));
  EXPECT_EQ(h.recorder.arrivals.back().time, at(31_ms)) << "held 10 + 20 ms, then the link's 1 ms";
  EXPECT_EQ(h.link.stats().drops(DropReason::fault), 1u);
}

// Issue: faults and netem corruption drew from one stream, so adding a fault shifted
// every later corruption. Which packets netem corrupts must not depend on faults.
TEST(LinkFaults, AFaultChangesNothingTheImpairmentsDo) {
  LinkParams p;
  p.corrupt = pct(30);
  auto corrupted_tags = [&](bool with_fault) {
    LinkHarness h(p, 1, /*keep_bytes=*/true);
    if (with_fault) h.link.add_fault(on_tag(0, PacketFault::Action::corrupt));
    h.send_train(200, 1_ms);
    h.engine.run();
    PacketPool reference;
    std::vector<std::uint32_t> out;
    for (const auto& a : h.recorder.arrivals) {
      PacketPtr clean = testing::make_udp(reference, a.tag);
      if (a.tag != 0 && a.bytes != std::vector<std::uint8_t>(clean->bytes().begin(), clean->bytes().end()))
        out.push_back(a.tag);
    }
    return out;
  };
  const auto without = corrupted_tags(false), with = corrupted_tags(true);
  EXPECT_GT(without.size(), 30u);
  EXPECT_EQ(with, without);
}

// Issue: the end of a fault set the link up, whatever it was before: a partition that
// healed brought up a direction the file had set down. A fault restores what it found.
TEST(Link, AFaultsEndRestoresWhatWasThereBefore) {
  LinkParams down;
  down.up = false;
  LinkHarness h(down);
  h.link.hold_down(true);
  h.link.hold_down(false);
  h.send_at(at(1_ms), 1);
  h.engine.run();
  EXPECT_TRUE(h.tags().empty()) << "configured down, still down after the fault";

  LinkParams p;
  LinkHarness g(p);
  g.link.hold_down(true);  // two overlapping faults
  g.link.hold_down(true);
  g.link.hold_down(false);
  g.send_at(at(1_ms), 1);
  g.engine.at(at(2_ms), [&] { g.link.hold_down(false); });
  g.send_at(at(3_ms), 2);
  g.engine.run();
  EXPECT_EQ(g.tags(), (std::vector<std::uint32_t>{2})) << "up once the last fault ends";
}

TEST(Link, BothDirectionsAreIndependent) {
  Engine engine;
  PacketPool pool;
  testing::Recorder forward(engine, false), backward(engine, false);
  LinkParams fast, slow;
  fast.delay.delay = 1_ms;
  slow.delay.delay = 7_ms;
  Link link(engine, pool, 1, 0, fast, slow);
  link.direction(0).set_receiver(&forward);
  link.direction(1).set_receiver(&backward);
  engine.at(TimePoint::zero(), [&] {
    link.direction(0).send(testing::make_udp(pool, 1));
    link.direction(1).send(testing::make_udp(pool, 2));
  });
  engine.run();
  ASSERT_EQ(forward.arrivals.size(), 1u);
  ASSERT_EQ(backward.arrivals.size(), 1u);
  EXPECT_EQ(forward.arrivals[0].time, at(1_ms));
  EXPECT_EQ(backward.arrivals[0].time, at(7_ms));
  EXPECT_EQ(link.direction(1).site().direction, 1);
}

}  // namespace
}  // namespace shakedown
