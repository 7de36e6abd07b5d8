// Guarding how connections behave, in an ordinary GoogleTest suite.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/experiment.h"
#include "controller/testing.h"

namespace {

using namespace shakedown::literals;
using namespace shakedown::testing;

// A topology file with its own expectations.
TEST(ConnectionGuard, TheFilesExpectationsHold) {
  const auto results = shakedown::Experiment::from_file(GUARD_TOPOLOGY).run();
  EXPECT_THAT(results, AllExpectationsPass());
  EXPECT_EQ(results.connections().size(), 100u);
}

// The same kind of network built in code, with checks written in C++.
TEST(ConnectionGuard, EveryHandshakeWithinOneRoundTripWithoutLoss) {
  shakedown::TopologyBuilder b("clean");
  b.hosts("client[1..3]").host("server").router("r");
  b.link("client*", "r", {.delay = 5_ms});
  b.link("r", "server", {.delay = 20_ms});
  b.workload({.app = "connect", .from = "client*", .to = "server", .port = 443, .connections = 2});
  const auto results = b.experiment().run();
  ASSERT_THAT(results, RanToTheEnd());
  ASSERT_EQ(results.connections().size(), 6u);
  for (const auto& c : results.connections()) {
    EXPECT_THAT(c, Completed());
    EXPECT_THAT(c, HandshakeWithin(50_ms));
  }
  // The client that closed first waits 2 MSL in TIME_WAIT.
  EXPECT_THAT(results, StateAt(1, kClient, 1_s, "TIME_WAIT"));
}

}  // namespace
