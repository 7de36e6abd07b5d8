// Engine microbenchmarks. Run: build/release/bench/engine_bench
//
// BM_SchedulerHold is the classic "hold" model: a queue kept at N pending events;
// each iteration pops the earliest and schedules one new event a random time later.
// items_per_second is events per second (one pop + one push each).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "emulator/engine.h"
#include "emulator/link.h"
#include "emulator/pcap.h"
#include "emulator/random.h"
#include "emulator/scheduler.h"

namespace shakedown {
namespace {

struct Counter final : EventHandler {
  void on_event(std::uint64_t tag) override { sum += tag; }
  std::uint64_t sum = 0;
};

// Handler events, the form links and hosts use.
void BM_SchedulerHold(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  Scheduler s;
  Counter counter;
  RandomStream rng(1, "bench");
  for (std::size_t i = 0; i < pending; ++i)
    s.schedule(TimePoint::from_ns(static_cast<std::int64_t>(rng.below(1'000'000))), counter, i);
  for (auto _ : state) {
    auto fired = s.pop();
    fired.run();
    s.schedule(fired.time + Duration::nanoseconds(static_cast<std::int64_t>(rng.below(1'000'000))), counter, fired.tag);
  }
  benchmark::DoNotOptimize(counter.sum);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SchedulerHold)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

// The same with std::function callbacks.
void BM_SchedulerHoldFunction(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  Scheduler s;
  RandomStream rng(1, "bench");
  std::int64_t fired_count = 0;
  for (std::size_t i = 0; i < pending; ++i)
    s.schedule(TimePoint::from_ns(static_cast<std::int64_t>(rng.below(1'000'000))), [&fired_count] { ++fired_count; });
  for (auto _ : state) {
    auto fired = s.pop();
    fired.run();
    s.schedule(fired.time + Duration::nanoseconds(static_cast<std::int64_t>(rng.below(1'000'000))),
               [&fired_count] { ++fired_count; });
  }
  benchmark::DoNotOptimize(fired_count);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SchedulerHoldFunction)->Arg(100'000);

// A timer moved on every event: what a TCP connection does with its one engine timer.
void BM_SchedulerReschedule(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  Scheduler s;
  RandomStream rng(2, "bench");
  std::vector<EventId> ids;
  for (std::size_t i = 0; i < pending; ++i)
    ids.push_back(s.schedule(TimePoint::from_ns(static_cast<std::int64_t>(rng.below(1'000'000))), [] {}));
  std::size_t k = 0;
  std::int64_t now = 0;
  for (auto _ : state) {
    now += 10;
    s.reschedule(ids[k], TimePoint::from_ns(now + static_cast<std::int64_t>(rng.below(1'000'000))));
    k = (k + 1) % ids.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SchedulerReschedule)->Arg(100'000);

class Discard final : public PacketReceiver {
 public:
  void receive(PacketPtr) override {}
};

class NullObserver final : public Observer {
 public:
  void on_packet(const PacketEvent& e) override { benchmark::DoNotOptimize(&e); }
};

// One packet through a link with every impairment switched on, in a steady stream.
// Arg 0: no observer attached; arg 1: an observer that does nothing (the cost of
// building and dispatching the events themselves).
void BM_LinkImpaired(benchmark::State& state) {
  Engine engine;
  PacketPool pool;
  Discard sink;
  NullObserver observer;
  LinkParams p;
  p.rate = DataRate::gbps(1);
  p.delay = DelayParams{10_ms, 1_ms, {}, JitterDistribution::normal};
  p.loss = RandomLoss{Probability::from_fraction(0.01), {}};
  p.duplicate = Probability::from_fraction(0.01);
  p.corrupt = Probability::from_fraction(0.01);
  p.reorder = {Probability::from_fraction(0.01), {}, 1};
  LinkDirection link(engine, pool, 1, "bench", Site{}, p);
  link.set_receiver(&sink);
  if (state.range(0) == 1) link.set_observer(&observer);
  for (auto _ : state) {
    link.send(pool.make(1500));
    engine.run_until(engine.now() + 12_us);  // one packet time at 1 Gbps
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LinkImpaired)->Arg(0)->Arg(1);

void BM_PcapWrite(benchmark::State& state) {
  const auto path = (std::filesystem::temp_directory_path() / "shakedown-bench.pcap").string();
  PacketPool pool;
  PacketPtr p = pool.make(1500);
  {
    PcapWriter w(path);
    std::int64_t t = 0;
    for (auto _ : state) w.write(TimePoint::from_ns(t += 12'000), p->bytes());
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 1516);
}
BENCHMARK(BM_PcapWrite);

}  // namespace
}  // namespace shakedown
