// Real hosts: Linux's own TCP in a network namespace, through the emulated network.
// These need root, /dev/net/tun and iproute2 (as on the CI machine); where one is
// missing they are skipped, saying which — never passed. Every namespace a test makes
// it removes; the run's own are checked to be gone.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "controller/shell.h"
#include "nodes/payload.h"

namespace {

namespace fs = std::filesystem;
using shakedown::testing::Result;
using shakedown::testing::shell;

const std::string kBin = SHAKEDOWN_BIN;

using shakedown::testing::read_file;

// Why real hosts cannot run here, or empty.
std::string missing() {
  if (geteuid() != 0) return "not root";
  if (access("/dev/net/tun", R_OK | W_OK) != 0) return "no /dev/net/tun";
  if (shell("ip -V > /dev/null 2>&1").code != 0) return "no ip (iproute2)";
  if (shell("python3 -c 1 > /dev/null 2>&1").code != 0) return "no python3";
  return "";
}

#define SKIP_UNLESS_REAL_HOSTS_CAN_RUN()                                                    \
  do {                                                                                      \
    if (const std::string why = missing(); !why.empty())                                    \
      GTEST_SKIP() << "SKIPPED, not passed: real hosts need root, /dev/net/tun, ip and python3: " << why; \
  } while (false)

bool netns_exists(const std::string& name) { return fs::exists("/run/netns/" + name); }

// A namespace the test makes (and removes, whatever happens).
struct TestNamespace {
  explicit TestNamespace(std::string n) : name(std::move(n)) {
    shell("ip netns delete " + name + " 2>/dev/null");
    ok = shell("ip netns add " + name).code == 0;
  }
  ~TestNamespace() { shell("ip netns delete " + name + " 2>/dev/null"); }
  std::string name;
  bool ok = false;
};

pid_t start(const std::string& cmd) {
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Waits up to `seconds` for `pid`; its exit status, or -1 if it had to be killed.
int wait_for(pid_t pid, double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// A Linux server: takes one connection and keeps every byte it receives.
const char* kServer = R"(
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
open(sys.argv[2] + ".listening", "w").close()
c, a = s.accept(); got = bytearray()
while True:
    d = c.recv(65536)
    if not d: break
    got += d
c.close()
open(sys.argv[2] + ".part", "wb").write(got)
import os; os.rename(sys.argv[2] + ".part", sys.argv[2])
)";

// A shakedown client sends 1 MB to a Linux server across 20 ms, 5% loss and
// reordering: Linux receives exactly the bytes of the client's stream.
TEST(RealHosts, LinuxServerReceivesEveryByteAcrossALossyPath) {
  SKIP_UNLESS_REAL_HOSTS_CAN_RUN();
  const fs::path dir = fs::temp_directory_path() / ("shakedown-real-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  TestNamespace ns("sdtest" + std::to_string(getpid()));
  ASSERT_TRUE(ns.ok);
  std::ofstream(dir / "server.py") << kServer;
  std::ofstream(dir / "real.yaml")
      << "name: to-linux\nseed: 3\nhosts:\n  a: {}\n  linux: {real: {netns: " << ns.name << "}}\nrouters: [r]\n"
      << "links:\n  - {ends: [a, r], delay: 1ms}\n"
      << "  - {ends: [r, linux], delay: 20ms, rate: 100Mbps, loss: 5%, reorder: {probability: 3%, gap: 3}}\n"
      << "workload:\n  - {app: bulk, from: a, to: linux:9000, bytes: 1000000B, start: {at: 300ms}}\n";
  const fs::path got = dir / "got.bin";
  const pid_t server = start("exec ip netns exec " + ns.name + " python3 " + (dir / "server.py").string() + " 9000 " +
                             got.string());
  // Listening before the run starts.
  for (int i = 0; i < 1000 && !fs::exists(got.string() + ".listening"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists(got.string() + ".listening")) << "the Linux server did not start";
  const pid_t run = start("exec " + kBin + " run " + (dir / "real.yaml").string() + " --realtime --until 120s -o " +
                          (dir / "out").string() + " > " + (dir / "run.log").string() + " 2>&1");
  // The server ends once it has the whole stream (a run that ended first failed).
  int server_status = -1;
  for (int i = 0; i < 4500; ++i) {
    if (waitpid(server, &server_status, WNOHANG) == server) break;
    server_status = -1;
    if (waitpid(run, nullptr, WNOHANG) == run) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (server_status == -1) kill(-server, SIGKILL), waitpid(server, nullptr, 0);
  // The real host stays attached until --until or Ctrl-C: the files are whole either way.
  kill(run, SIGINT);
  const int run_status = wait_for(run, 20);
  const std::string log = read_file(dir / "run.log");
  ASSERT_NE(server_status, -1) << "the Linux server never got the whole stream\n" << log;
  ASSERT_TRUE(WIFEXITED(run_status)) << log;
  EXPECT_EQ(WEXITSTATUS(run_status), 3) << log;  // interrupted, as asked
  EXPECT_NE(log.find("linux in netns " + ns.name + " (joined)"), std::string::npos) << log;

  // What the client's stream holds: generated from its addresses, ports and ISN.
  const std::string csv = read_file(dir / "out/connections.csv");
  const auto split = [](const std::string& line) {
    std::vector<std::string> out;
    std::stringstream in(line);
    for (std::string f; std::getline(in, f, ',');) out.push_back(f);
    return out;
  };
  std::stringstream rows(csv);
  std::string line;
  std::getline(rows, line);
  const std::vector<std::string> h = split(line);
  std::getline(rows, line);
  const std::vector<std::string> r = split(line);
  const auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < h.size(); ++i)
      if (h[i] == name && i < r.size()) return r[i];
    return std::string();
  };
  ASSERT_FALSE(col("client_isn").empty()) << csv;
  EXPECT_EQ(col("client_bytes_sent"), "1000000") << csv;
  EXPECT_NE(col("client_retx_data"), "0") << "5% loss and no retransmission?\n" << csv;
  const auto port = static_cast<std::uint16_t>(std::stoi(col("client_address").substr(col("client_address").find(':') + 1)));
  using shakedown::wire::Ipv4Address;
  const std::uint64_t stream =
      shakedown::payload_stream(Ipv4Address{0xc6120001}, port, Ipv4Address{0xc6120002}, 9000,
                                static_cast<std::uint32_t>(std::stoul(col("client_isn"))));
  std::vector<std::uint8_t> want(1000000);
  shakedown::fill_payload(stream, 0, want);
  const std::string received = read_file(got);
  ASSERT_EQ(received.size(), want.size());
  EXPECT_TRUE(std::equal(want.begin(), want.end(), received.begin(),
                         [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); }))
      << "Linux received other bytes than the client sent";
  fs::remove_all(dir);
}

// A namespace the run made is gone when it ends — and after a SIGKILL, `shakedown
// cleanup` removes it.
TEST(RealHosts, NamespacesTheRunMadeAreRemoved) {
  SKIP_UNLESS_REAL_HOSTS_CAN_RUN();
  const fs::path dir = fs::temp_directory_path() / ("shakedown-real-clean-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string name = "sdclean" + std::to_string(getpid());
  shell("ip netns delete " + name + " 2>/dev/null");
  std::ofstream(dir / "real.yaml") << "name: clean\nhosts:\n  a: {}\n  l: {real: {netns: " << name
                                   << "}}\nlinks:\n  - {ends: [a, l], delay: 1ms}\n";
  const Result r = shell(kBin + " run " + (dir / "real.yaml").string() + " --realtime --until 300ms -o " +
                         (dir / "out").string() + " 2>&1");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("l in netns " + name + " (made for this run)"), std::string::npos) << r.output;
  EXPECT_FALSE(netns_exists(name)) << "left behind after a normal run";

  const pid_t run = start("exec " + kBin + " run " + (dir / "real.yaml").string() + " --realtime --until 60s -q -o " +
                          (dir / "out2").string());
  for (int i = 0; i < 500 && !netns_exists(name); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(netns_exists(name));
  kill(run, SIGKILL);
  waitpid(run, nullptr, 0);
  EXPECT_TRUE(netns_exists(name));  // nobody could remove it...
  const Result c = shell(kBin + " cleanup 2>&1");
  EXPECT_EQ(c.code, 0) << c.output;
  EXPECT_NE(c.output.find("removed network namespace " + name), std::string::npos) << c.output;
  EXPECT_FALSE(netns_exists(name)) << "...but cleanup should have";
  shell("ip netns delete " + name + " 2>/dev/null");
  fs::remove_all(dir);
}

TEST(RealHosts, RefusedWithoutRealtime) {
  const fs::path dir = fs::temp_directory_path() / ("shakedown-real-refused-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "real.yaml") << "name: r\nhosts:\n  a: {}\n  l: {real: {netns: sd-nope}}\n"
                                      "links:\n  - {ends: [a, l], delay: 1ms}\n";
  const Result r = shell(kBin + " run " + (dir / "real.yaml").string() + " -o " + (dir / "out").string() + " 2>&1");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("'l' is a real host, which lives in real time: run with --realtime"), std::string::npos)
      << r.output;
  EXPECT_FALSE(netns_exists("sd-nope"));
  const Result bad = shell(kBin + " compile /dev/stdin <<'EOF' 2>&1\nhosts:\n  a: {real: {netns: 'no/slash'}}\nEOF");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("hosts.a.real.netns"), std::string::npos) << bad.output;
  fs::remove_all(dir);
}

}  // namespace
