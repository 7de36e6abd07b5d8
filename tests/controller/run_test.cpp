// `shakedown run` from the inside: what the files of a run say, against times computed
// from the link delays; captures read back by tshark; reruns byte for byte.
#include "controller/run.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/csv.h"
#include "support/files.h"

namespace shakedown::controller {
namespace {

namespace fs = std::filesystem;
using shakedown::testing::TempDir;
using shakedown::testing::slurp;

const std::string kCatalog = SHAKEDOWN_CATALOG;

int run_quiet(RunOptions o) {
  o.quiet = true;
  std::FILE* null = std::fopen("/dev/null", "w");
  const int code = run_experiment(o, null, null);
  std::fclose(null);
  return code;
}

RunOptions options(const std::string& file, const std::string& out, const std::string& pcap = "auto",
                   const std::string& events = "all") {
  RunOptions o;
  o.file = file;
  o.out = out;
  o.pcap = pcap;
  o.events = events;
  return o;
}

int run_quiet(const std::string& file, const std::string& out, const std::string& pcap = "auto") {
  return run_quiet(options(file, out, pcap));
}

using shakedown::testing::read_csv;

std::vector<nlohmann::json> read_events(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const auto& line : shakedown::testing::lines(slurp(path))) out.push_back(nlohmann::json::parse(line));
  return out;
}

constexpr std::int64_t kMs = 1'000'000;

// The textbook exchange over one 10 ms link, every time from the delays: SYN at 0,
// SYN-ACK at 10 ms, client ESTABLISHED at 20 ms (one RTT), server at 30 ms (one and a
// half); the client's FIN goes with its ACK at 20 ms, the server answers ACK and FIN
// at 30 ms, both reach the client at 40 ms (TIME_WAIT), its ACK the server at 50 ms
// (CLOSED); TIME_WAIT lasts 2 MSL = 60 s.
TEST(Run, TwoHostsOverTenMillisecondsAtTheTimesTheDelaysGive) {
  TempDir dir;
  ASSERT_EQ(run_quiet(kCatalog + "/two-hosts.yaml", dir.file("out")), 0);
  const auto rows = read_csv(dir.file("out/connections.csv"));
  ASSERT_EQ(rows.size(), 1u);
  const auto& r = rows[0];
  EXPECT_EQ(r.at("outcome"), "completed");
  EXPECT_EQ(r.at("client"), "client");
  EXPECT_EQ(r.at("server_address"), "198.18.0.2:80");
  const std::map<std::string, std::int64_t> want = {
      {"client_syn_sent_ns", 0},
      {"server_syn_received_ns", 10 * kMs},
      {"server_synack_sent_ns", 10 * kMs},
      {"client_synack_received_ns", 20 * kMs},
      {"client_established_ns", 20 * kMs},
      {"server_established_ns", 30 * kMs},
      {"client_fin_sent_ns", 20 * kMs},
      {"server_fin_received_ns", 30 * kMs},
      {"server_fin_sent_ns", 30 * kMs},
      {"client_fin_received_ns", 40 * kMs},
      {"client_time_wait_entered_ns", 40 * kMs},
      {"server_closed_ns", 50 * kMs},
      {"client_time_wait_left_ns", 40 * kMs + 60'000 * kMs},
      {"client_closed_ns", 40 * kMs + 60'000 * kMs},
      {"handshake_ns", 20 * kMs},
      {"teardown_ns", 30 * kMs},  // first FIN at 20 ms until the server's CLOSED at 50 ms
  };
  for (const auto& [column, ns] : want) EXPECT_EQ(r.at(column), std::to_string(ns)) << column;

  // The events say the same, in causal order.
  std::vector<std::string> states;
  for (const auto& e : read_events(dir.file("out/events.jsonl")))
    if (e["ev"] == "state")
      states.push_back(fmt::format("{} {} {}->{}", e["t"].get<std::int64_t>() / kMs, e["host"].get<std::string>(),
                                   e["from"].get<std::string>(), e["to"].get<std::string>()));
  EXPECT_EQ(states, (std::vector<std::string>{
                        "0 client CLOSED->SYN_SENT",
                        "10 server CLOSED->SYN_RECEIVED",
                        "20 client SYN_SENT->ESTABLISHED",
                        "20 client ESTABLISHED->FIN_WAIT_1",
                        "30 server SYN_RECEIVED->ESTABLISHED",
                        "30 server ESTABLISHED->CLOSE_WAIT",
                        "30 server CLOSE_WAIT->LAST_ACK",
                        "40 client FIN_WAIT_1->FIN_WAIT_2",
                        "40 client FIN_WAIT_2->TIME_WAIT",
                        "50 server LAST_ACK->CLOSED",
                        "60040 client TIME_WAIT->CLOSED",
                    }));

  const auto summary = nlohmann::json::parse(slurp(dir.file("out/summary.json")));
  EXPECT_EQ(summary["connections"]["completed"], 1);
  EXPECT_EQ(summary["handshake"]["p50_ns"], 20 * kMs);
  EXPECT_EQ(summary["teardown"]["max_ns"], 30 * kMs);
  EXPECT_EQ(summary["simulated_ns"], 60'040 * kMs);
}

// tshark reads every capture of a lossy, reordering run with no malformed packet and
// no bad checksum, and finds as many retransmissions as the run reports. Each host's
// capture is taken as the host sends, so any segment of the host's that is not the
// next in sequence is a retransmission; tshark calls the quick ones (SACK-driven, sent
// within an RTT) "out-of-order", so both labels are counted.
TEST(Run, TsharkReadsEveryCaptureAndCountsTheSameRetransmissions) {
  if (!shakedown::testing::have_tshark()) GTEST_SKIP() << "tshark not installed";
  TempDir dir;
  ASSERT_EQ(run_quiet(kCatalog + "/lossy-path.yaml", dir.file("out")), 0);
  const auto summary = nlohmann::json::parse(slurp(dir.file("out/summary.json")));
  std::uint64_t ours = 0;
  for (const auto& [kind, n] : summary["retransmissions"].items()) ours += n.get<std::uint64_t>();
  ASSERT_GT(ours, 50u) << "the lossy path should retransmit";

  std::uint64_t theirs = 0;
  int files = 0;
  for (int i = 1; i <= 5; ++i) {
    const std::string host = i == 5 ? "server" : fmt::format("client{}", i);
    const std::string pcap = dir.file("out/pcap/" + host + ".pcap");
    // The payload is not HTTP, though it goes to port 80.
    const std::string opts = "--disable-protocol http -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE ";
    const auto all = shakedown::testing::tshark_fields(pcap, opts + "-T fields -e frame.number");
    EXPECT_GT(all.size(), 10u) << host;
    const auto bad = shakedown::testing::tshark_fields(
        pcap, opts + "-Y \"_ws.malformed || tcp.checksum.status == 0 || ip.checksum.status == 0\" -T fields -e frame.number");
    EXPECT_TRUE(bad.empty()) << host << ": " << bad.size() << " malformed or bad-checksum packets";
    const auto retx = shakedown::testing::tshark_fields(
        pcap, opts + fmt::format("-Y \"ip.src == 198.18.0.{} && (tcp.analysis.retransmission || "
                                 "tcp.analysis.out_of_order)\" -T fields -e frame.number",
                                 i));
    theirs += retx.size();
    ++files;
  }
  EXPECT_EQ(files, 5);
  EXPECT_EQ(theirs, ours);
}

// Same file, same seed: every file a rerun reproduces is byte for byte the same. A
// different seed changes them, so the comparison can fail.
TEST(Run, TheSameSeedGivesTheSameBytes) {
  TempDir dir;
  ASSERT_EQ(run_quiet(kCatalog + "/lossy-path.yaml", dir.file("a")), 0);
  ASSERT_EQ(run_quiet(kCatalog + "/lossy-path.yaml", dir.file("b")), 0);
  RunOptions o;
  o.file = kCatalog + "/lossy-path.yaml";
  o.out = dir.file("c");
  o.seed = 12;
  ASSERT_EQ(run_quiet(o), 0);
  std::vector<std::string> files = {"events.jsonl", "connections.csv", "summary.json", "topology.txtpb"};
  for (const auto& e : fs::directory_iterator(dir.file("a/pcap"))) files.push_back("pcap/" + e.path().filename().string());
  ASSERT_EQ(files.size(), 9u);
  for (const auto& f : files) {
    const std::string a = slurp(dir.file("a/" + f));
    EXPECT_FALSE(a.empty()) << f;
    EXPECT_EQ(a, slurp(dir.file("b/" + f))) << f << " differs between two runs with the same seed";
  }
  EXPECT_NE(slurp(dir.file("a/events.jsonl")), slurp(dir.file("c/events.jsonl"))) << "another seed, other events";
}

// A run left its canonical topology behind: running that reproduces the run.
TEST(Run, TheCanonicalTopologyOfARunReproducesIt) {
  TempDir dir;
  ASSERT_EQ(run_quiet(kCatalog + "/lossy-path.yaml", dir.file("a"), "none"), 0);
  ASSERT_EQ(run_quiet(dir.file("a/topology.txtpb"), dir.file("b"), "none"), 0);
  EXPECT_EQ(slurp(dir.file("a/events.jsonl")), slurp(dir.file("b/events.jsonl")));
}

// The old duplicate SYN makes a second row: only a server side, ended by the client's
// RST; the first connection is untouched by it.
TEST(Run, AnOldDuplicateSynIsARowOfItsOwn) {
  TempDir dir;
  ASSERT_EQ(run_quiet(kCatalog + "/old-duplicate-syn.yaml", dir.file("out"), "none"), 0);
  const auto rows = read_csv(dir.file("out/connections.csv"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("outcome"), "completed");
  EXPECT_EQ(rows[0].at("client_retx_syn"), "1") << "the held SYN was sent again after 1 s";
  EXPECT_EQ(rows[0].at("server_bytes_received"), "1000");
  EXPECT_EQ(rows[1].at("outcome"), "reset");
  EXPECT_EQ(rows[1].at("client_isn"), "") << "no client connection: the client answered for none";
  EXPECT_EQ(rows[1].at("client"), "client") << "but the diagram still knows who the client is";
  EXPECT_EQ(rows[1].at("server_syn_received_ns"), std::to_string(90'000 * kMs + 10 * kMs));
  EXPECT_EQ(rows[1].at("server_closed_ns"), std::to_string(90'000 * kMs + 30 * kMs))
      << "SYN-ACK to the client at +20 ms, its RST back at +30 ms frees the half-open connection";
}

// RFC 5681 3.1: after a retransmission timeout cwnd is the loss window, one segment,
// and ssthresh at least two. The cwnd events must say so at every data RTO.
TEST(Run, CwndEventsShowTheLossWindowAfterEveryTimeout) {
  TempDir dir;
  const RunOptions o = options(kCatalog + "/lossy-path.yaml", dir.file("out"), "none", "cwnd,retransmit,timer");
  ASSERT_EQ(run_quiet(o), 0);
  std::map<std::pair<std::string, int>, std::pair<std::uint32_t, std::uint32_t>> window;  // (host, conn)
  std::map<std::pair<std::string, int>, std::int64_t> fired;  // the retransmission timer, when it fired
  int timeouts = 0;
  for (const auto& e : read_events(dir.file("out/events.jsonl"))) {
    const auto key = std::make_pair(e["host"].get<std::string>(), e["conn"].get<int>());
    if (e["ev"] == "cwnd") {
      window[key] = {e["cwnd"].get<std::uint32_t>(), e["ssthresh"].get<std::uint32_t>()};
    } else if (e["ev"] == "timer" && e["timer"] == "retransmission") {
      fired[key] = e["t"].get<std::int64_t>();
    } else if (e["ev"] == "retransmit" && e["cause"] == "rto" && e["segment"] == "data" &&
               fired[key] == e["t"].get<std::int64_t>()) {
      // The timeout itself; later "rto" retransmissions are the go-back-N that follows
      // it in slow start, with the window already growing.
      ++timeouts;
      ASSERT_TRUE(window.contains(key));
      EXPECT_EQ(window[key].first, 1448u) << "one segment (MSS 1460 less 12 bytes of timestamps) at t=" << e["t"];
      EXPECT_GE(window[key].second, 2u * 1448u);
    }
  }
  EXPECT_GT(timeouts, 10);
}

// Every timer that fires was set for that moment: the latest timer_set line of that
// host, connection and timer has the firing time as its deadline.
TEST(Run, TimersFireWhenTheyWereSetFor) {
  TempDir dir;
  ASSERT_EQ(run_quiet(options(kCatalog + "/lossy-path.yaml", dir.file("out"), "none", "timer")), 0);
  std::map<std::tuple<std::string, int, std::string>, std::int64_t> deadline;
  int fired = 0, set = 0;
  for (const auto& e : read_events(dir.file("out/events.jsonl"))) {
    const auto key = std::make_tuple(e["host"].get<std::string>(), e["conn"].get<int>(), e["timer"].get<std::string>());
    if (e["ev"] == "timer_set") {
      deadline[key] = e["deadline"].get<std::int64_t>();
      ++set;
    } else {
      ASSERT_EQ(e["ev"], "timer");
      ASSERT_TRUE(deadline.contains(key)) << e.dump();
      EXPECT_EQ(deadline[key], e["t"].get<std::int64_t>()) << e.dump();
      ++fired;
    }
  }
  EXPECT_GT(fired, 50);
  EXPECT_GT(set, fired) << "most timers are moved or cancelled before they fire";
}

TEST(Run, UntilStopsTheRunWithConnectionsStillOpen) {
  TempDir dir;
  RunOptions o;
  o.file = kCatalog + "/two-hosts.yaml";
  o.out = dir.file("out");
  o.until_ns = 1'000 * kMs;
  ASSERT_EQ(run_quiet(o), 0);
  const auto summary = nlohmann::json::parse(slurp(dir.file("out/summary.json")));
  EXPECT_EQ(summary["simulated_ns"], 1'000 * kMs);
  EXPECT_EQ(summary["connections"]["open"], 1) << "the client is still in TIME_WAIT";
  EXPECT_EQ(summary["connections"]["in_time_wait"], 1);
  EXPECT_EQ(read_csv(dir.file("out/connections.csv")).at(0).at("client_time_wait_left_ns"), "");
}

// The file says how long the run is (run: {until}); --until overrides it.
TEST(Run, TheFileSaysWhenToStopAndTheCommandLineWins) {
  TempDir dir;
  std::ofstream(dir.file("t.yaml")) << slurp(kCatalog + "/two-hosts.yaml") << "run: {until: 1s}\n";
  RunOptions o;
  o.file = dir.file("t.yaml");
  o.out = dir.file("out");
  ASSERT_EQ(run_quiet(o), 0);
  EXPECT_EQ(nlohmann::json::parse(slurp(dir.file("out/summary.json")))["simulated_ns"], 1'000 * kMs);
  o.until_ns = 2'000 * kMs;
  ASSERT_EQ(run_quiet(o), 0);
  EXPECT_EQ(nlohmann::json::parse(slurp(dir.file("out/summary.json")))["simulated_ns"], 2'000 * kMs);
}

// A connection nobody closes, with keepalive on, has an event every 7200 s for ever:
// without run.until the run stops at the horizon (10^6 s) and says so.
TEST(Run, ARunWithoutAnEndStopsAtTheHorizon) {
  TempDir dir;
  std::ofstream(dir.file("t.yaml")) << R"(hosts:
  client: {tcp: {keepalive: true}}
  server: {}
links:
  - {ends: [client, server], delay: 10ms}
workload:
  - {app: connect, from: client, to: server:80, close: never}
)";
  RunOptions o;
  o.file = dir.file("t.yaml");
  o.out = dir.file("out");
  o.quiet = true;
  char* text = nullptr;
  std::size_t size = 0;
  std::FILE* err = open_memstream(&text, &size);
  std::FILE* null = std::fopen("/dev/null", "w");
  EXPECT_EQ(run_experiment(o, null, err), 0);
  std::fclose(null);
  std::fclose(err);
  const std::string said(text, size);
  std::free(text);
  EXPECT_NE(said.find("stopped at the horizon of 1000000s simulated"), std::string::npos) << said;
  const auto summary = nlohmann::json::parse(slurp(dir.file("out/summary.json")));
  EXPECT_EQ(summary["simulated_ns"], 1'000'000'000'000'000);
  EXPECT_EQ(summary["connections"]["open"], 1);
}

TEST(Run, EventKindsAreSelectable) {
  TempDir dir;
  RunOptions o = options(kCatalog + "/lossy-path.yaml", dir.file("out"), "none", "retransmit,end");
  ASSERT_EQ(run_quiet(o), 0);
  std::map<std::string, int> kinds;
  for (const auto& e : read_events(dir.file("out/events.jsonl"))) ++kinds[e["ev"].get<std::string>()];
  EXPECT_EQ(kinds.size(), 2u);
  EXPECT_EQ(kinds["end"], 40) << "20 connections, two ends each";
  EXPECT_GT(kinds["retransmit"], 0);
  EXPECT_FALSE(fs::exists(dir.file("out/pcap")));

  o.out = dir.file("none");
  o.events = "none";
  ASSERT_EQ(run_quiet(o), 0);
  EXPECT_FALSE(fs::exists(dir.file("none/events.jsonl")));
  // The same folder again, without events or captures: no stale files of the last run.
  o.out = dir.file("out");
  ASSERT_EQ(run_quiet(o), 0);
  EXPECT_FALSE(fs::exists(dir.file("out/events.jsonl"))) << "left from the run before";
  EXPECT_EQ(read_csv(dir.file("none/connections.csv")).size(), 20u) << "the table does not need the events";
}

TEST(Run, BadOptionsAreBadInput) {
  TempDir dir;
  RunOptions o;
  o.file = kCatalog + "/two-hosts.yaml";
  o.out = dir.file("out");
  o.events = "state,bogus";
  EXPECT_EQ(run_quiet(o), 2);
  o.events = "all";
  o.pcap = "nobody";
  EXPECT_EQ(run_quiet(o), 2);
  o.pcap = "auto";
  o.until_ns = 0;
  EXPECT_EQ(run_quiet(o), 2);
  o.until_ns.reset();
  o.file = dir.file("missing.yaml");
  EXPECT_EQ(run_quiet(o), 2);
  std::ofstream(dir.file("bad.txtpb")) << "name: \"x\"\nnodes { kind: SPACESHIP }\n";
  o.file = dir.file("bad.txtpb");
  EXPECT_EQ(run_quiet(o), 2);
}

// Once a run was interrupted, a further Ctrl-C is the same request to stop, not a kill
// of the process on its way out (the process dies here if it is); the next handler
// takes over, and restores what was there before the first.
TEST(Interrupt, ASecondPressAfterAnInterruptedRunDoesNotKill) {
  struct sigaction before {};
  sigaction(SIGINT, nullptr, &before);
  {
    InterruptHandler handler;
    std::raise(SIGINT);
    EXPECT_TRUE(InterruptHandler::interrupted());
  }
  std::raise(SIGINT);
  EXPECT_TRUE(InterruptHandler::interrupted());
  {
    InterruptHandler handler;
    EXPECT_FALSE(InterruptHandler::interrupted());
  }
  struct sigaction after {};
  sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

}  // namespace
}  // namespace shakedown::controller
