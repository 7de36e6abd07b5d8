// The library API as a test suite uses it: a topology built in code or loaded, run in
// process, looked at through the results and the matchers.
#include "controller/experiment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "controller/testing.h"
#include "topologies/loader.h"

namespace shakedown {
namespace {

using namespace shakedown::literals;
using ::testing::Not;
using namespace shakedown::testing;

TopologyBuilder two_hosts() {
  TopologyBuilder b("two-hosts");
  b.host("client").host("server").link("client", "server", {.delay = 10_ms});
  b.workload({.app = "connect", .from = "client", .to = "server"});
  return b;
}

TEST(Library, ABuiltTopologyIsTheSameAsTheFile) {
  const std::string file = R"(name: two-hosts
hosts: [client, server]
links:
  - {ends: [client, server], delay: 10ms}
workload:
  - {app: connect, from: client, to: server:80}
)";
  EXPECT_EQ(two_hosts().build().SerializeAsString(), topology::load_string(file, "two-hosts (built in code)").SerializeAsString())
      << two_hosts().yaml();
}

TEST(Library, RunAndLookAtTheConnection) {
  const Results r = two_hosts().experiment().run();
  ASSERT_THAT(r, RanToTheEnd());
  ASSERT_EQ(r.connections().size(), 1u);
  EXPECT_THAT(r.connection(1), Completed());
  EXPECT_THAT(r.connection(1), HandshakeWithin(20_ms));
  EXPECT_THAT(r.connection(1), Not(HandshakeWithin(19_ms)));
  EXPECT_EQ(r.connection(1).time("server_established_ns"), 30_ms);
  EXPECT_EQ(r.connection(1).time("client_first_data_sent_ns"), std::nullopt);
  EXPECT_THAT(r, StateAt(1, kClient, 45_ms, "TIME_WAIT"));
  EXPECT_THAT(r, StateAt(1, kServer, 35_ms, "LAST_ACK"));
  EXPECT_THAT(r, Not(StateAt(1, kServer, 35_ms, "CLOSED")));
  EXPECT_EQ(r.events("state", 1).size(), 11u);
  EXPECT_EQ(r.summary()["handshake"]["p50_ns"], 20'000'000);
  EXPECT_EQ(r.connections_between("client", "server").size(), 1u);
  EXPECT_THROW(r.connection(2), std::out_of_range);
}

// The results are the run's data, not its files read back: the same with the files
// gone, and the same as the files say.
TEST(Library, ResultsAreTheRunsDataAndTheFilesSayTheSame) {
  const std::string dir = ::testing::TempDir() + "library-results-data";
  const Results r = two_hosts().experiment().out(dir).run();
  ASSERT_THAT(r, RanToTheEnd());
  std::ifstream events_file(dir + "/events.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(events_file, line);) lines.push_back(line);
  std::ifstream csv_file(dir + "/connections.csv");
  std::string header, row;
  std::getline(csv_file, header);
  std::getline(csv_file, row);
  std::filesystem::remove_all(dir);

  const auto events = r.events();
  ASSERT_EQ(events.size(), lines.size());
  ASSERT_GT(events.size(), 20u);
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].line.dump(), nlohmann::json::parse(lines[i]).dump());
  EXPECT_EQ(events.front().ev, "state");
  EXPECT_EQ(events.front().host, "client");
  // Filters by kind and connection are exact (no "state" inside another field).
  for (const auto& e : r.events("send", 1)) EXPECT_EQ(e.ev, "send");
  EXPECT_EQ(r.events("send", 2).size(), 0u);
  // The row has every column of the file's header, with the file's values.
  const ConnectionRecord& c = r.connection(1);
  std::stringstream h(header), v(row);
  for (std::string name, value; std::getline(h, name, ',');) {
    std::getline(v, value, ',');
    ASSERT_TRUE(c.columns.contains(name)) << name;
    EXPECT_EQ(c.columns.at(name), value) << name;
  }
  EXPECT_EQ(c.columns.size(), 48u);
}

TEST(Library, ExpectationsFromCode) {
  auto b = two_hosts();
  b.expect("handshake.max == 20ms").expect("connection[client->server:80].state_at(45ms) == TIME_WAIT");
  EXPECT_THAT(b.experiment().run(), AllExpectationsPass());
  b.expect("teardown.max < 30ms");
  const Results r = b.experiment().run();
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_THAT(r, Not(AllExpectationsPass()));
  EXPECT_EQ(r.expectations().back().actual, "30ms");
}

TEST(Library, LossAndSeedsThroughTheBuilder) {
  TopologyBuilder b("lossy");
  b.seed(3).hosts("client[1..4]").host("server").router("r");
  b.link("client*", "r", {.delay = 5_ms, .loss_percent = 5});
  b.link("r", "server", {.delay = 5_ms, .rate = "100Mbps"});
  b.workload({.app = "bulk", .from = "client*", .to = "server", .connections = 5, .more = "bytes: 20KB"});
  const Results a = b.experiment().run(), again = b.experiment().run(), other = b.experiment().seed(4).run();
  ASSERT_THAT(a, RanToTheEnd());
  EXPECT_EQ(a.connections().size(), 20u);
  for (const auto& c : a.connections()) EXPECT_THAT(c, Completed());
  EXPECT_EQ(a.summary()["retransmissions"], again.summary()["retransmissions"]) << "same seed, same run";
  EXPECT_NE(a.summary()["drops"], other.summary()["drops"]) << "another seed, other losses";
}

// A SYN to a port nobody serves is refused (RFC 9293 3.10.7.1): the outcome says so in
// every result, and the run ends at its last event (the RST's arrival, 20 ms), not at
// the SYN's retransmission timer (1 s), cancelled when the connection closed.
TEST(Library, ARefusedConnectionIsRefusedAndTheRunEndsWithIt) {
  const Results r = Experiment::from_yaml(R"(hosts: [client, server]
links:
  - {ends: [client, server], delay: 10ms}
workload:
  - {app: connect, from: client, to: server:7001, listen: false}
)").run();
  ASSERT_THAT(r, RanToTheEnd());
  EXPECT_EQ(r.connection(1).outcome, "refused");
  EXPECT_EQ(r.summary()["connections"]["refused"], 1);
  EXPECT_EQ(r.summary()["connections"]["reset"], 0);
  EXPECT_EQ(r.summary()["simulated_ns"], 20'000'000);
  const auto ends = r.events("end", 1);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].line["outcome"], "refused");
}

TEST(Library, BadTopologiesAreLoadErrors) {
  TopologyBuilder b("bad");
  b.host("a").link("a", "nowhere", {.delay = 1_ms});
  EXPECT_THROW(b.build(), topology::LoadError);
  EXPECT_THROW(Experiment::from_file("/nonexistent.yaml"), topology::LoadError);
  // The builder's pieces are checked as the file's are, and the error says where.
  const auto message = [](const TopologyBuilder& t) {
    try {
      t.build();
    } catch (const topology::LoadError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  TopologyBuilder mtu("small");
  mtu.host("a").host("b").link("a", "b", {.delay = 1_ms, .more = "mtu: 20"});
  EXPECT_EQ(message(mtu), "small (built in code):1:7: links[0].mtu: 20 is out of range 68..65535");
  TopologyBuilder jitter("jittery");
  jitter.host("a").host("b").link("a", "b", {.delay = 1_ms, .jitter = 2_ms});
  EXPECT_EQ(message(jitter), "jittery (built in code):1:1: links[0].jitter: is larger than the delay: a packet cannot arrive before it was sent");
  TopologyBuilder workload("busy");
  workload.host("a").host("b").link("a", "b", {.delay = 1_ms}).workload({.app = "bulk", .from = "a", .to = "b"});
  EXPECT_EQ(message(workload), "busy (built in code):1:1: workload[0]: bulk needs 'bytes' (a size such as 10MB)");
  TopologyBuilder tcp("tuned");
  tcp.tcp("min_rto: 0ms").host("a");
  EXPECT_EQ(message(tcp), "tuned (built in code):1:1: defaults.tcp.min_rto: must be more than zero");
}

// The builder's typed settings and its `more` keys make the same topology as the file.
TEST(Library, BuiltLinksFaultsAndExpectationsAreTheFilesToo) {
  TopologyBuilder b("lossy");
  b.seed(9).tcp("sack: false").hosts("client[1..2]").host("server").router("r");
  b.link("client*", "r", {.delay = 5_ms, .jitter = 1_ms, .loss_percent = 0.1, .rate = "10Mbps", .more = "queue: 20"});
  b.link("r", "server", {.delay = 5_ms, .more = "forward: {loss: 2%}"});
  b.workload({.app = "bulk", .from = "client*", .to = "server", .port = 8080, .more = "bytes: 1KB"});
  b.fault("{match: {link: [client1, r], flags: SYN}, delay: 3s}");
  b.expect("connections.completed == 2");
  const std::string file = R"(name: lossy
seed: 9
defaults: {tcp: {sack: false}}
hosts: ["client[1..2]", server]
routers: [r]
links:
  - {ends: ["client*", r], delay: 5ms, jitter: 1ms, loss: 0.1%, rate: 10Mbps, queue: 20}
  - {ends: [r, server], delay: 5ms, forward: {loss: 2%}}
workload:
  - {app: bulk, from: "client*", to: "server:8080", connections: 1, close: client, bytes: 1KB}
faults:
  - {match: {link: [client1, r], flags: SYN}, delay: 3s}
expect:
  - connections.completed == 2
)";
  topology::Topology built = b.build(), loaded = topology::load_string(file, "lossy (built in code)");
  // Where an expectation and a fault were written differs (a line of the file, a
  // string in code); what they say does not.
  for (auto* t : {&built, &loaded}) {
    t->mutable_expectations(0)->clear_line();
    t->mutable_expectations(0)->clear_column();
    t->mutable_faults(0)->clear_description();
  }
  EXPECT_EQ(built.SerializeAsString(), loaded.SerializeAsString()) << b.yaml();
  EXPECT_EQ(topology::load_string(b.yaml(), "lossy (built in code)").links_size(), 3) << "yaml() is the same topology";
}

}  // namespace
}  // namespace shakedown
