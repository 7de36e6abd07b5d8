// Expectations evaluated against a real run: values, the actual value reported, and
// where to look when one fails.
#include "controller/expectations.h"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "controller/run.h"
#include "support/files.h"

namespace shakedown::controller {
namespace {

using shakedown::testing::TempDir;

constexpr const char* kThree = R"(name: three
hosts: [client, server]
links:
  - {ends: [client, server], delay: 10ms}
workload:
  - {app: connect, from: client, to: server:80, connections: 3}
expect:
  - connections.total == 3
  - handshake.mean == 20ms
  - connection[client->server:80#3].state_at(25ms) == FIN_WAIT_1
  - connection[client->server:80#4].outcome == completed
  - retransmissions[server].total == 0
  - server sends SYN-ACK after 10ms
  - client sees DATA before 1s
  - connections.completed >= connections.started
  - connection[2].server.state_at(35ms) == LAST_ACK
  - teardown[client].count == 3
)";

TEST(Expectations, EachGivesItsActualValueAndWhereToLook) {
  TempDir dir;
  std::ofstream(dir.file("three.yaml")) << kThree;
  RunOptions o;
  o.file = dir.file("three.yaml");
  o.out = dir.file("out");
  o.quiet = true;
  RunReport report;
  o.report = &report;
  std::FILE* null = std::fopen("/dev/null", "w");
  EXPECT_EQ(run_experiment(o, null, null), 1) << "some fail: exit code 1";
  std::fclose(null);
  const auto& r = report.expectations;
  ASSERT_EQ(r.size(), 10u);
  const auto check = [&](std::size_t i, bool passed, const std::string& actual) {
    EXPECT_EQ(r[i].passed, passed) << r[i].text;
    EXPECT_EQ(r[i].actual, actual) << r[i].text;
  };
  check(0, true, "3");
  check(1, true, "20ms");
  check(2, true, "FIN_WAIT_1");
  check(3, false, "none");
  EXPECT_EQ(r[3].detail, "no such connection: see connections.csv for ids and endpoints");
  check(4, true, "0");
  check(5, false, "last sent SYN-ACK at 10ms (connection 3)");
  EXPECT_EQ(r[5].detail, "shakedown inspect " + dir.file("out") + " --conn 3") << "the run's own folder";
  check(6, false, "never saw DATA");
  check(7, true, "3 >= 3");
  check(8, true, "LAST_ACK");
  check(9, true, "3");
  EXPECT_EQ(r[0].where, dir.file("three.yaml") + ":8:5");

  std::ifstream in(dir.file("out/summary.json"));
  const auto summary = nlohmann::json::parse(in);
  ASSERT_EQ(summary["expectations"].size(), 10u);
  EXPECT_EQ(summary["expectations"][5]["passed"], false);
  EXPECT_EQ(summary["expectations"][5]["look_at"], "shakedown inspect " + dir.file("out") + " --conn 3");
}

TEST(Expectations, AllPassingIsExitCodeZero) {
  TempDir dir;
  std::ofstream(dir.file("ok.yaml")) << "hosts: [a, b]\nlinks:\n  - {ends: [a, b], delay: 1ms}\nworkload:\n"
                                        "  - {app: connect, from: a, to: b:80}\nexpect:\n  - handshake.max == 2ms\n";
  RunOptions o;
  o.file = dir.file("ok.yaml");
  o.out = dir.file("out");
  o.quiet = true;
  std::FILE* null = std::fopen("/dev/null", "w");
  EXPECT_EQ(run_experiment(o, null, null), 0);
  std::fclose(null);
}

}  // namespace
}  // namespace shakedown::controller
