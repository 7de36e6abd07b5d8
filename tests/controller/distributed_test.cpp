// Distributed runs as a user starts them, with mpirun: the same files, byte for byte,
// as one process; a bad file said once; a dead rank ends the run.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "controller/experiment.h"
#include "controller/shell.h"
#include "support/csv.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

using shakedown::testing::Result;
using shakedown::testing::shell;

const std::string kBin = SHAKEDOWN_BIN;
const std::string kSource = SHAKEDOWN_SOURCE;

// mpirun as CI runs it: as root, with more ranks than cores.
std::string mpirun(int ranks) {
  return std::string(SHAKEDOWN_MPIRUN) + " -np " + std::to_string(ranks) + " --oversubscribe --allow-run-as-root ";
}

using shakedown::testing::read_file;

// Everything the tests wrote, removed at the end.
class Scratch : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(fs::temp_directory_path() / ("shakedown-dist-" + std::to_string(getpid())), ec);
  }
};
const auto* const kScratch = ::testing::AddGlobalTestEnvironment(new Scratch);

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("shakedown-dist-" + std::to_string(getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  return dir;
}

// Every file a run writes that must not depend on the number of processes. `events`:
// false when `many` ran with --events none (its connections, summary and captures are
// still those of `one`: the events chosen change no other file).
void expect_same_files(const fs::path& one, const fs::path& many, const std::string& what, bool events = true) {
  if (!events) {
    EXPECT_FALSE(fs::exists(many / "events.jsonl")) << what;
  }
  for (const char* f : {"events.jsonl", "connections.csv", "summary.json", "topology.txtpb"}) {
    if (!events && std::string_view(f) == "events.jsonl") continue;
    ASSERT_TRUE(fs::exists(one / f)) << what << ": " << f;
    EXPECT_TRUE(read_file(one / f) == read_file(many / f)) << what << ": " << f << " differs";
  }
  std::vector<std::string> a, b;
  if (fs::exists(one / "pcap"))
    for (const auto& e : fs::directory_iterator(one / "pcap")) a.push_back(e.path().filename());
  if (fs::exists(many / "pcap"))
    for (const auto& e : fs::directory_iterator(many / "pcap")) b.push_back(e.path().filename());
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b) << what << ": the captures";
  for (const auto& name : a)
    EXPECT_TRUE(read_file(one / "pcap" / name) == read_file(many / "pcap" / name)) << what << ": pcap/" << name << " differs";
}

std::string flags_for(const std::string& file) {
  // The reference star is large: its captures are left out, as `auto` would.
  return file.find("star-reference") != std::string::npos ? " -q --pcap none" : " -q";
}

// Every catalog topology and every example, split over 2, 3 and 4 processes; on 3
// with --events none, where each process records its own hosts' connections and rank
// 0 only pairs them (trace_stream.h, LocalRecording).
class SameBytes : public ::testing::TestWithParam<std::string> {};

TEST_P(SameBytes, AsOneProcess) {
  const std::string file = kSource + "/" + GetParam();
  const std::string name = fs::path(GetParam()).stem();
  const fs::path one = scratch(name + "-1");
  const Result single = shell(kBin + " run " + file + " -o " + one.string() + flags_for(file) + " 2>&1");
  ASSERT_TRUE(single.code == 0 || single.code == 1) << single.output;
  int compared = 0;
  for (const int n : {2, 3, 4}) {
    const fs::path many = scratch(name + "-" + std::to_string(n));
    const bool events = n != 3;
    const Result r = shell(mpirun(n) + kBin + " run " + file + " -o " + many.string() + flags_for(file) +
                           (events ? "" : " --events none") + " 2>&1");
    // Every file runs on every number: a link without lookahead is kept whole, and
    // ranks the network cannot use are idle.
    ASSERT_EQ(r.code, single.code) << n << " processes: " << r.output;
    expect_same_files(one, many, GetParam() + " on " + std::to_string(n) + " processes", events);
    ++compared;
  }
  EXPECT_EQ(compared, 3);
}

std::vector<std::string> files() {
  std::vector<std::string> out;
  for (const char* dir : {"topologies/catalog", "examples"})
    for (const auto& e : fs::recursive_directory_iterator(kSource + "/" + dir))
      if (e.path().extension() == ".yaml" && e.path().filename().string().find("template") == std::string::npos)
        out.push_back(fs::relative(e.path(), kSource).string());
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Files, SameBytes, ::testing::ValuesIn(files()), [](const auto& p) {
  std::string n = p.param;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

// Faults on a cut link and on hosts in another process than rank 0: a delay change on
// the cut (which lowers the lookahead), a targeted drop of the first SYN crossing it,
// a corruption, and a host that crashes and restarts.
TEST(Distributed, FaultsAcrossTheCut) {
  const fs::path dir = scratch("faults");
  fs::create_directories(dir);
  const fs::path file = dir / "faults.yaml";
  std::ofstream(file) << R"(name: faults-across
seed: 11
hosts: [a1, a2, a3, b1, b2, b3]
routers: [ra, rb]
links:
  - {ends: [a1, ra], delay: 1ms}
  - {ends: [a2, ra], delay: 1ms}
  - {ends: [a3, ra], delay: 1ms}
  - {ends: [b1, rb], delay: 1ms}
  - {ends: [b2, rb], delay: 1ms}
  - {ends: [b3, rb], delay: 1ms}
  - {ends: [ra, rb], delay: 10ms, loss: 1%, rate: 50Mbps, queue: 40}
partition: {0: [a1, a2, a3, ra], 1: [b1, b2, b3, rb]}
workload:
  - {app: bulk, bytes: 200KB, from: [a1, a2, a3], to: b1:80, connections: 3, start: {uniform: [0s, 1s]}}
  - {app: bulk, bytes: 100KB, from: [b2, b3], to: a1:81, connections: 2, start: {uniform: [0s, 1s]}}
faults:
  - {at: 300ms, link: [ra, rb], set: {delay: 6ms}}
  - {match: {link: [ra, rb], flags: SYN}, drop: true}
  - {match: {link: [rb, ra], flags: ACK, nth: 40}, corrupt: true}
  - {at: 700ms, crash: b3, restart: 500ms}
run: {until: 20s}
)";
  const fs::path one = dir / "one", two = dir / "two";
  const Result single = shell(kBin + " run " + file.string() + " -o " + one.string() + " -q 2>&1");
  ASSERT_EQ(single.code, 0) << single.output;
  const Result r = shell(mpirun(2) + kBin + " run " + file.string() + " -o " + two.string() + " -q 2>&1");
  ASSERT_EQ(r.code, 0) << r.output;
  expect_same_files(one, two, "faults across the cut");
  // The faults did something: a SYN was dropped by the fault, a host crashed.
  const std::string events = read_file(one / "events.jsonl");
  EXPECT_NE(events.find("\"reason\":\"fault\""), std::string::npos);
  EXPECT_NE(events.find("crashed"), std::string::npos);
  // And the run went across: both ranks ran events and packets crossed.
  const std::string timing = read_file(two / "timing.json");
  EXPECT_NE(timing.find("\"packets_sent_across\""), std::string::npos) << timing;
  EXPECT_EQ(timing.find("\"packets_sent_across\": 0,"), std::string::npos) << timing;
}

// Property: random networks (a random graph of routers, a host on each, random delays,
// jitter, loss, duplication, corruption, rates and queues), random workloads between
// random hosts, a crash and a targeted drop — each the same bytes on 2 and 3 processes
// as on one. The seeds are fixed: a failure names the one to replay.
TEST(Distributed, RandomNetworksGiveTheSameBytes) {
  for (const unsigned seed : {1u, 2u, 3u, 4u, 5u}) {
    std::mt19937 rng(seed);
    const auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const int routers = pick(4, 8);
    std::ostringstream y;
    y << "name: random-" << seed << "\nseed: " << seed << "\n";
    y << "defaults:\n  link: {delay: " << pick(1, 4) << "ms, rate: " << pick(5, 100) << "Mbps, queue: " << pick(10, 100)
      << ", loss: " << pick(0, 20) / 10.0 << "%, duplicate: " << pick(0, 10) / 10.0 << "%, corrupt: " << pick(0, 5) / 10.0
      << "%, jitter: " << pick(0, 900) << "us}\n";
    y << "  tcp: {sack: " << (pick(0, 1) ? "true" : "false") << ", timestamps: " << (pick(0, 1) ? "true" : "false")
      << ", congestion: " << (pick(0, 1) ? "cubic" : "newreno") << "}\n";
    y << "generate:\n  - random: {routers: r, count: " << routers << ", links: " << routers + pick(0, routers)
      << ", hosts: h, seed: " << seed << "}\n";
    y << "workload:\n";
    for (int w = 0; w < 4; ++w) {
      const int from = pick(1, routers);
      int to = pick(1, routers - 1);
      if (to >= from) ++to;
      const bool rr = pick(0, 1) == 1;
      y << "  - {app: " << (rr ? "request-response" : "bulk") << ", from: h" << from << ", to: h" << to << ":"
        << 80 + w << ", connections: " << pick(1, 4);
      if (rr) {
        y << ", request: " << pick(1, 20) << "KB, response: " << pick(1, 60) << "KB, repetitions: " << pick(1, 3);
      } else {
        y << ", bytes: " << pick(1, 200) << "KB";
      }
      y << ", start: {uniform: [0s, " << pick(1, 3) << "s]}}\n";
    }
    // Every other host starting at one instant, in one event of the workload.
    y << "  - {app: bulk, bytes: " << pick(1, 30) << "KB, from: \"h[2.." << routers << "]\", to: h1:99, connections: "
      << pick(1, 3) << ", start: {at: " << pick(0, 900) << "ms}}\n";
    y << "faults:\n  - {at: " << pick(200, 1500) << "ms, crash: h" << pick(1, routers) << ", restart: " << pick(100, 900)
      << "ms}\n";
    const int m = pick(1, routers);  // h<m> hangs off r<m>
    y << "  - {match: {link: [h" << m << ", r" << m << "], flags: SYN}, drop: true}\n";
    y << "run: {until: 60s}\n";
    const std::string text = y.str();
    const fs::path dir = scratch("random-" + std::to_string(seed));
    fs::create_directories(dir);
    std::ofstream(dir / "t.yaml") << text;
    const Result single = shell(kBin + " run " + (dir / "t.yaml").string() + " -o " + (dir / "one").string() + " -q 2>&1");
    // A run may fail (a crash and restart can let an old segment into a new connection:
    // wrong bytes, exit 3); whatever it does, the distributed run must do the same.
    ASSERT_NE(single.code, 2) << "seed " << seed << ": " << single.output << "\n" << text;
    // On 3 with --events none: each process records its own hosts (LocalRecording).
    for (const int n : {2, 3}) {
      const fs::path many = dir / std::to_string(n);
      const Result r = shell(mpirun(n) + kBin + " run " + (dir / "t.yaml").string() + " -o " + many.string() + " -q" +
                             (n == 3 ? " --events none" : "") + " 2>&1");
      ASSERT_EQ(r.code, single.code) << "seed " << seed << ", " << n << " processes: " << r.output << "\n" << text;
      expect_same_files(dir / "one", many, "seed " + std::to_string(seed) + " on " + std::to_string(n) + " processes",
                        n != 3);
    }
  }
}

// Nothing cut (the only link has no lookahead, so both hosts run on rank 0 and rank 1
// is idle): still windows, of at most 100 ms, so that the traces held between merges
// stay bounded; and the same bytes.
TEST(Distributed, NothingCutStillRunsInBoundedWindows) {
  const fs::path dir = scratch("uncut");
  fs::create_directories(dir);
  std::ofstream(dir / "t.yaml") << "name: uncut\nhosts: [a, b]\nlinks:\n  - {ends: [a, b], delay: 5ms, reorder: 5%, "
                                   "rate: 10Mbps}\nworkload:\n  - {app: bulk, bytes: 2MB, from: a, to: b:80}\n";
  const Result single = shell(kBin + " run " + (dir / "t.yaml").string() + " -o " + (dir / "one").string() + " -q 2>&1");
  ASSERT_EQ(single.code, 0) << single.output;
  const Result two =
      shell(mpirun(2) + kBin + " run " + (dir / "t.yaml").string() + " -o " + (dir / "two").string() + " -q 2>&1");
  ASSERT_EQ(two.code, 0) << two.output;
  expect_same_files(dir / "one", dir / "two", "nothing cut");
  const std::string timing = read_file(dir / "two" / "timing.json");
  const auto at = timing.find("\"windows\": ");
  ASSERT_NE(at, std::string::npos) << timing;
  // 2 MB at 10 Mbit/s: well over a second of simulated time.
  EXPECT_GE(std::stoi(timing.substr(at + 11)), 10) << timing;
  EXPECT_NE(timing.find("\"lookahead_ns\": 100000000"), std::string::npos) << timing;
}

// `--ranks N` starts mpirun itself; the files are the single process's.
TEST(Distributed, RanksOptionStartsMpirun) {
  const std::string file = kSource + "/topologies/catalog/dumbbell.yaml";
  const fs::path one = scratch("ranks-1"), two = scratch("ranks-2");
  ASSERT_EQ(shell(kBin + " run " + file + " -o " + one.string() + " -q 2>&1").code, 0);
  const Result r = shell(kBin + " run " + file + " --ranks 2 -o " + two.string() + " 2>&1");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("2 ranks, lookahead 20ms"), std::string::npos) << r.output;
  expect_same_files(one, two, "--ranks 2");
}

// `shakedown test --ranks 2`: every scenario across two processes, judged as after one:
// the passing ones pass, a failing one fails on the same expectation.
TEST(Distributed, TestCommandRunsScenariosAcrossProcesses) {
  const std::string scenarios = kSource + "/tests/scenarios";
  const Result pass = shell(kBin + " test " + scenarios + "/pass --ranks 2 -q 2>&1");
  EXPECT_EQ(pass.code, 0) << pass.output;
  EXPECT_NE(pass.output.find("passed"), std::string::npos) << pass.output;
  const Result one = shell(kBin + " test " + scenarios + "/fail/wrong-state.yaml 2>&1");
  const Result two = shell(kBin + " test " + scenarios + "/fail/wrong-state.yaml --ranks 2 2>&1");
  EXPECT_EQ(one.code, 1) << one.output;
  EXPECT_EQ(two.code, 1) << two.output;
  // The expectation that failed and what was found instead.
  const auto failed_line = [](const std::string& out) {
    const auto at = out.find("wrong-state.yaml:14:");
    const auto actual = out.find("actual:", at);
    return at == std::string::npos || actual == std::string::npos ? std::string()
                                                                   : out.substr(at, out.find('\n', actual) - at);
  };
  EXPECT_FALSE(failed_line(one.output).empty()) << one.output;
  EXPECT_EQ(failed_line(one.output), failed_line(two.output)) << one.output << "\n---\n" << two.output;
}

// `shakedown sweep --ranks 2`: each value's run across two processes; the table is the
// one process's byte for byte, and each run's summary too.
TEST(Distributed, SweepRunsEachValueAcrossProcesses) {
  const std::string tmpl = kSource + "/examples/retransmission/loss.template.yaml";
  const fs::path one = scratch("sweep-1"), two = scratch("sweep-2");
  const std::string args = " --vary loss=0%,20% --metric handshake.p99 --metric retransmissions.syn -q -o ";
  ASSERT_EQ(shell(kBin + " sweep " + tmpl + args + one.string() + " 2>&1").code, 0);
  const Result r = shell(kBin + " sweep " + tmpl + args + two.string() + " --ranks 2 2>&1");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string table = read_file(one / "sweep.csv");
  EXPECT_NE(table.find("20%,"), std::string::npos) << table;
  EXPECT_EQ(read_file(two / "sweep.csv"), table);
  EXPECT_EQ(read_file(two / "02-loss" / "summary.json"), read_file(one / "02-loss" / "summary.json"));
  EXPECT_NE(read_file(two / "02-loss" / "timing.json").find("\"rank\": 1,"), std::string::npos)
      << read_file(two / "02-loss" / "timing.json");
  EXPECT_EQ(shell(kBin + " sweep " + tmpl + args + two.string() + " --ranks 0 2>&1").code, 2);
}

// The library across processes (Experiment::ranks): the results read back from a run
// of two ranks are those of one process — summary, connections, events, states,
// expectations — and a failure says why.
TEST(Distributed, LibraryRunsAcrossProcesses) {
  setenv("SHAKEDOWN_BIN", kBin.c_str(), 1);
  const std::string file = kSource + "/tests/scenarios/pass/lossy-dumbbell.yaml";
  const shakedown::Results one = shakedown::Experiment::from_file(file).seed(4).run();
  const shakedown::Results two = shakedown::Experiment::from_file(file).seed(4).ranks(2).run();
  ASSERT_EQ(one.exit_code(), 0) << one.errors();
  ASSERT_EQ(two.exit_code(), 0) << two.errors();
  EXPECT_EQ(two.summary(), one.summary());
  ASSERT_EQ(two.connections().size(), one.connections().size());
  ASSERT_GT(one.connections().size(), 0u);
  for (std::size_t i = 0; i < one.connections().size(); ++i) {
    EXPECT_EQ(two.connections()[i].columns, one.connections()[i].columns) << "connection " << i + 1;
    EXPECT_EQ(two.connections()[i].outcome, one.connections()[i].outcome);
    EXPECT_EQ(two.connections()[i].handshake, one.connections()[i].handshake);
  }
  const auto lines = [](const std::vector<shakedown::TraceEvent>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.line.dump() + " " + e.host + " " + e.ev);
    return out;
  };
  EXPECT_EQ(lines(two.events("", 1)), lines(one.events("", 1)));
  EXPECT_EQ(two.events().size(), one.events().size());
  EXPECT_EQ(two.state_at(1, 0, shakedown::Duration::milliseconds(100)),
            one.state_at(1, 0, shakedown::Duration::milliseconds(100)));
  ASSERT_EQ(two.expectations().size(), one.expectations().size());
  ASSERT_GT(one.expectations().size(), 0u);
  for (std::size_t i = 0; i < one.expectations().size(); ++i) {
    EXPECT_EQ(two.expectations()[i].text, one.expectations()[i].text);
    EXPECT_EQ(two.expectations()[i].passed, one.expectations()[i].passed);
    EXPECT_EQ(two.expectations()[i].actual, one.expectations()[i].actual);
  }
  // Its folder and the topology written for it go with the last copy of the results.
  std::string dir;
  {
    const shakedown::Results again = shakedown::Experiment::from_file(file).seed(4).ranks(2).run();
    dir = again.dir();
    EXPECT_TRUE(fs::exists(dir));
    EXPECT_TRUE(fs::exists(dir + ".txtpb"));
  }
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_FALSE(fs::exists(dir + ".txtpb"));
  setenv("SHAKEDOWN_BIN", "/nonexistent/shakedown", 1);
  const shakedown::Results missing = shakedown::Experiment::from_file(file).ranks(2).run();
  EXPECT_EQ(missing.exit_code(), 3);
  EXPECT_NE(missing.errors().find("SHAKEDOWN_BIN"), std::string::npos) << missing.errors();
  unsetenv("SHAKEDOWN_BIN");
}

// A bad file: one located error, printed once, exit 2 from every rank.
TEST(Distributed, BadFileIsSaidOnce) {
  const fs::path dir = scratch("bad");
  fs::create_directories(dir);
  std::ofstream(dir / "bad.yaml") << "name: bad\nhosts: [a, b]\nlinks:\n  - {ends: [a, c], delay: 1ms}\n";
  const Result r = shell(mpirun(3) + kBin + " run " + (dir / "bad.yaml").string() + " -o " + (dir / "out").string() +
                         " 2>&1");
  EXPECT_EQ(r.code, 2) << r.output;
  const std::string where = "bad.yaml:4:";
  const auto first = r.output.find(where);
  ASSERT_NE(first, std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(where, first + 1), std::string::npos) << "said more than once: " << r.output;
}

// A split the lookahead forbids (the file's pins cut a link without lookahead) is
// refused before anything runs, naming the link.
TEST(Distributed, ZeroLookaheadCutIsRefused) {
  const fs::path dir = scratch("zero");
  fs::create_directories(dir);
  std::ofstream(dir / "zero.yaml") << "name: zero\nhosts: [a, b]\nlinks:\n  - {ends: [a, b], delay: 1ms, reorder: 10%}\n"
                                      "workload:\n  - {app: connect, from: a, to: b:80}\npartition: {0: [a], 1: [b]}\n";
  const Result r = shell(mpirun(2) + kBin + " run " + (dir / "zero.yaml").string() + " -o " + (dir / "out").string() +
                         " 2>&1");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("cuts the link a - b"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("reordering (10%)"), std::string::npos) << r.output;
}

// Streams that last 1000 s of simulated time: minutes of wall time, unless stopped.
std::string long_run_file(const fs::path& dir) {
  fs::create_directories(dir);
  const std::string file = (dir / "long.yaml").string();
  std::ofstream(file) << "name: long\nhosts: [a, b, c, d]\nrouters: [r]\ndefaults:\n  link: {delay: 2ms, loss: 1%}\n"
                         "links:\n  - {ends: [a, r]}\n  - {ends: [b, r]}\n  - {ends: [c, r]}\n  - {ends: [d, r]}\n"
                         "workload:\n  - {app: stream, from: [a, b, c], to: d:80, rate: 20Mbps, duration: 1000s, "
                         "chunk: 1400B}\n";
  return file;
}

// Whether every line of a CSV file has the header's number of fields (none cut short).
void expect_whole_csv(const fs::path& path) {
  std::ifstream in(path);
  std::string header;
  ASSERT_TRUE(std::getline(in, header)) << path;
  const auto fields = std::count(header.begin(), header.end(), ',');
  int rows = 0;
  for (std::string line; std::getline(in, line); ++rows)
    ASSERT_EQ(std::count(line.begin(), line.end(), ','), fields) << path << " row " << rows + 1 << ": " << line;
  EXPECT_GT(rows, 0) << path;
}

// Ctrl-C stops every rank at the same window; rank 0 writes whole files that say the
// run was interrupted, and the exit code is a single process's (3).
TEST(Distributed, CtrlCLeavesWholeFiles) {
  const fs::path dir = scratch("ctrl-c");
  const std::string file = long_run_file(dir.parent_path());
  const std::string cmd = "exec " + kBin + " run " + file + " --ranks 2 --pcap none -o " + dir.string() + " > " +
                          (dir.string() + ".log") + " 2>&1";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Once events are being written (the network is built and running everywhere).
  for (int i = 0; i < 3000 && !(fs::exists(dir / "events.jsonl") && fs::file_size(dir / "events.jsonl") > 0); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  const std::string log = read_file(dir.string() + ".log");
  ASSERT_TRUE(WIFEXITED(status)) << log;
  EXPECT_EQ(WEXITSTATUS(status), 3) << log;
  EXPECT_NE(log.find("interrupted at"), std::string::npos) << log;
  EXPECT_NE(read_file(dir / "summary.json").find("\"interrupted\": true"), std::string::npos);
  std::ifstream events(dir / "events.jsonl");
  int lines = 0;
  for (std::string line; std::getline(events, line); ++lines)
    ASSERT_TRUE(!line.empty() && line.front() == '{' && line.back() == '}') << "line " << lines << ": " << line;
  EXPECT_GT(lines, 0);
  expect_whole_csv(dir / "connections.csv");
}

// The processes of a run (their command line names its folder) not yet ended.
std::vector<pid_t> processes_of(const fs::path& dir) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string cmdline = read_file(e.path() / "cmdline");
    if (cmdline.find(dir.string()) == std::string::npos || cmdline.rfind(kBin, 0) != 0) continue;
    const std::string stat = read_file(e.path() / "stat");
    const std::size_t close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z')
      out.push_back(static_cast<pid_t>(std::stoi(e.path().filename())));
  }
  return out;
}

// Starts a long run with `--ranks 2`, kills rank 1 with SIGKILL once the run is under
// way (first stopping mpirun, if `stall_mpirun`, so that only shakedown's own watch can
// end the run) and returns how the run ended, how long after the kill, and what it
// printed.
struct Ending {
  int status = 0;
  double seconds = 0;
  std::string log;
};
Ending kill_rank_1(const fs::path& dir, bool stall_mpirun, const std::string& options = "") {
  const std::string file = long_run_file(dir.parent_path());
  const std::string cmd = "exec " + kBin + " run " + file + " --ranks 2 --pcap none " + options + " -o " +
                          dir.string() + " > " + (dir.string() + ".log") + " 2>&1";
  const pid_t pid = fork();
  if (pid < 0) ADD_FAILURE() << "fork failed";
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Rank 1: the process of this run whose environment says so; mpirun: its parent.
  pid_t victim = 0;
  for (int tries = 0; tries < 500 && victim == 0; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (const pid_t p : processes_of(dir))
      if (read_file("/proc/" + std::to_string(p) + "/environ").find(std::string("OMPI_COMM_WORLD_RANK=1") + '\0') !=
          std::string::npos)
        victim = p;
  }
  Ending e;
  if (victim == 0) {
    kill(-pid, SIGKILL), waitpid(pid, &e.status, 0);
    ADD_FAILURE() << "rank 1 never started";
    return e;
  }
  // Once the run is under way: events are being written (the network is built and
  // running everywhere), or, without events, a second after the ranks started.
  for (int i = 0; i < 3000 && !(fs::exists(dir / "events.jsonl") && fs::file_size(dir / "events.jsonl") > 0); ++i) {
    if (options.find("--events none") != std::string::npos && i == 100) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  if (stall_mpirun) {
    const std::string stat = read_file("/proc/" + std::to_string(victim) + "/stat");
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    char state = 0;
    pid_t mpirun = 0;
    fields >> state >> mpirun;
    kill(mpirun, SIGSTOP);
  }
  const auto killed_at = std::chrono::steady_clock::now();
  kill(victim, SIGKILL);
  pid_t done = 0;
  while ((done = waitpid(pid, &e.status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() - killed_at < std::chrono::seconds(20))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  if (done == 0) {
    ADD_FAILURE() << "the run went on after a rank died\n"
                  << shell("ps -e -o pid,pgid,ppid,stat,etime,wchan:24,args | grep -e shakedown -e mpirun").output;
    kill(-pid, SIGKILL), waitpid(pid, &e.status, 0);
  }
  e.log = read_file(dir.string() + ".log");
  return e;
}

// Rank 0's files after another rank died: whole, saying so, with what it had.
void expect_files_of_a_lost_run(const fs::path& dir, const std::string& log) {
  EXPECT_NE(log.find("another process of the run stopped answering"), std::string::npos) << log;
  const std::string summary = read_file(dir / "summary.json");
  EXPECT_NE(summary.find("\"interrupted\": true"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"process_lost\": true"), std::string::npos) << summary;
  expect_whole_csv(dir / "connections.csv");
  std::ifstream events(dir / "events.jsonl");
  int lines = 0;
  for (std::string line; std::getline(events, line); ++lines)
    ASSERT_TRUE(!line.empty() && line.front() == '{' && line.back() == '}') << "line " << lines << ": " << line;
  EXPECT_GT(lines, 0);
}

// A rank killed mid-run ends the whole run, soon, with a message naming the rank and
// exit 3; rank 0 writes whole files of what it had.
TEST(Distributed, KilledRankEndsTheRun) {
  const fs::path dir = scratch("killed");
  const Ending e = kill_rank_1(dir, false);
  EXPECT_LT(e.seconds, 5.0) << "ended " << e.seconds << " s after the rank died";
  EXPECT_TRUE(WIFEXITED(e.status) && WEXITSTATUS(e.status) == 3) << e.status << "\n" << e.log;
  EXPECT_NE(e.log.find("rank 1"), std::string::npos) << e.log;
  expect_files_of_a_lost_run(dir, e.log);
}

// With --events none each rank records its own hosts' sides; when another rank dies,
// rank 0 keeps the sides of its own hosts (b and c, the clients it runs here): their
// rows say what those clients sent, not only that they began.
TEST(Distributed, KilledRankKeepsRank0sOwnHostsWithEventsNone) {
  const fs::path dir = scratch("killed-events-none");
  const Ending e = kill_rank_1(dir, false, "--events none");
  EXPECT_TRUE(WIFEXITED(e.status) && WEXITSTATUS(e.status) == 3) << e.status << "\n" << e.log;
  EXPECT_NE(read_file(dir / "summary.json").find("\"process_lost\": true"), std::string::npos) << e.log;
  expect_whole_csv(dir / "connections.csv");
  bool sent = false;
  for (const auto& row : shakedown::testing::read_csv((dir / "connections.csv").string()))
    if ((row.at("client") == "b" || row.at("client") == "c") && row.at("client_bytes_sent") != "0") sent = true;
  EXPECT_TRUE(sent) << read_file(dir / "connections.csv");
}

// Should mpirun not end the job (here: stopped), `--ranks` itself ends every process of
// the run once one is gone, naming it, and leaves none behind.
TEST(Distributed, KilledRankEndsTheRunEvenIfMpirunDoesNot) {
  const fs::path dir = scratch("killed-stalled");
  const Ending e = kill_rank_1(dir, true);
  EXPECT_LT(e.seconds, 5.0) << "ended " << e.seconds << " s after the rank died";
  EXPECT_TRUE(WIFEXITED(e.status) && WEXITSTATUS(e.status) == 3) << e.status << "\n" << e.log;
  EXPECT_NE(e.log.find("rank 1 (process "), std::string::npos) << e.log;
  EXPECT_NE(e.log.find("mpirun had not ended the others"), std::string::npos) << e.log;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(processes_of(dir).empty()) << "processes of the run left behind";
  // mpirun, stopped, relays nothing rank 0 says; its files are whole all the same.
  const std::string summary = read_file(dir / "summary.json");
  EXPECT_NE(summary.find("\"process_lost\": true"), std::string::npos) << summary;
  expect_whole_csv(dir / "connections.csv");
}

}  // namespace
