// The recorder's pairing of both ends into one row, without a network: the hosts'
// reports as a table of calls (an active open, its server, an old duplicate SYN, a
// simultaneous open, stray segments, ends and crashes).
#include "controller/connection_table.h"

#include <gtest/gtest.h>

#include "controller/connections_csv.h"

namespace shakedown::controller {
namespace {

constexpr std::uint32_t kClient = 0, kServer = 1, kRouter = 2;
const wire::Ipv4Address kClientAddress = wire::Ipv4Address::of(198, 18, 0, 1);
const wire::Ipv4Address kServerAddress = wire::Ipv4Address::of(198, 18, 0, 2);

struct Table : ::testing::Test {
  ConnectionTable table{3};
  void SetUp() override {
    table.add_host(kClient, kClientAddress);
    table.add_host(kServer, kServerAddress);
  }
  ConnectionTable::Where client(std::uint32_t slot, std::uint16_t port, std::uint32_t iss, std::uint32_t gen = 1) {
    return table.open(slot, gen, {kClient, kClientAddress, kServerAddress, port, 80, tcp::State::syn_sent, iss, 0});
  }
  ConnectionTable::Where server(std::uint32_t slot, std::uint16_t port, std::uint32_t irs, std::uint32_t iss = 9000) {
    return table.open(slot, 1, {kServer, kServerAddress, kClientAddress, 80, port, tcp::State::syn_received, iss, irs});
  }
};

TEST_F(Table, AServerJoinsTheClientWithItsTupleAndIsn) {
  const auto c = client(0, 40000, 1000);
  const auto s = server(0, 40000, 1000);
  EXPECT_EQ(c.row, 1u);
  EXPECT_EQ(c.side, 0);
  EXPECT_EQ(s.row, 1u);
  EXPECT_EQ(s.side, 1);
  ASSERT_EQ(table.rows().size(), 1u);
  const ConnectionRow& row = table.rows()[0];
  EXPECT_EQ(row.side[0].host, kClient);
  EXPECT_EQ(row.side[1].host, kServer);
  EXPECT_EQ(row.side[1].isn, 9000u);
  EXPECT_EQ(table.open_rows(), 1u);
  // The slot finds its side again; a new generation of the slot does not.
  EXPECT_EQ(table.find(kClient, 0, 1).row, 1u);
  EXPECT_EQ(table.find(kClient, 0, 2).row, 0u);
  EXPECT_EQ(table.find(kServer, 7, 1).row, 0u);
}

TEST_F(Table, AClientWhoseSynIsLostKnowsItsServerByAddress) {
  client(0, 40000, 1000);
  const ConnectionRow& row = table.rows()[0];
  EXPECT_EQ(row.side[1].host, kServer);
  EXPECT_FALSE(row.side[1].has_conn);
  EXPECT_EQ(row.side[1].port, 80);
}

TEST_F(Table, AnOldDuplicateSynMakesARowOfItsOwn) {
  client(0, 40000, 1000);
  server(0, 40000, 1000);
  // The same four-tuple, an ISN no waiting client has: the delayed SYN of an earlier
  // incarnation.
  const auto old = server(1, 40000, 555);
  EXPECT_EQ(old.row, 2u);
  EXPECT_EQ(old.side, 1);
  const ConnectionRow& row = table.rows()[1];
  EXPECT_FALSE(row.side[0].has_conn);
  EXPECT_EQ(row.side[0].host, kClient);  // drawn against the client all the same
  EXPECT_EQ(table.rows()[0].side[1].isn, 9000u);  // the first row untouched
}

TEST_F(Table, ASimultaneousOpenIsOneRow) {
  const auto a = client(0, 5000, 1000);
  // The server's host opens actively to the client's port from port 5000's peer.
  const auto b = table.open(0, 1, {kServer, kServerAddress, kClientAddress, 80, 5000, tcp::State::syn_sent, 2000, 0});
  EXPECT_EQ(a.row, b.row);
  EXPECT_EQ(b.side, 1);
  EXPECT_EQ(table.rows().size(), 1u);
  // A third SYN_SENT on the same tuple is a new connection.
  const auto c = table.open(1, 1, {kServer, kServerAddress, kClientAddress, 80, 5000, tcp::State::syn_sent, 3000, 0});
  EXPECT_EQ(c.row, 2u);
}

TEST_F(Table, AStraySegmentBelongsToTheReverseTuplesSender) {
  client(0, 40000, 1000);
  // The server answers the SYN with a RST from no connection: it sends on the reverse
  // of the client's tuple.
  const ConnectionTable::Tuple sender{kClientAddress.value, kServerAddress.value, 40000, 80};
  const auto w = table.stray(kServer, kServerAddress, sender, 80);
  EXPECT_EQ(w.row, 1u);
  EXPECT_EQ(w.side, 1);
  // No one sends on a tuple nobody opened.
  EXPECT_EQ(table.stray(kServer, kServerAddress, {1, 2, 3, 4}, 80).row, 0u);
}

TEST_F(Table, EndingBothSidesClosesTheRowAndForgetsItsTuples) {
  const auto c = client(0, 40000, 1000);
  const auto s = server(0, 40000, 1000);
  const ConnectionTable::Tuple sending{kClientAddress.value, kServerAddress.value, 40000, 80};
  EXPECT_EQ(table.row_sending(sending), 1u);
  EXPECT_TRUE(table.end(c, Outcome::completed, 100, true));
  EXPECT_FALSE(table.end(c, Outcome::reset, 200, true)) << "a side ends once";
  EXPECT_EQ(table.open_rows(), 1u);
  EXPECT_TRUE(table.end(s, Outcome::completed, 150, true));
  EXPECT_EQ(table.open_rows(), 0u);
  EXPECT_EQ(table.row_sending(sending), 0u);
  const ConnectionRow& row = table.rows()[0];
  EXPECT_EQ(row.outcome(), Outcome::completed);
  EXPECT_EQ(row.side[0].closed, 100);
  ASSERT_EQ(row.side[0].timeline.size(), 1u);
  EXPECT_EQ(row.side[0].timeline[0].second, tcp::State::closed);
  // A client that ended no longer waits: a late server makes a row of its own.
  EXPECT_EQ(server(1, 40000, 1000).row, 2u);
}

TEST_F(Table, TheFirstFailureIsTheRowsOutcome) {
  const auto c = client(0, 40000, 1000);
  const auto s = server(0, 40000, 1000);
  table.end(s, Outcome::reset, 10, false);
  EXPECT_EQ(table.rows()[0].outcome(), Outcome::reset);
  table.end(c, Outcome::completed, 20, false);
  EXPECT_EQ(table.rows()[0].outcome(), Outcome::reset);
}

TEST_F(Table, ACrashEndsEverySideOfTheHostAndForgetsItsSlots) {
  client(0, 40000, 1000);
  client(1, 40001, 2000);
  server(0, 40000, 1000);
  const auto ended = table.crash(kClient, 500, false);
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].row, 1u);
  EXPECT_EQ(ended[1].row, 2u);
  EXPECT_EQ(table.rows()[0].side[0].outcome, Outcome::crashed);
  EXPECT_EQ(table.rows()[0].outcome(), Outcome::crashed);
  EXPECT_EQ(table.find(kClient, 0, 1).row, 0u);
  EXPECT_EQ(table.open_rows(), 1u);  // row 1's server is still open
  EXPECT_EQ(table.host_of(kServerAddress), kServer);
  EXPECT_EQ(table.host_of(wire::Ipv4Address::of(10, 0, 0, 1)), Side::kNoHost);
  (void)kRouter;
}

TEST_F(Table, TheCsvRowHasAFieldForEveryColumn) {
  const auto c = client(0, 40000, 1000);
  table.side(c).syn_sent = 0;
  table.side(c).established = 20'000'000;
  TraceNames names{{"client", "server", "r"}, {}};
  const auto fields = connection_fields(table.rows()[0], names);
  const auto& columns = connection_columns();
  ASSERT_EQ(fields.size(), columns.size());
  EXPECT_EQ(columns.size(), 8u + 2 * 20u);
  const auto at = [&](const std::string& name) {
    for (std::size_t i = 0; i < columns.size(); ++i)
      if (columns[i] == name) return fields[i];
    ADD_FAILURE() << "no column " << name;
    return std::string();
  };
  EXPECT_EQ(at("client"), "client");
  EXPECT_EQ(at("server"), "server");
  EXPECT_EQ(at("client_address"), "198.18.0.1:40000");
  EXPECT_EQ(at("handshake_ns"), "20000000");
  EXPECT_EQ(at("client_isn"), "1000");
  EXPECT_EQ(at("server_isn"), "") << "the server has no connection of its own";
  EXPECT_EQ(at("outcome"), "open");
}

}  // namespace
}  // namespace shakedown::controller
