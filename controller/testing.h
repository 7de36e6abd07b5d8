// GoogleTest matchers for shakedown's results (controller/experiment.h). Header-only:
// the test suite that includes it links GoogleTest and GoogleMock itself.
//
//   const auto r = shakedown::Experiment::from_file("handshake.yaml").run();
//   EXPECT_THAT(r, shakedown::testing::AllExpectationsPass());
//   EXPECT_THAT(r.connection(1), shakedown::testing::Completed());
//   EXPECT_THAT(r.connection(1), shakedown::testing::HandshakeWithin(20_ms));
//   EXPECT_THAT(r, shakedown::testing::StateAt(1, shakedown::testing::kClient, 45_ms, "TIME_WAIT"));
#pragma once

#include <gmock/gmock.h>

#include <ostream>
#include <string>

#include "controller/experiment.h"

namespace shakedown {

// How GoogleTest prints them in a failure.
inline void PrintTo(const ConnectionRecord& c, std::ostream* os) {
  *os << "connection " << c.id << " (" << c.client << " " << c.client_address << " -> " << c.server << " "
      << c.server_address << ", " << c.outcome << ")";
}
inline void PrintTo(const Results& r, std::ostream* os) {
  *os << "the run in " << r.dir() << " (exit code " << r.exit_code() << ", " << r.connections().size()
      << " connections)";
}

}  // namespace shakedown

namespace shakedown::testing {

inline constexpr int kClient = 0;
inline constexpr int kServer = 1;

// The run finished (exit code 0 or 1), so its results can be trusted.
MATCHER(RanToTheEnd, "ran to the end") {
  if (arg.exit_code() == 0 || arg.exit_code() == 1) return true;
  *result_listener << "exit code " << arg.exit_code() << ": " << arg.errors();
  return false;
}

// Every expectation of the topology file held (and the run finished).
MATCHER(AllExpectationsPass, "passes every expectation of its topology") {
  if (arg.exit_code() != 0 && arg.exit_code() != 1) {
    *result_listener << "the run did not finish (exit code " << arg.exit_code() << "): " << arg.errors();
    return false;
  }
  bool ok = true;
  for (const auto& e : arg.expectations()) {
    if (e.passed) continue;
    ok = false;
    *result_listener << "\n  " << e.where << ": " << e.text << " — actual " << e.actual;
    if (!e.detail.empty()) *result_listener << "; look at " << e.detail;
  }
  return ok;
}

MATCHER_P(HasOutcome, outcome, std::string("has outcome ") + ::testing::PrintToString(outcome)) {
  if (arg.outcome == outcome) return true;
  *result_listener << "connection " << arg.id << " ended " << arg.outcome;
  return false;
}

MATCHER(Completed, "completed (both sides closed the normal way)") {
  if (arg.outcome == "completed") return true;
  *result_listener << "connection " << arg.id << " ended " << arg.outcome;
  return false;
}

// The client was ESTABLISHED within `limit` of its first SYN.
MATCHER_P(HandshakeWithin, limit, "completed its handshake within " + to_string(limit)) {
  if (!arg.handshake) {
    *result_listener << "connection " << arg.id << " never completed its handshake";
    return false;
  }
  *result_listener << "connection " << arg.id << " took " << to_string(*arg.handshake);
  return *arg.handshake <= limit;
}

// Connection `conn`'s side (kClient, kServer) was in `state` at time `t`.
MATCHER_P4(StateAt, conn, side, t, state,
           std::string(side == kClient ? "client" : "server") + " in " + state + " at " + to_string(t)) {
  const std::string actual = arg.state_at(conn, side, t);
  if (actual == state) return true;
  *result_listener << "it was " << actual;
  return false;
}

}  // namespace shakedown::testing
