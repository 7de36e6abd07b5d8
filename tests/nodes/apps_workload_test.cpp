// Workloads between hosts across a router: every application and close mode under
// loss with every byte verified; exact timings of think times, rates and closing
// order; start schedules against their distributions.
#include "nodes/apps/workload.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <string>

#include "network_support.h"

namespace shakedown {
namespace {

using apps::AppKind;
using apps::CloseMode;
using apps::StartSchedule;
using apps::Workload;
using testing::delay;
using testing::t;

// clients[0..n) -- r -- server, every link `one_way` with `params` on top.
struct Star {
  Star(int n, Duration one_way, const LinkParams& impairments = {}, const tcp::Config& config = {})
      : net(engine, pool, /*run_seed=*/11), loads(engine, net, 11) {
    LinkParams p = impairments;
    p.delay.delay = one_way;
    const auto r = net.add_router("r");
    for (int i = 0; i < n; ++i) {
      clients.push_back(net.add_host(fmt::format("c{}", i), config));
      net.add_link(clients.back(), r, p);
    }
    server = net.add_host("server", config);
    net.add_link(r, server, p);
    net.build();
  }
  std::uint64_t wrong_bytes() {
    std::uint64_t n = net.host(server).stats().payload_bytes_wrong;
    for (auto c : clients) n += net.host(c).stats().payload_bytes_wrong;
    return n;
  }
  std::uint64_t verified_at_clients() {
    std::uint64_t n = 0;
    for (auto c : clients) n += net.host(c).stats().payload_bytes_verified;
    return n;
  }
  std::size_t client_connections() {
    std::size_t n = 0;
    for (auto c : clients) n += net.host(c).tcp().connections();
    return n;
  }
  Engine engine;
  PacketPool pool;
  Network net;
  apps::Workloads loads;
  std::vector<std::uint32_t> clients;
  std::uint32_t server = 0;
};

Workload of_kind(AppKind app) {
  Workload w;
  w.app = app;
  switch (app) {
    case AppKind::connect:
    case AppKind::syn_flood:
      break;
    case AppKind::bulk:
      w.bytes = 200'000;
      break;
    case AppKind::request_response:
      w.request = 1'000;
      w.response = 20'000;
      w.repetitions = 3;
      w.think = 10_ms;
      break;
    case AppKind::echo:
      w.request = 3'000;
      w.repetitions = 2;
      break;
    case AppKind::stream:
      w.rate = DataRate::mbps(2);
      w.duration = 500_ms;
      w.chunk = 1'000;
      break;
  }
  return w;
}

// Bytes each connection carries each way.
std::pair<std::uint64_t, std::uint64_t> bytes_of(const Workload& w) {
  switch (w.app) {
    case AppKind::connect:
    case AppKind::syn_flood:
      return {0, 0};
    case AppKind::bulk:
      return {w.bytes, 0};
    case AppKind::request_response:
      return {w.request * w.repetitions, w.response * w.repetitions};
    case AppKind::echo:
      return {w.request * w.repetitions, w.request * w.repetitions};
    case AppKind::stream:
      return {2'000'000 / 8 / 2, 0};  // 2 Mbps for half a second
  }
  return {0, 0};
}

struct Case {
  AppKind app;
  CloseMode close;
  bool half_close;
};

class EveryWorkloadUnderLoss : public ::testing::TestWithParam<Case> {};

TEST_P(EveryWorkloadUnderLoss, EveryByteArrivesAndEveryConnectionEndsAsAsked) {
  const Case c = GetParam();
  // 1% per link (about 2% per path); 5% for connect, whose few packets would otherwise
  // expect only ~1.7 losses in all (each case checks below that loss happened).
  LinkParams lossy;
  lossy.loss = RandomLoss{Probability::from_fraction(c.app == AppKind::connect ? 0.05 : 0.01), {}};
  tcp::Config cfg;
  cfg.msl = 1_s;
  Star s(3, 5_ms, lossy, cfg);
  Workload w = of_kind(c.app);
  w.clients = s.clients;
  w.server = s.server;
  w.connections = 4;
  w.close = c.close;
  w.half_close = c.half_close;
  w.start.kind = StartSchedule::Kind::uniform;
  w.start.to = t(1_s);
  s.loads.add(w);
  s.engine.run_until(t(3000_s));

  const auto st = s.loads.stats(0);
  const auto [out, in] = bytes_of(w);
  const std::uint64_t n = 12;
  EXPECT_EQ(st.planned, n);
  EXPECT_EQ(st.started, n);
  EXPECT_EQ(st.connected, n);
  // A client that aborts right after connecting may do so before its handshake ACK
  // got through: the RST then frees a half-open connection the server never accepted.
  if (!(c.close == CloseMode::client_abort && c.app == AppKind::connect)) {
    EXPECT_EQ(st.server_accepted, n);
  }
  EXPECT_EQ(st.server_bytes_received, n * out);
  EXPECT_EQ(st.client_bytes_sent, n * out);
  EXPECT_EQ(st.client_bytes_received, n * in);
  EXPECT_EQ(st.server_bytes_sent, n * in);
  EXPECT_EQ(s.wrong_bytes(), 0u);
  EXPECT_GE(s.net.host(s.server).stats().payload_bytes_verified, n * out);
  EXPECT_GE(s.verified_at_clients(), n * in);
  EXPECT_EQ(st.incomplete + st.refused + st.timed_out + st.crashed, 0u);
  switch (c.close) {
    case CloseMode::client:
    case CloseMode::server:
    case CloseMode::both:
      EXPECT_EQ(st.completed, n);
      EXPECT_EQ(st.reset, 0u);
      EXPECT_EQ(s.client_connections(), 0u);
      EXPECT_EQ(s.net.host(s.server).tcp().connections(), 0u);
      break;
    case CloseMode::client_abort:
      // The RST may be lost: then the server keeps a connection nobody will close.
      EXPECT_EQ(st.completed, n);
      EXPECT_EQ(s.client_connections(), 0u);
      EXPECT_EQ(st.server_reset + s.net.host(s.server).tcp().connections(), st.server_accepted);
      break;
    case CloseMode::server_abort:
      // Likewise a client whose RST was lost stays open, with every byte received.
      EXPECT_EQ(st.reset, 0u);
      EXPECT_EQ(st.completed + st.open, n);
      EXPECT_EQ(s.client_connections(), st.open);
      EXPECT_EQ(s.net.host(s.server).tcp().connections(), 0u);
      break;
    case CloseMode::never:
      EXPECT_EQ(st.completed, 0u);
      EXPECT_EQ(st.open, n);
      EXPECT_EQ(s.client_connections(), n);
      EXPECT_EQ(s.net.host(s.server).tcp().connections(), n);
      break;
  }
  // Loss happened: the test is not vacuous.
  std::uint64_t lost = 0;
  for (std::uint32_t l = 0; l < 4; ++l)
    for (int d = 0; d < 2; ++d) lost += s.net.link(l).direction(d).stats().drops(DropReason::loss);
  EXPECT_GT(lost, 0u);
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (AppKind app : {AppKind::connect, AppKind::bulk, AppKind::request_response, AppKind::echo, AppKind::stream})
    for (CloseMode m : {CloseMode::client, CloseMode::server, CloseMode::both, CloseMode::client_abort,
                        CloseMode::server_abort, CloseMode::never})
      cases.push_back({app, m, false});
  for (AppKind app : {AppKind::bulk, AppKind::request_response, AppKind::echo})
    for (CloseMode m : {CloseMode::client, CloseMode::server}) cases.push_back({app, m, true});
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string s = fmt::format("{}_{}{}", apps::to_string(info.param.app), apps::to_string(info.param.close),
                              info.param.half_close ? "_half_close" : "");
  for (char& ch : s)
    if (ch == '-') ch = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Matrix, EveryWorkloadUnderLoss, ::testing::ValuesIn(all_cases()), case_name);

// One connection, no loss: who holds TIME_WAIT shows who closed first.
class ClosingOrder : public ::testing::TestWithParam<CloseMode> {};

TEST_P(ClosingOrder, TheActiveCloserHoldsTimeWait) {
  tcp::Config cfg;
  cfg.msl = 1_s;
  Star s(1, 5_ms, {}, cfg);
  Workload w = of_kind(AppKind::connect);
  w.clients = s.clients;
  w.server = s.server;
  w.close = GetParam();
  s.loads.add(w);
  s.engine.run_until(t(200_ms));
  const std::size_t client = s.client_connections(), server = s.net.host(s.server).tcp().connections();
  switch (GetParam()) {
    case CloseMode::client:
      EXPECT_EQ(client, 1u);
      EXPECT_EQ(server, 0u);
      break;
    case CloseMode::server:
      EXPECT_EQ(client, 0u);
      EXPECT_EQ(server, 1u);
      break;
    default:  // both: the FINs cross, both sides pass CLOSING into TIME_WAIT
      EXPECT_EQ(client, 1u);
      EXPECT_EQ(server, 1u);
      break;
  }
  s.engine.run_until(t(3_s));  // 2 MSL later
  EXPECT_EQ(s.client_connections() + s.net.host(s.server).tcp().connections(), 0u);
  EXPECT_EQ(s.loads.stats(0).completed, 1u);
}

INSTANTIATE_TEST_SUITE_P(Modes, ClosingOrder, ::testing::Values(CloseMode::client, CloseMode::server, CloseMode::both),
                         [](const auto& p) { return std::string(apps::to_string(p.param)); });

TEST(RequestResponse, ThinkTimeSeparatesRoundsExactly) {
  Star s(1, 5_ms);  // 20 ms RTT through the router
  Workload w = of_kind(AppKind::request_response);
  w.request = 100;
  w.response = 100;
  w.repetitions = 3;
  w.think = 100_ms;
  w.clients = s.clients;
  w.server = s.server;
  s.loads.add(w);
  // Connected at 20 ms; each response lands one RTT after its request; requests at 20,
  // 140 and 260 ms.
  const std::pair<Duration, std::uint64_t> expected[] = {
      {39_ms, 0}, {40_ms, 100}, {159_ms, 100}, {160_ms, 200}, {279_ms, 200}, {280_ms, 300}};
  for (const auto& [when, bytes] : expected) {
    s.engine.run_until(t(when));
    EXPECT_EQ(s.loads.stats(0).client_bytes_received, bytes) << when.ns();
  }
}

TEST(Stream, SendsAtItsRateForItsDuration) {
  tcp::Config cfg;
  cfg.nagle = false;  // every chunk leaves on its tick
  Star s(1, 5_ms, {}, cfg);
  Workload w = of_kind(AppKind::stream);
  w.rate = DataRate::mbps(1);
  w.chunk = 1250;  // a tick every 10 ms
  w.duration = 1_s;
  w.clients = s.clients;
  w.server = s.server;
  s.loads.add(w);
  // Chunk k leaves at 20 + 10k ms and arrives 10 ms later; 100 chunks in all.
  s.engine.run_until(t(525_ms));
  EXPECT_EQ(s.loads.stats(0).server_bytes_received, 50u * 1250);
  s.engine.run_until(t(5_s));
  EXPECT_EQ(s.loads.stats(0).server_bytes_received, 100u * 1250);
}

TEST(Starts, ConnectionsStartAtTheScheduledTimesDealtToClientsInTurn) {
  Star s(3, 1_ms);
  Workload w = of_kind(AppKind::connect);
  w.clients = s.clients;
  w.server = s.server;
  w.connections = 100;
  w.start.kind = StartSchedule::Kind::poisson;
  w.start.rate_per_second = 50;
  w.start.from = t(1_s);
  w.close = CloseMode::never;
  s.loads.add(w);
  const auto& times = s.loads.start_times(0);
  ASSERT_EQ(times.size(), 300u);
  ASSERT_TRUE(std::is_sorted(times.begin(), times.end()));
  for (Duration probe : {1500_ms, 2_s, 4_s, 7_s}) {
    s.engine.run_until(t(probe));
    const auto due = static_cast<std::uint64_t>(std::upper_bound(times.begin(), times.end(), t(probe)) - times.begin());
    EXPECT_EQ(s.loads.stats(0).started, due);
    // Dealt in turn: client i has started ceil((due - i) / 3) connections.
    for (std::size_t i = 0; i < 3; ++i)
      EXPECT_EQ(s.net.host(s.clients[i]).tcp().connections(), (due + 2 - i) / 3) << i;
  }
}

// 10,000 connections due at one instant start in events of at most 4,096, so that a
// driver between events (Ctrl-C, progress) is not shut out until all have started.
TEST(Starts, ManyDueAtOnceStartInSeveralEvents) {
  Star s(10, 1_ms);
  Workload w = of_kind(AppKind::connect);
  w.clients = s.clients;
  w.server = s.server;
  w.connections = 1000;
  w.close = CloseMode::never;
  s.loads.add(w);
  s.engine.run_slice(t(1_s), 1);
  EXPECT_EQ(s.loads.stats(0).started, 4096u) << "one event";
  s.engine.run_slice(t(1_s), 1);
  EXPECT_EQ(s.loads.stats(0).started, 8192u);
  s.engine.run_until(t(0_ms));
  EXPECT_EQ(s.loads.stats(0).started, 10'000u) << "all at time zero all the same";
}

TEST(Starts, SameSeedSameTimesAndAnotherSeedOthers) {
  StartSchedule p;
  p.kind = StartSchedule::Kind::poisson;
  p.rate_per_second = 10;
  RandomStream a(1, "x"), b(1, "x"), c(2, "x");
  EXPECT_EQ(p.times_for(100, a), p.times_for(100, b));
  EXPECT_NE(p.times_for(100, a), p.times_for(100, c));
}

// The n-th arrival of a Poisson process of rate λ is Gamma(n, 1/λ): mean n/λ, standard
// deviation √n/λ. With n = 10,000 and λ = 100/s: 100 s ± 1 s; five deviations either way.
TEST(Starts, PoissonArrivalsHaveTheirRate) {
  StartSchedule p;
  p.kind = StartSchedule::Kind::poisson;
  p.rate_per_second = 100;
  RandomStream rng(7, "poisson");
  const auto times = p.times_for(10'000, rng);
  const double last = (times.back() - TimePoint::zero()).seconds_f();
  EXPECT_GT(last, 95.0);
  EXPECT_LT(last, 105.0);
  // Arrivals in the first 10 s: Poisson(1000), σ ≈ 31.6; five of them either way.
  const auto first10 = std::upper_bound(times.begin(), times.end(), t(10_s)) - times.begin();
  EXPECT_GT(first10, 842);
  EXPECT_LT(first10, 1158);
}

// Uniform on [2 s, 12 s): every start inside; the mean of 10,000 is 7 s with standard
// error 10/√12/100 ≈ 0.029 s; five of them either way.
TEST(Starts, UniformStartsFillTheirInterval) {
  StartSchedule u;
  u.kind = StartSchedule::Kind::uniform;
  u.from = t(2_s);
  u.to = t(12_s);
  RandomStream rng(7, "uniform");
  const auto times = u.times_for(10'000, rng);
  double sum = 0;
  for (TimePoint x : times) {
    ASSERT_GE(x, t(2_s));
    ASSERT_LT(x, t(12_s));
    sum += (x - TimePoint::zero()).seconds_f();
  }
  EXPECT_NEAR(sum / 10'000, 7.0, 5 * 0.0289);
}

TEST(Starts, ScheduleErrorsSayWhatIsWrong) {
  RandomStream rng(1, "x");
  StartSchedule l;
  l.kind = StartSchedule::Kind::list;
  l.times = {t(1_s), t(2_s)};
  EXPECT_THROW(l.times_for(3, rng), std::invalid_argument);
  StartSchedule u;
  u.kind = StartSchedule::Kind::uniform;
  EXPECT_THROW(u.times_for(3, rng), std::invalid_argument);
  StartSchedule p;
  p.kind = StartSchedule::Kind::poisson;
  EXPECT_THROW(p.times_for(3, rng), std::invalid_argument);
}

TEST(Workloads, RejectsWhatCannotRun) {
  Star s(2, 1_ms);
  auto expect_error = [&](Workload w, const std::string& fragment) {
    try {
      s.loads.add(w);
      ADD_FAILURE() << "accepted: " << fragment;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  Workload ok = of_kind(AppKind::bulk);
  ok.name = "upload";
  ok.clients = s.clients;
  ok.server = s.server;
  Workload w = ok;
  w.clients = {};
  expect_error(w, "upload: no client hosts");
  w = ok;
  w.clients = {0};  // the router
  expect_error(w, "client node 0 is not a host");
  w = ok;
  w.clients = {s.server};
  expect_error(w, "cannot connect to itself");
  w = of_kind(AppKind::request_response);
  w.clients = s.clients;
  w.server = s.server;
  w.request = 0;
  expect_error(w, "request size");
  w = of_kind(AppKind::stream);
  w.clients = s.clients;
  w.server = s.server;
  w.rate = DataRate();
  expect_error(w, "needs a rate");
  s.loads.add(ok);
  expect_error(ok, "port 80 already serves another workload");
}

TEST(Partition, ACutOffServerIsReachedAfterTheHeal) {
  Star s(1, 5_ms);
  Workload w = of_kind(AppKind::connect);
  w.clients = s.clients;
  w.server = s.server;
  w.close = CloseMode::never;
  s.loads.add(w);
  s.net.set_partitioned({s.server}, true);
  s.engine.at(t(2500_ms), [&] { s.net.set_partitioned({s.server}, false); });
  // SYNs at 0, 1 and 3 s (RFC 6298 backoff); the third gets through: connected at 3.02 s.
  s.engine.run_until(t(3019_ms));
  EXPECT_EQ(s.loads.stats(0).connected, 0u);
  s.engine.run_until(t(3020_ms));
  EXPECT_EQ(s.loads.stats(0).connected, 1u);
  EXPECT_GT(s.net.link(1).direction(0).stats().drops(DropReason::link_down), 0u);
}

}  // namespace
}  // namespace shakedown
