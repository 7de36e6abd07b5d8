// The `shakedown` command as a user runs it: output, errors and exit codes.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "controller/shell.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using shakedown::testing::Result;
using shakedown::testing::shell;

Result run(const std::string& args) { return shell(std::string(SHAKEDOWN_BIN) + " " + args + " 2>&1");
}

const std::string kCatalog = SHAKEDOWN_CATALOG;

TEST(Cli, CompilePrintsTheCanonicalForm) {
  const Result r = run("compile " + kCatalog + "/two-hosts.yaml");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("name: \"two-hosts\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("delay_ns: 10000000"), std::string::npos) << r.output;
  const Result j = run("compile --format json " + kCatalog + "/two-hosts.yaml");
  EXPECT_EQ(j.code, 0);
  EXPECT_NE(j.output.find("\"name\": \"two-hosts\""), std::string::npos) << j.output;
}

// How a distributed run would split a topology, as text and as JSON; a split that is
// not possible is bad input, said once.
TEST(Cli, CompileShowsThePartitionForRanks) {
  const Result text = run("compile " + kCatalog + "/dumbbell.yaml --ranks 2");
  ASSERT_EQ(text.code, 0) << text.output;
  EXPECT_NE(text.output.find("dumbbell into 2 ranks (METIS):"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("rank 0: 10 hosts, 1 router"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("cut: 1 link; lookahead 20ms, from left - right: its delay"), std::string::npos)
      << text.output;
  const Result json = shell(std::string(SHAKEDOWN_BIN) + " compile " + kCatalog + "/dumbbell.yaml --ranks 2 --format json");
  ASSERT_EQ(json.code, 0) << json.output;
  const auto j = nlohmann::json::parse(json.output);
  EXPECT_EQ(j["ranks"], 2);
  EXPECT_EQ(j["rank_of"].size(), 22u);
  EXPECT_EQ(j["lookahead_ns"], 20'000'000);
  const Result many = run("compile " + kCatalog + "/two-hosts.yaml --ranks 3");
  EXPECT_EQ(many.code, 0);
  EXPECT_NE(many.output.find("rank 2: idle"), std::string::npos) << many.output;
  EXPECT_EQ(run("compile " + kCatalog + "/two-hosts.yaml --ranks 0").code, 2);
}

TEST(Cli, BadInputIsExitCodeTwoWithThePlace) {
  const auto dir = std::filesystem::temp_directory_path() / "shakedown_cli_test";
  std::filesystem::create_directories(dir);
  const auto file = dir / "bad.yaml";
  std::ofstream(file) << "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], delya: 5ms}\n";
  const Result r = run("compile " + file.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.output, file.string() + ":4:20: links[0].delya: unknown key; did you mean 'delay'?\n");
  EXPECT_EQ(run("compile /nonexistent/x.yaml").code, 2);
  EXPECT_EQ(run("compile").code, 2) << "a missing argument is a usage error";
  EXPECT_EQ(run("frobnicate").code, 2);
  EXPECT_NE(run("frobnicate").output.find("shakedown: unknown command 'frobnicate'; the commands are compile, run,"),
            std::string::npos);
  EXPECT_EQ(run("compile --format xml " + kCatalog + "/two-hosts.yaml").code, 2);
}

// Inputs that are not topology files: each refused at once with the reason, never read
// whole into memory.
TEST(Cli, FilesThatAreNotTopologiesAreRefusedWithTheReason) {
  Result r = run("compile /dev/zero");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("/dev/zero: the file is larger than 67108864 bytes"), std::string::npos) << r.output;
  r = run("compile " + std::filesystem::temp_directory_path().string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("is a folder, not a topology file"), std::string::npos) << r.output;
  r = run("compile /nonexistent/x.yaml");
  EXPECT_EQ(r.output, "/nonexistent/x.yaml: cannot open the file: No such file or directory\n");
  r = shell("SHAKEDOWN_MAX_FILE_BYTES=10 " + std::string(SHAKEDOWN_BIN) + " compile " + kCatalog + "/two-hosts.yaml 2>&1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("larger than 10 bytes"), std::string::npos) << r.output;
  // A canonical form edited by hand is held to the loader's rules: exit 2 and the field.
  const auto txtpb = std::filesystem::temp_directory_path() / ("shakedown_bad_" + std::to_string(getpid()) + ".txtpb");
  const Result c = run("compile " + kCatalog + "/two-hosts.yaml");
  ASSERT_EQ(c.code, 0);
  std::string text = c.output;
  text.replace(text.find("port: 80"), 8, "port: 70000");
  std::ofstream(txtpb) << text;
  r = run("run " + txtpb.string() + " -q -o " + (std::filesystem::temp_directory_path() / "shakedown_bad_run").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.output, txtpb.string() + ": workloads[0].port: 70000 is outside 1..65535\n");
  std::filesystem::remove(txtpb);
  // A "billion laughs": nine levels of ten aliases each.
  const auto bomb = std::filesystem::temp_directory_path() / ("shakedown_bomb_" + std::to_string(getpid()) + ".yaml");
  {
    std::ofstream out(bomb);
    out << "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i <= 9; ++i) {
      out << "l" << i << ": &l" << i << " [";
      for (int j = 0; j < 10; ++j) out << (j ? ", " : "") << "*l" << i - 1;
      out << "]\n";
    }
    out << "hosts: *l9\n";
  }
  r = run("compile " + bomb.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("more than 8000000 values once its YAML aliases are expanded"), std::string::npos) << r.output;
  std::filesystem::remove(bomb);
}

TEST(Cli, HelpAndVersion) {
  const Result h = run("--help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.output.find("compile"), std::string::npos);
  EXPECT_NE(h.output.find("Exit codes"), std::string::npos);
  const Result v = run("version");
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.output.rfind("shakedown ", 0), 0u);
}

TEST(Cli, RunPrintsASummaryAndWritesTheFolder) {
  const auto dir = std::filesystem::temp_directory_path() / ("shakedown_cli_run_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  const Result r = run("run " + kCatalog + "/two-hosts.yaml --out " + dir.string());
  EXPECT_EQ(r.code, 0) << r.output;
  for (const char* line : {"1 started, 1 established, 1 completed, 0 failed, 0 reset, 0 open",
                           "p50 20.0ms  p90 20.0ms  p99 20.0ms  max 20.0ms", "60.0s simulated"})
    EXPECT_NE(r.output.find(line), std::string::npos) << line << "\n" << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "pcap" / "server.pcap"));
  std::ifstream cmd(dir / "command.txt");
  std::string command;
  std::getline(cmd, command);
  EXPECT_EQ(command, "shakedown run " + kCatalog + "/two-hosts.yaml --out " + dir.string());

  const Result j = run("run " + kCatalog + "/two-hosts.yaml --json --out " + dir.string());
  EXPECT_EQ(j.code, 0);
  const auto summary = nlohmann::json::parse(j.output);
  EXPECT_EQ(summary["connections"]["completed"], 1);
  EXPECT_EQ(summary["out"], dir.string());
  const Result d = run("diagram " + dir.string() + " --conn 1 --cdf");
  EXPECT_EQ(d.code, 0) << d.output;
  for (const char* f : {"conn-1-ladder.svg", "conn-1-ladder.mmd", "conn-1-ladder.md", "conn-1-timeseq.svg",
                        "handshake-cdf.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
    EXPECT_NE(d.output.find(f), std::string::npos) << f;
  }
  const Result i = run("inspect " + dir.string() + " --conn 1");
  EXPECT_EQ(i.code, 0);
  EXPECT_NE(i.output.find("20.000000 ms  client   SYN_SENT -> ESTABLISHED"), std::string::npos) << i.output;
  EXPECT_EQ(run("diagram " + dir.string()).code, 2) << "nothing asked for";
  const Result zero = run("diagram " + dir.string() + " --conn 0");
  EXPECT_EQ(zero.code, 2);
  EXPECT_NE(zero.output.find("'0' is not a connection id"), std::string::npos) << zero.output;
  EXPECT_EQ(zero.output.find("179769313486"), std::string::npos) << "no 309-digit range";
  const Result backwards = run("diagram " + dir.string() + " --conn 1 --from 5s --to 1s");
  EXPECT_EQ(backwards.code, 2);
  EXPECT_NE(backwards.output.find("--to 1s is not after --from 5s"), std::string::npos) << backwards.output;
  EXPECT_EQ(run("diagram " + dir.string() + " --conn 7").code, 2) << "no such connection";
  EXPECT_EQ(run("diagram /nonexistent --conn 1").code, 2);
  EXPECT_EQ(run("inspect /nonexistent").code, 2);
  EXPECT_EQ(run("run " + kCatalog + "/two-hosts.yaml --until soon").code, 2);
  EXPECT_EQ(run("run " + kCatalog + "/two-hosts.yaml --seed -1").code, 2);
  std::filesystem::remove_all(dir);
}

// A long run in the background: 50,000 connections of 100 KB each, many seconds of
// work, with captures of two hosts. Returns its pid.
pid_t start_long_run(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto file = dir / "long.yaml";
  std::ofstream(file) << "name: long\nhosts:\n  client[1..100]: {}\n  server: {}\nrouters: [r]\n"
                         "links:\n  - {ends: [client*, r], delay: 5ms, loss: 1%}\n  - {ends: [r, server], delay: 5ms}\n"
                         "workload:\n  - {app: bulk, bytes: 100KB, from: client*, to: server:80, connections: 500,\n"
                         "     start: {uniform: [0s, 10s]}}\n";
  const std::string out = (dir / "out").string();
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(SHAKEDOWN_BIN, "shakedown", "run", file.c_str(), "--out", out.c_str(), "--pcap", "client1,client2",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Waits (up to 20 s) until the run has written this much of events.jsonl: a loaded
// machine may take longer than usual to build the network, and a signal sent before the
// first event would prove nothing about the files.
void wait_for_events(const std::filesystem::path& dir, std::uintmax_t bytes) {
  const auto path = dir / "out" / "events.jsonl";
  for (int waited = 0; waited < 2000; ++waited) {
    std::error_code ec;
    if (std::filesystem::file_size(path, ec) >= bytes && !ec) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Every line of events.jsonl is whole JSON (returns how many), and tshark reads both
// captures to their end.
int check_whole_records(const std::filesystem::path& out) {
  std::ifstream events(out / "events.jsonl");
  int lines = 0;
  for (std::string line; std::getline(events, line); ++lines) EXPECT_TRUE(nlohmann::json::accept(line)) << line;
  if (std::string(SHAKEDOWN_TSHARK).empty()) return lines;
  for (const char* host : {"client1", "client2"}) {
    const Result t = shell(std::string(SHAKEDOWN_TSHARK) + " -r " + (out / "pcap" / host).string() +
                           ".pcap -T fields -e frame.number 2>&1 >/dev/null; echo status=$?");
    EXPECT_NE(t.output.find("status=0"), std::string::npos) << host << ": " << t.output;
    EXPECT_EQ(t.output.find("cut short"), std::string::npos) << host << ": " << t.output;
  }
  return lines;
}

// Ctrl-C halfway through a long run: exit code 3, and every file is whole — each CSV
// row complete, each event line valid JSON, captures that tshark reads to the end. An
// impatient user presses it again and again while the files are being written: that
// must not kill the process halfway through them.
class CtrlC : public ::testing::TestWithParam<int> {};

TEST_P(CtrlC, LeavesValidFiles) {
  const int presses = GetParam();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("shakedown_cli_int_" + std::to_string(getpid()) + "_" + std::to_string(presses));
  const pid_t pid = start_long_run(dir);
  ASSERT_GE(pid, 0);
  wait_for_events(dir, 512 * 1024);
  kill(pid, SIGINT);
  for (int i = 1; i < presses; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    kill(pid, SIGINT);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by the signal instead of stopping cleanly";
  EXPECT_EQ(WEXITSTATUS(status), 3);

  std::ifstream summary_file(dir / "out" / "summary.json");
  const auto summary = nlohmann::json::parse(summary_file);
  EXPECT_EQ(summary["interrupted"], true);
  EXPECT_GT(summary["connections"]["total"].get<int>(), 0);
  EXPECT_LT(summary["connections"]["completed"].get<int>(), 50000);

  std::ifstream csv(dir / "out" / "connections.csv");
  std::string line;
  std::getline(csv, line);
  const auto columns = std::count(line.begin(), line.end(), ',');
  int rows = 0;
  while (std::getline(csv, line)) {
    ASSERT_EQ(std::count(line.begin(), line.end(), ','), columns) << line;
    ++rows;
  }
  EXPECT_EQ(rows, summary["connections"]["total"].get<int>());
  EXPECT_GT(check_whole_records(dir / "out"), 1000);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Cli, CtrlC, ::testing::Values(1, 20));

// Whole pcap records, counted; a tail shorter than a record's header and data (the
// kill landed inside the last write) is allowed only at the very end. -1 if the file
// is not a capture.
long whole_pcap_records(const std::filesystem::path& path, bool& cut_tail) {
  std::ifstream in(path, std::ios::binary);
  const std::string data{std::istreambuf_iterator<char>(in), {}};
  if (data.size() < 24) return -1;
  auto u32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(data[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + 1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + 2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + 3])) << 24;
  };
  if (u32(0) != 0xa1b23c4d) return -1;
  std::size_t at = 24;
  long records = 0;
  while (at + 16 <= data.size()) {
    const std::uint32_t captured = u32(at + 8), length = u32(at + 12);
    if (captured > 65535 || captured != length || u32(at + 4) >= 1'000'000'000) return -1;  // not a record boundary
    if (at + 16 + captured > data.size()) break;
    at += 16 + captured;
    ++records;
  }
  cut_tail = at != data.size();
  return records;
}

// SIGKILL gives no chance to finish anything: summary.json and connections.csv are not
// written (they come at the end). events.jsonl and the captures hold whole records, up
// to the last buffer written; only if the kill lands inside that write can the very
// last record be cut short.
TEST(Cli, SigkillLeavesWholeRecords) {
  const auto dir = std::filesystem::temp_directory_path() / ("shakedown_cli_kill_" + std::to_string(getpid()));
  const pid_t pid = start_long_run(dir);
  ASSERT_GE(pid, 0);
  wait_for_events(dir, 1 << 20);  // past the first megabyte of events
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "summary.json"));
  std::ifstream events(dir / "out" / "events.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(events, line);) lines.push_back(line);
  ASSERT_GT(lines.size(), 1000u);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) ASSERT_TRUE(nlohmann::json::accept(lines[i])) << i << ": " << lines[i];
  for (const char* host : {"client1", "client2"}) {
    bool cut = false;
    // A valid capture (its header is written at once), whole records up to a cut tail;
    // how many depends on how far the run got (under the sanitizers, not a megabyte).
    EXPECT_GE(whole_pcap_records(dir / "out" / "pcap" / (std::string(host) + ".pcap"), cut), 0) << host;
  }
  std::filesystem::remove_all(dir);
}

const std::string kScenarios = SHAKEDOWN_SCENARIOS;

// Every scenario under fail/ fails, with the lines its "# must fail:" comments give.
TEST(Cli, ScenariosThatMustFailFailWithTheirMessages) {
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(kScenarios + "/fail")) {
    std::ifstream in(e.path());
    std::vector<std::string> wanted;
    for (std::string line; std::getline(in, line);)
      if (line.rfind("# must fail: ", 0) == 0) wanted.push_back(line.substr(13));
    ASSERT_FALSE(wanted.empty()) << e.path() << " says nothing of how it must fail";
    const Result r = run("test " + e.path().string());
    EXPECT_EQ(r.code, 1) << r.output;
    for (const auto& w : wanted) EXPECT_NE(r.output.find(w), std::string::npos) << e.path() << ": " << w << "\n" << r.output;
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

TEST(Cli, TestWritesJUnitThatValidates) {
  // Every file under pass/ passes; under fail/, typo.yaml cannot run and the rest fail.
  std::vector<std::string> names;
  std::size_t pass = 0, fail = 0;
  for (const char* dir : {"/pass", "/fail"})
    for (const auto& e : std::filesystem::directory_iterator(kScenarios + dir)) {
      names.push_back(e.path().stem().string());
      (std::string(dir) == "/pass" ? pass : fail) += 1;
    }
  ASSERT_GE(pass, 5u);
  ASSERT_GE(fail, 5u);
  const auto xml = std::filesystem::temp_directory_path() / ("shakedown_junit_" + std::to_string(getpid()) + ".xml");
  const Result r = run("test " + kScenarios + " --junit " + xml.string());
  EXPECT_EQ(r.code, 1) << "some scenarios fail and one cannot run";
  EXPECT_NE(r.output.find(fmt::format("{} scenarios: {} passed, {} failed, 1 could not run", pass + fail, pass, fail - 1)),
            std::string::npos)
      << r.output;
  std::ifstream in(xml);
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  for (const auto& name : names)
    EXPECT_NE(text.find(std::string("<testcase name=\"") + name + "\""), std::string::npos) << name;
  EXPECT_NE(text.find(fmt::format("tests=\"{}\" failures=\"{}\" errors=\"1\"", pass + fail, fail - 1)), std::string::npos);
  EXPECT_NE(text.find("handshake.p99 &lt; 20ms"), std::string::npos) << "the failed expectation, escaped";
  if (std::string(SHAKEDOWN_XMLLINT).empty()) GTEST_SKIP() << "xmllint not installed";
  const Result v = shell(std::string(SHAKEDOWN_XMLLINT) + " --noout --schema " + kScenarios + "/junit.xsd " +
                         xml.string() + " 2>&1");
  EXPECT_EQ(v.code, 0) << v.output;
  EXPECT_NE(v.output.find("validates"), std::string::npos) << v.output;
  std::filesystem::remove(xml);
}

TEST(Cli, TestFiltersAndRefusesBadPaths) {
  const Result r = run("test " + kScenarios + "/pass --filter 'old-*'");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("2 scenarios: 2 passed"), std::string::npos) << r.output;
  EXPECT_EQ(run("test /nonexistent").code, 2);
  EXPECT_EQ(run("test " + kScenarios + " --filter 'nothing-matches'").code, 2);
}

// shakedown test --engine ns3 checks a file's expectations after an ns-3 run: the lost
// SYNs pass there as here; the four-way wave fails there (ns-3 never resends the short
// segment the fault drops, with Nagle on: docs/ns3.md).
TEST(Cli, TestRunsScenariosOnNs3) {
  const std::string examples = kCatalog + "/../../examples";
  Result r = run("test " + examples + "/retransmission/lost-syns.yaml --engine ns3");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("1 scenario: 1 passed"), std::string::npos) << r.output;
  r = run("test " + examples + "/four-way-wave/wave.yaml --engine ns3");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("connection[1].outcome == completed"), std::string::npos) << r.output;
  EXPECT_EQ(run("test " + examples + "/four-way-wave/wave.yaml --engine omnet").code, 2);
}

// A workload no machine can hold (2·10^11 connections) is refused before anything is
// built, with the estimate and the way to go ahead anyway: exit 2 at once, not the OOM
// killer minutes later.
TEST(Cli, AWorkloadThatCannotFitIsRefusedUpFront) {
  const auto file = std::filesystem::temp_directory_path() / ("shakedown_huge_" + std::to_string(getpid()) + ".yaml");
  std::ofstream(file) << "generate:\n  - star: {hub: r, hosts: c, count: 1000}\nhosts: [s]\nlinks:\n  - {ends: [r, s]}\n"
                         "workload:\n  - {app: connect, from: c*, to: s:80, connections: 200000000}\n";
  const Result r = run("run " + file.string() + " -q -o " + (std::filesystem::temp_directory_path() / "shakedown_huge_run").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("needs about 307.2TB of memory (1001 hosts, 1 routers, 1001 links, 200000000000 connections)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("--skip-memory-check"), std::string::npos);
  // On ns-3 a connection costs about 20 KB (bench/RESULTS.md), and the check says so.
  const Result ns3 = run("run " + file.string() + " -q --engine ns3 -o " +
                         (std::filesystem::temp_directory_path() / "shakedown_huge_run").string());
  EXPECT_EQ(ns3.code, 2);
  EXPECT_NE(ns3.output.find("needs about 4000.0TB of memory on ns-3"), std::string::npos) << ns3.output;
  std::filesystem::remove(file);
}

// Each scenario is a process of its own: one that runs past --timeout is killed and
// reported as an error, the others pass, and the JUnit file is written all the same.
TEST(Cli, TestKillsAScenarioPastItsTimeLimit) {
  const auto dir = std::filesystem::temp_directory_path() / ("shakedown_timeout_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // A terabyte at 10 Gbps: 800 s of simulated time, far more than a second of wall time.
  std::ofstream(dir / "endless.yaml") << "hosts: [a, b]\nlinks:\n  - {ends: [a, b], delay: 1ms, rate: 10Gbps}\n"
                                         "workload:\n  - {app: bulk, from: a, to: b:80, bytes: 1000GB}\n"
                                         "run: {until: 10000s}\n";
  std::filesystem::copy_file(kScenarios + "/pass/handshake-and-wave.yaml", dir / "quick.yaml");
  const auto xml = dir / "junit.xml";
  const Result r = run("test " + dir.string() + " --timeout 1s --junit " + xml.string());
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("timed out: still running after 1s (--timeout)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 scenarios: 1 passed, 0 failed, 1 could not run"), std::string::npos) << r.output;
  std::ifstream in(xml);
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  EXPECT_NE(text.find("tests=\"2\" failures=\"0\" errors=\"1\""), std::string::npos) << text;
  EXPECT_EQ(run("test " + dir.string() + " --timeout soon").code, 2);
  std::filesystem::remove_all(dir);
}

TEST(Cli, SweepRunsOncePerValueAndCharts) {
  const auto dir = std::filesystem::temp_directory_path() / ("shakedown_sweep_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  const std::string tmpl = std::string(SHAKEDOWN_EXAMPLES) + "/retransmission/loss.template.yaml";
  const Result r = run("sweep " + tmpl + " --vary loss=0%,30% --metric handshake.p99 --metric connections.completed -o " +
                       dir.string());
  EXPECT_EQ(r.code, 0) << r.output;
  std::ifstream csv(dir / "sweep.csv");
  std::vector<std::string> rows;
  for (std::string line; std::getline(csv, line);) rows.push_back(line);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], "loss,handshake.p99_ns,connections.completed");
  EXPECT_EQ(rows[1], "0%,20000000,200") << "no loss: one round trip each, all complete";
  EXPECT_EQ(rows[2].rfind("30%,", 0), 0u);
  EXPECT_NE(rows[2], "30%,20000000,200") << "at 30% loss the tail is seconds long";
  EXPECT_TRUE(std::filesystem::exists(dir / "sweep.svg"));
  EXPECT_EQ(run("sweep " + tmpl + " --vary loss").code, 2);
  EXPECT_EQ(run("sweep " + tmpl + " --vary delay=1ms,2ms -o " + dir.string()).code, 2) << "no ${delay} in the file";
  EXPECT_EQ(run("sweep " + tmpl + " --vary loss=1% --metric handshake.p42 -o " + dir.string()).code, 2);
  EXPECT_EQ(run("sweep " + tmpl + " --vary loss=150% -o " + dir.string()).code, 2) << "the loader says why";
  // Rates: the connect workload moves no data, so it has no goodput (an empty cell).
  ASSERT_EQ(run("sweep " + tmpl + " --vary loss=0% --metric goodput.p50 --metric goodput.count -o " + dir.string()).code, 0);
  std::ifstream rates(dir / "sweep.csv");
  std::string header, row;
  std::getline(rates, header);
  std::getline(rates, row);
  EXPECT_EQ(header, "loss,goodput.p50_bps,goodput.count");
  EXPECT_EQ(row, "0%,,0");
  std::filesystem::remove_all(dir);
}

}  // namespace
