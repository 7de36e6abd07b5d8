// Windowed conservative synchronisation: a model of nodes passing messages, run in one
// engine and split over 2, 3 and 4 parts (threads, exchanging through a barrier), gives
// the same events in the same order — ties at equal times included.
#include "emulator/window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <barrier>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "emulator/random.h"

namespace shakedown {
namespace {

using namespace shakedown::literals;

// Parts in threads of one process: round() is collective through a barrier.
class ThreadExchange {
 public:
  explicit ThreadExchange(std::uint32_t parts) : parts_(parts), barrier_(parts), boxes_(parts), earliest_(parts) {}

  class Part final : public Exchange {
   public:
    Part(ThreadExchange& x, std::uint32_t part) : x_(x), part_(part) {}
    Round round(const std::vector<std::string>& outgoing, TimePoint earliest_here, bool /*stop_here*/) override {
      // Phase 1: post what goes out, and the earliest (what is in flight counted).
      x_.earliest_[part_] = earliest_here;
      {
        std::lock_guard lock(x_.mutex_);
        for (std::uint32_t to = 0; to < outgoing.size(); ++to)
          if (!outgoing[to].empty()) x_.boxes_[to].emplace_back(part_, outgoing[to]);
      }
      x_.barrier_.arrive_and_wait();
      // Phase 2: take what came, by sending part.
      Round r;
      held_.clear();
      auto& box = x_.boxes_[part_];
      std::stable_sort(box.begin(), box.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto& [from, bytes] : box) held_.push_back(std::move(bytes));
      box.clear();
      for (const std::string& h : held_) r.incoming.emplace_back(h);
      r.earliest = *std::min_element(x_.earliest_.begin(), x_.earliest_.end());
      x_.barrier_.arrive_and_wait();
      return r;
    }
    std::uint32_t part() const override { return part_; }
    std::uint32_t parts() const override { return x_.parts_; }

   private:
    ThreadExchange& x_;
    std::uint32_t part_;
    std::vector<std::string> held_;  // what the last round returned views of
  };

 private:
  std::uint32_t parts_;
  std::barrier<> barrier_;
  std::mutex mutex_;
  std::vector<std::vector<std::pair<std::uint32_t, std::string>>> boxes_;
  std::vector<TimePoint> earliest_;
};

constexpr std::uint32_t kNodes = 12;
constexpr Duration kLookahead = 1_ms;

struct Entry {
  std::int64_t t;
  std::uint32_t node;
  std::uint64_t message;
  bool operator==(const Entry&) const = default;
};

// Each node logs every message it gets and, while the message has travelled fewer than
// kHops hops, sends it on: to another node after 1, 1, 2 or 3 ms (never sooner than the
// lookahead), and half the time to itself too, at once or after 1 ms — so that many
// messages meet at equal times. Its random choices are its own stream, drawn in the
// order of its events. A message is its id (low 56 bits) and its hops (high 8).
constexpr std::uint64_t kHops = 13;
struct Model {
  Engine& engine;
  std::function<std::uint32_t(std::uint32_t)> part_of;
  std::uint32_t here;
  WindowedRun* window = nullptr;
  std::vector<RandomStream> rng;
  std::vector<std::vector<Entry>> log;  // by node, in the order it ran

  Model(Engine& e, std::function<std::uint32_t(std::uint32_t)> p, std::uint32_t part)
      : engine(e), part_of(std::move(p)), here(part), log(kNodes) {
    for (std::uint32_t n = 0; n < kNodes; ++n) rng.emplace_back(7, "node/" + std::to_string(n));
  }

  void deliver(std::uint32_t to, TimePoint at, std::uint64_t message) {
    if (part_of(to) == here) {
      engine.at(at, owners::node(to), [this, to, message] { receive(to, message); });
      return;
    }
    Crossing c;
    c.part = part_of(to);
    c.at = at;
    c.key = engine.next_key(owners::node(to));
    c.receiver = to;
    std::uint8_t bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(message >> (8 * i));
    c.bytes = bytes;
    window->send(c);
  }

  void receive(std::uint32_t node, std::uint64_t message) {
    log[node].push_back({engine.now().ns(), node, message});
    const std::uint64_t hops = message >> 56, id = message & ((1ull << 56) - 1);
    if (hops >= kHops) return;
    const std::uint64_t next = (hops + 1) << 56;
    RandomStream& r = rng[node];
    const TimePoint now = engine.now();
    std::uint32_t to = static_cast<std::uint32_t>(r.below(kNodes - 1));
    if (to >= node) ++to;
    static constexpr Duration kDelays[] = {1_ms, 1_ms, 2_ms, 3_ms};
    deliver(to, now + kDelays[r.below(4)], next | ((id * 2 + 1) & ((1ull << 56) - 1)));
    if (r.below(2) == 0) deliver(node, now + (r.below(2) == 0 ? Duration::zero() : 1_ms), next | ((id * 2) & ((1ull << 56) - 1)));
  }

  void start() {
    for (std::uint32_t n = 0; n < kNodes; ++n)
      if (part_of(n) == here) engine.at(TimePoint::zero(), owners::node(n), [this, n] { receive(n, n + 1); });
  }
};

// Every node's log, merged in the order one process runs them: by time, then owner,
// then the owner's own order.
std::vector<Entry> merged(const std::vector<std::vector<Entry>>& by_node) {
  std::vector<std::tuple<std::int64_t, std::uint32_t, std::size_t, Entry>> all;
  for (const auto& node : by_node)
    for (std::size_t i = 0; i < node.size(); ++i) all.emplace_back(node[i].t, node[i].node, i, node[i]);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a), std::get<2>(a)) < std::tie(std::get<0>(b), std::get<1>(b), std::get<2>(b));
  });
  std::vector<Entry> out;
  for (const auto& e : all) out.push_back(std::get<3>(e));
  return out;
}

std::vector<Entry> one_process() {
  Engine engine;
  Model m(engine, [](std::uint32_t) { return 0u; }, 0);
  m.start();
  engine.run();
  return merged(m.log);
}

TEST(WindowedRun, AnySplitRunsTheSameEventsInTheSameOrder) {
  const std::vector<Entry> reference = one_process();
  ASSERT_GT(reference.size(), 1000u) << "a model with some traffic";
  for (const std::uint32_t parts : {1u, 2u, 3u, 4u}) {
    ThreadExchange exchange(parts);
    std::vector<std::vector<std::vector<Entry>>> logs(parts);
    std::vector<WindowedRun::Stats> stats(parts);
    std::vector<std::thread> threads;
    for (std::uint32_t p = 0; p < parts; ++p)
      threads.emplace_back([&, p] {
        Engine engine;
        ThreadExchange::Part me(exchange, p);
        const auto part_of = [parts](std::uint32_t node) { return (node * 7 + 3) % parts; };
        Model m(engine, part_of, p);
        WindowedRun run(engine, me, kLookahead, [&m, &engine](Crossing& c) {
          std::uint64_t message = 0;
          for (int i = 0; i < 8; ++i) message |= static_cast<std::uint64_t>(c.bytes[static_cast<std::size_t>(i)]) << (8 * i);
          engine.at_keyed(c.at, c.key, [&m, to = c.receiver, message] { m.receive(to, message); });
        });
        m.window = &run;
        m.start();
        run.run_until(TimePoint::max());
        logs[p] = m.log;
        stats[p] = run.stats();
      });
    for (auto& t : threads) t.join();
    std::vector<std::vector<Entry>> by_node(kNodes);
    for (std::uint32_t p = 0; p < parts; ++p)
      for (std::uint32_t n = 0; n < kNodes; ++n)
        if (!logs[p][n].empty()) by_node[n] = logs[p][n];
    EXPECT_EQ(merged(by_node), reference) << parts << " parts";
    std::uint64_t sent = 0, received = 0;
    for (const auto& s : stats) {
      sent += s.sent;
      received += s.received;
      EXPECT_EQ(s.windows, stats[0].windows) << "every part runs every window";
    }
    EXPECT_EQ(sent, received);
    if (parts > 1) {
      EXPECT_GT(sent, 100u) << "messages crossed between parts";
    }
  }
}

TEST(WindowedRun, RefusesANonPositiveLookahead) {
  Engine engine;
  ThreadExchange x(1);
  ThreadExchange::Part part(x, 0);
  EXPECT_THROW(WindowedRun(engine, part, Duration::zero(), [](Crossing&) {}), std::invalid_argument);
}

}  // namespace
}  // namespace shakedown
