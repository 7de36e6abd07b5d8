// Real hosts: Linux's own TCP in a network namespace, through the emulated network.
// These need root, /dev/net/tun and iproute2 (as on the CI machine); where one is
// missing they are skipped, saying which — never passed. Every namespace a test makes
// it removes; the run's own are checked to be gone.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/shell.h"
#include "nodes/payload.h"
#include "support/csv.h"

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
  // Root without the right to make namespaces (a container): say so rather than fail.
  const std::string probe = "sdprobe" + std::to_string(getpid());
  const Result made = shell("ip netns add " + probe + " 2>&1");
  shell("ip netns delete " + probe + " 2>/dev/null");
  if (made.code != 0) return "cannot make a network namespace: " + made.output;
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

// Put before every program: connect() to the server its arguments name, trying until
// the run has made the device (the program starts first).
const char* kPrelude = R"(
import socket, sys, time
def connect():
    for attempt in range(200):
        try:
            return socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
        except OSError:
            time.sleep(0.1)
    raise SystemExit("cannot connect to the emulated network")
)";

// A Linux server: takes one connection and keeps every byte it receives.
const char* kServer = R"(
import os, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
open(sys.argv[2] + ".ready", "w").close()
c, a = s.accept(); got = bytearray()
while True:
    d = c.recv(65536)
    if not d: break
    got += d
c.close()
open(sys.argv[2] + ".part", "wb").write(got)
os.rename(sys.argv[2] + ".part", sys.argv[2])
)";

// A Linux client: sends 1 MB, closes its side, reads until the server closes.
const char* kClient = R"(
import os, socket, sys, time
data = bytes((i * 7 + 3) % 251 for i in range(1000000))
open(sys.argv[3] + ".ready", "w").close()
c = connect()
c.settimeout(60)
c.sendall(data); c.shutdown(socket.SHUT_WR)
while c.recv(65536): pass
c.close()
open(sys.argv[3], "w").write("done")
)";

// One run with a real host `linux` in a namespace of the test's, a Linux program in
// it (started first, and ready before the run starts), the run interrupted once the
// program has ended (a real host keeps a run going until then).
struct RealRun {
  fs::path dir;
  std::string log;
  int program_status = -1;  // -1: it never ended
  int run_status = -1;
  std::vector<std::string> header, row;  // connections.csv, its first row

  std::string col(const std::string& name) const {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name && i < row.size()) return row[i];
    return "";
  }
};

std::vector<std::string> split(const std::string& line) { return shakedown::testing::split_csv(line); }

// `links_and_workload`: the file after its hosts (a, and the real host linux) and router r.
RealRun run_with_linux(const std::string& test, const std::string& links_and_workload, const char* program,
                       const std::string& program_args) {
  RealRun out;
  out.dir = fs::temp_directory_path() / ("shakedown-real-" + test + "-" + std::to_string(getpid()));
  fs::remove_all(out.dir);
  fs::create_directories(out.dir);
  TestNamespace ns("sd" + test.substr(0, 6) + std::to_string(getpid()));
  if (!ns.ok) {
    ADD_FAILURE() << "cannot make the namespace " << ns.name;
    return out;
  }
  std::ofstream(out.dir / "program.py") << kPrelude << program;
  std::ofstream(out.dir / "real.yaml") << "name: " << test << "\nseed: 3\nhosts:\n  a: {}\n  linux: {real: {netns: "
                                       << ns.name << "}}\nrouters: [r]\n" << links_and_workload;
  const std::string result = (out.dir / "result").string();
  const pid_t program_pid = start("exec ip netns exec " + ns.name + " python3 " + (out.dir / "program.py").string() +
                                  " " + program_args + " " + result);
  for (int i = 0; i < 1000 && !fs::exists(result + ".ready"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!fs::exists(result + ".ready")) ADD_FAILURE() << "the Linux program did not start";
  const pid_t run = start("exec " + kBin + " run " + (out.dir / "real.yaml").string() + " --realtime --until 120s -o " +
                          (out.dir / "out").string() + " > " + (out.dir / "run.log").string() + " 2>&1");
  for (int i = 0; i < 4500; ++i) {
    if (waitpid(program_pid, &out.program_status, WNOHANG) == program_pid) break;
    out.program_status = -1;
    if (waitpid(run, &out.run_status, WNOHANG) == run) break;  // a run that ended first failed
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (out.program_status == -1) kill(-program_pid, SIGKILL), waitpid(program_pid, nullptr, 0);
  // What the program sent last (the ACK of the server's FIN) is still crossing the
  // path when it exits: let it arrive before the run is stopped.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  if (kill(run, SIGINT) == 0) out.run_status = wait_for(run, 20);
  out.log = read_file(out.dir / "run.log");
  out.log += "\n--- the run's folder: " + out.dir.string() + "\n";
  std::stringstream rows(read_file(out.dir / "out/connections.csv"));
  std::string line;
  if (std::getline(rows, line)) out.header = split(line);
  if (std::getline(rows, line)) out.row = split(line);
  return out;
}

// Each connection's states on a host ("SYN_SENT ESTABLISHED ..."), by the server's
// port: the emulated host a's as its TCP reports them, the real host linux's as
// inferred from its segments.
std::map<std::string, std::string> states_on(const RealRun& r, const std::string& host = "a") {
  std::map<std::string, std::string> port_of;  // conn id -> server port
  std::stringstream rows(read_file(r.dir / "out/connections.csv"));
  std::string line;
  std::getline(rows, line);
  const std::vector<std::string> header = split(line);
  while (std::getline(rows, line)) {
    const std::vector<std::string> f = split(line);
    for (std::size_t i = 0; i < header.size() && i < f.size(); ++i)
      if (header[i] == "server_address") port_of[f[0]] = f[i].substr(f[i].find(':') + 1);
  }
  std::map<std::string, std::string> states;
  std::stringstream events(read_file(r.dir / "out/events.jsonl"));
  while (std::getline(events, line)) {
    if (line.find("\"ev\":\"state\"") == std::string::npos || line.find("\"host\":\"" + host + "\"") == std::string::npos)
      continue;
    const std::size_t c = line.find("\"conn\":") + 7;
    const std::string conn = line.substr(c, line.find(',', c) - c);
    const std::size_t to = line.find("\"to\":\"") + 6;
    std::string& seq = states[port_of[conn]];
    if (!seq.empty()) seq += ' ';
    seq.append(line, to, line.find('"', to) - to);
  }
  return states;
}

// The handshake with Linux, as Wireshark reads the emulated host's capture: nothing
// malformed; Linux offers MSS, SACK, timestamps and window scaling, and each is in the
// answer exactly when it was offered (RFC 9293 3.7.1 MSS, RFC 2018 SACK-permitted,
// RFC 7323 2.2 and 3.2: window scale and timestamps only in a SYN-ACK to a SYN that had
// them); once timestamps are agreed the emulated host puts one on every segment; the
// receiver of a lossy transfer sends SACK blocks.
// `port`: the server's, whose payload tshark is told is plain data (the test's bytes
// are no protocol; on port 80 the HTTP dissector would call them malformed).
void check_handshake_with_linux(const RealRun& r, bool linux_connects, int port) {
  const std::string tshark = SHAKEDOWN_TSHARK;
  if (tshark.empty()) {
    std::printf("[ SKIPPED  ] the capture checks: tshark is not installed\n");
    return;
  }
  const std::string pcap = (r.dir / "out/pcap/a.pcap").string();
  const Result bad = shell(tshark + " -r " + pcap + " -d tcp.port==" + std::to_string(port) +
                          ",data -Y '_ws.malformed || _ws.expert.severity >= 8388608' 2>/dev/null");
  EXPECT_EQ(bad.output, "") << "tshark finds these malformed or in error:\n" << bad.output;
  const Result syns = shell(tshark + " -r " + pcap +
                           " -Y 'tcp.flags.syn == 1' -T fields -E separator=, -e ip.src -e tcp.flags.ack "
                           "-e tcp.options.mss_val -e tcp.options.sack_perm -e tcp.options.timestamp.tsval "
                           "-e tcp.options.wscale.shift 2>/dev/null");
  std::vector<std::string> syn, synack;
  std::stringstream lines(syns.output);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> f = split(line);
    f.resize(6);
    (f[1] == "1" || f[1] == "True" ? synack : syn) = f;
  }
  ASSERT_FALSE(syn.empty()) << syns.output;
  ASSERT_FALSE(synack.empty()) << syns.output;
  const std::string emulated = "198.18.0.1";
  EXPECT_EQ(syn[0] == emulated, !linux_connects) << syns.output;
  const std::vector<std::string>& from_linux = linux_connects ? syn : synack;
  for (int i = 2; i < 6; ++i) {
    if (linux_connects) {
      EXPECT_FALSE(from_linux[static_cast<std::size_t>(i)].empty()) << "Linux offered no option " << i << ": " << syns.output;
    }
    EXPECT_EQ(syn[static_cast<std::size_t>(i)].empty(), synack[static_cast<std::size_t>(i)].empty())
        << "option " << i << " answered other than offered: " << syns.output;
  }
  EXPECT_LE(std::stoi(synack[2]), 1460) << syns.output;
  EXPECT_LE(std::stoi(syn[2]), 1460) << syns.output;
  if (!syn[4].empty()) {
    // Every segment but a RST (RFC 7323 3.2): a RST answering a segment that reached
    // a CLOSED side belongs to no connection, and carries none.
    const Result bare = shell(tshark + " -r " + pcap + " -Y 'ip.src == " + emulated +
                              " && !tcp.options.timestamp.tsval && tcp.flags.reset == 0' 2>/dev/null");
    EXPECT_EQ(bare.output, "") << "segments without the agreed timestamps:\n" << bare.output;
  }
  const std::string receiver = linux_connects ? emulated : "198.18.0.2";
  const Result sacks = shell(tshark + " -r " + pcap + " -Y 'ip.src == " + receiver + " && tcp.options.sack_le' 2>/dev/null | wc -l");
  EXPECT_GT(std::stoi(sacks.output), 0) << "no SACK blocks from the receiver across 5% loss";
}

constexpr const char* kLossyPath =
    "links:\n  - {ends: [a, r], delay: 1ms}\n"
    "  - {ends: [r, linux], delay: 20ms, rate: 100Mbps, loss: 5%, reorder: {probability: 3%, gap: 3}}\n";

// A shakedown client sends 1 MB to a Linux server across 20 ms, 5% loss and
// reordering: Linux receives exactly the bytes of the client's stream.
TEST(RealHosts, LinuxServerReceivesEveryByteAcrossALossyPath) {
  SKIP_UNLESS_REAL_HOSTS_CAN_RUN();
  const RealRun r = run_with_linux(
      "tolinux", std::string(kLossyPath) + "workload:\n  - {app: bulk, from: a, to: linux:9000, bytes: 1000000B}\n",
      kServer, "9000");
  ASSERT_NE(r.program_status, -1) << "the Linux server never got the whole stream\n" << r.log;
  ASSERT_TRUE(WIFEXITED(r.run_status)) << r.log;
  EXPECT_EQ(WEXITSTATUS(r.run_status), 3) << r.log;  // interrupted, as asked
  EXPECT_NE(r.log.find("(joined)"), std::string::npos) << r.log;
  ASSERT_FALSE(r.col("client_isn").empty()) << r.log;
  EXPECT_EQ(r.col("client_bytes_sent"), "1000000") << r.log;
  EXPECT_NE(r.col("client_retx_data"), "0") << "5% loss and no retransmission?\n" << r.log;
  // Linux's side, inferred from its segments: it took every byte, and closed in turn.
  EXPECT_EQ(r.col("server_outcome"), "completed") << r.log;
  EXPECT_EQ(r.col("server_bytes_received"), "1000000") << r.log;
  EXPECT_EQ(states_on(r, "linux")["9000"], "SYN_RECEIVED ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED") << r.log;

  // What the client's stream holds: generated from its addresses, ports and ISN.
  const std::string address = r.col("client_address");
  const auto port = static_cast<std::uint16_t>(std::stoi(address.substr(address.find(':') + 1)));
  using shakedown::wire::Ipv4Address;
  const std::uint64_t stream = shakedown::payload_stream(Ipv4Address{0xc6120001}, port, Ipv4Address{0xc6120002}, 9000,
                                                         static_cast<std::uint32_t>(std::stoul(r.col("client_isn"))));
  std::vector<std::uint8_t> want(1000000);
  shakedown::fill_payload(stream, 0, want);
  const std::string received = read_file(r.dir / "result");
  ASSERT_EQ(received.size(), want.size());
  EXPECT_TRUE(std::equal(want.begin(), want.end(), received.begin(),
                         [](std::uint8_t x, char y) { return x == static_cast<std::uint8_t>(y); }))
      << "Linux received other bytes than the client sent";
  check_handshake_with_linux(r, false, 9000);

  // The ladder says which end is real and that its states are inferred, and draws them
  // and the arrivals at its device.
  const Result d = shell(kBin + " diagram " + (r.dir / "out").string() + " --conn 1 2>&1");
  ASSERT_EQ(d.code, 0) << d.output;
  const std::string ladder = read_file(r.dir / "out/conn-1-ladder.mmd");
  EXPECT_NE(ladder.find("participant S as linux 198.18.0.2:9000 (real host, states inferred)"), std::string::npos)
      << ladder;
  EXPECT_NE(ladder.find("Note right of S: SYN_RECEIVED"), std::string::npos) << ladder;
  EXPECT_NE(ladder.find("Note right of S: LAST_ACK"), std::string::npos) << ladder;
  EXPECT_EQ(ladder.find("not seen"), std::string::npos) << ladder;
  // Every segment arrived. One exception, which timing decides: Linux, CLOSED, answers
  // each stray duplicate ACK with a RST, and a second RST that arrives after the client
  // is CLOSED too belongs to no connection's row any more.
  std::istringstream lines(ladder);
  for (std::string line; std::getline(lines, line);)
    if (line.find("still in the network") != std::string::npos) {
      EXPECT_NE(line.find(": RST "), std::string::npos) << line << "\n" << ladder;
    }
  fs::remove_all(r.dir);
}

// A Linux client sends 1 MB to a shakedown server across the same path and closes:
// the server takes every byte (its count; a real program's bytes are not a generated
// stream to check — the echo test below compares them), closes in turn, and the
// connection completes.
TEST(RealHosts, LinuxClientSendsToAShakedownServer) {
  SKIP_UNLESS_REAL_HOSTS_CAN_RUN();
  const RealRun r = run_with_linux(
      "fromlinux", std::string(kLossyPath) + "workload:\n  - {app: bulk, from: linux, to: a:80, bytes: 1MB}\n",
      kClient, "198.18.0.1 80");
  ASSERT_NE(r.program_status, -1) << "the Linux client never finished\n" << r.log;
  EXPECT_TRUE(WIFEXITED(r.program_status) && WEXITSTATUS(r.program_status) == 0) << r.log;
  ASSERT_TRUE(WIFEXITED(r.run_status)) << r.log;
  EXPECT_EQ(WEXITSTATUS(r.run_status), 3) << r.log;  // interrupted, as asked
  const std::string summary = read_file(r.dir / "out/summary.json");
  EXPECT_NE(summary.find("\"wrong\": 0,"), std::string::npos) << "a real program's bytes called wrong\n" << summary;
  EXPECT_NE(summary.find("\"delivered\": 1000000,"), std::string::npos) << summary;
  EXPECT_EQ(r.col("server_bytes_received"), "1000000") << r.log;
  EXPECT_EQ(r.col("outcome"), "completed") << r.log;
  EXPECT_EQ(r.col("client"), "linux") << r.log;
  // Linux's side, inferred from its segments: it sent 1 MB (retransmitting some of it
  // across 5% loss), closed first and waits in TIME_WAIT — unless a loss had the
  // server retransmit its FIN: Linux then ACKs twice, the second ACK reaches a server
  // already CLOSED, which answers RST (RFC 9293 3.10.7.1), and the RST ends Linux's
  // TIME_WAIT (as Linux does, RFC 1337's hazard), so the timeline ends CLOSED.
  EXPECT_EQ(r.col("client_outcome"), "completed") << r.log;
  EXPECT_FALSE(r.col("client_isn").empty()) << r.log;
  EXPECT_EQ(r.col("client_bytes_sent"), "1000000") << r.log;
  EXPECT_NE(r.col("client_retx_data"), "0") << r.log;
  const std::string linux_states = states_on(r, "linux")["80"];
  EXPECT_TRUE(linux_states.starts_with("SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2") &&
              (linux_states.ends_with("TIME_WAIT") || linux_states.ends_with("TIME_WAIT CLOSED")))
      << linux_states << "\n" << r.log;
  EXPECT_FALSE(r.col("server_time_wait_entered_ns").empty() && r.col("server_closed_ns").empty()) << r.log;
  check_handshake_with_linux(r, true, 80);
  fs::remove_all(r.dir);
}

// A Linux client sends 1 MB of random bytes to an echo server while it reads the echo:
// what comes back must be what it sent, SHA-256 for SHA-256.
const char* kEchoClient = R"(
import hashlib, random, socket, sys, threading, time
data = random.Random(7).randbytes(1000000)
open(sys.argv[3] + ".ready", "w").close()
c = connect()
c.settimeout(60)
sender = threading.Thread(target=c.sendall, args=(data,)); sender.start()
got = bytearray()
while len(got) < len(data):
    d = c.recv(65536)
    if not d: break
    got += d
sender.join(); c.close()
sent, back = hashlib.sha256(data).hexdigest(), hashlib.sha256(got).hexdigest()
differs = next((i for i in range(min(len(got), len(data))) if got[i] != data[i]), None)
open(sys.argv[3], "w").write(f"sent {sent}\nback {back}\nbytes {len(got)}\nfirst difference {differs}\n")
)";

// Through the same lossy, reordering path, the shakedown server returns the real
// client's own bytes (held across holes and retransmissions until acknowledged):
// the SHA-256 of the echo equals that of what Linux sent.
TEST(RealHosts, ShakedownEchoServerReturnsALinuxClientsBytes) {
  SKIP_UNLESS_REAL_HOSTS_CAN_RUN();
  const RealRun r = run_with_linux(
      "echo", std::string(kLossyPath) + "workload:\n  - {app: echo, from: linux, to: a:7, request: 1MB}\n",
      kEchoClient, "198.18.0.1 7");
  ASSERT_NE(r.program_status, -1) << "the Linux client never finished\n" << r.log;
  const std::string said = read_file(r.dir / "result");
  std::stringstream lines(said);
  std::string sent, back, bytes;
  std::getline(lines, sent);
  std::getline(lines, back);
  std::getline(lines, bytes);
  EXPECT_EQ(bytes, "bytes 1000000") << said << r.log;
  ASSERT_EQ(sent.size(), back.size()) << said << r.log;
  EXPECT_EQ(sent.substr(5), back.substr(5)) << said << r.log;
  EXPECT_EQ(r.col("server_bytes_received"), "1000000") << r.log;
  EXPECT_EQ(r.col("server_bytes_sent"), "1000000") << r.log;
  EXPECT_EQ(r.col("outcome"), "completed") << r.log;
  const std::string summary = read_file(r.dir / "out/summary.json");
  EXPECT_NE(summary.find("\"wrong\": 0,"), std::string::npos) << summary;
  fs::remove_all(r.dir);
}

// curl in the namespace fetches from an emulated request-response server (a bulk
// responder): the response has no HTTP headers, so --http0.9 takes it as it comes.
const char* kCurl = R"(
import subprocess
open(sys.argv[3] + ".ready", "w").close()
for attempt in range(200):
    r = subprocess.run(["curl", "-s", "--http0.9", "--max-time", "60", "-o", sys.argv[3] + ".body",
                        "-w", "%{size_download}", f"http://{sys.argv[1]}:{sys.argv[2]}/"],
                       capture_output=True, text=True)
    if r.returncode != 7: break  # 7: could not connect (the device is not there yet)
    time.sleep(0.1)
open(sys.argv[3], "w").write(f"{r.returncode} {r.stdout}")
)";

// curl through 5% loss and reordering gets exactly the server's stream, 200,000 bytes;
// its side (inferred) took them all and closed after the server.
TEST(RealHosts, CurlFetchesFromAShakedownServer) {
  SKIP_UNLESS_REAL_HOSTS_CAN_RUN();
  if (shell("command -v curl").code != 0) GTEST_SKIP() << "SKIPPED, not passed: curl is not installed";
  const RealRun r = run_with_linux("curl",
                                   std::string(kLossyPath) +
                                       "workload:\n  - {app: request-response, from: linux, to: a:80, request: 1B, "
                                       "response: 200000B, close: server}\n",
                                   kCurl, "198.18.0.1 80");
  ASSERT_NE(r.program_status, -1) << "curl never finished\n" << r.log;
  EXPECT_EQ(read_file(r.dir / "result"), "0 200000") << r.log;
  const std::string address = r.col("client_address");
  ASSERT_FALSE(r.col("server_isn").empty()) << r.log;
  using shakedown::wire::Ipv4Address;
  const auto port = static_cast<std::uint16_t>(std::stoi(address.substr(address.find(':') + 1)));
  const std::uint64_t stream = shakedown::payload_stream(Ipv4Address{0xc6120001}, 80, Ipv4Address{0xc6120002}, port,
                                                         static_cast<std::uint32_t>(std::stoul(r.col("server_isn"))));
  std::vector<std::uint8_t> want(200000);
  shakedown::fill_payload(stream, 0, want);
  const std::string body = read_file(r.dir / "result.body");
  ASSERT_EQ(body.size(), want.size()) << r.log;
  EXPECT_TRUE(std::equal(want.begin(), want.end(), body.begin(),
                         [](std::uint8_t x, char y) { return x == static_cast<std::uint8_t>(y); }))
      << "curl got other bytes than the server sent";
  EXPECT_EQ(r.col("server_bytes_sent"), "200000") << r.log;
  EXPECT_EQ(r.col("client_bytes_received"), "200000") << r.log;
  EXPECT_EQ(r.col("client_outcome"), "completed") << r.log;
  EXPECT_EQ(r.col("client"), "linux") << r.log;
  fs::remove_all(r.dir);
}

// A Linux server on four ports, one teardown each: 9001 reads to the end and closes;
// 9002 closes at once; 9003 answers with RST (SO_LINGER 0); 9004 waits to be reset.
const char* kTeardownServer = R"(
import os, socket, struct, sys, threading
said = {}
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(4)
    ready.release()
    c, _ = s.accept(); c.settimeout(60)
    try:
        if port == 9001:
            while c.recv(65536): pass
            said[port] = "eof"
        elif port == 9002:
            said[port] = "closed first"
        elif port == 9003:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            said[port] = "reset it"
        else:
            while c.recv(65536): pass
            said[port] = "eof"
    except ConnectionResetError:
        said[port] = "was reset"
    except OSError as e:
        said[port] = "error " + str(e)
    c.close()
ready = threading.Semaphore(0)
threads = [threading.Thread(target=serve, args=(p,)) for p in (9001, 9002, 9003, 9004)]
for t in threads: t.start()
for _ in threads: ready.acquire()
open(sys.argv[1] + ".ready", "w").close()
for t in threads: t.join()
open(sys.argv[1], "w").write("".join(f"{p} {said[p]}\n" for p in sorted(said)))
)";

// Teardowns against Linux's TCP, as the emulated client's state timeline shows them:
// the client closes first (FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT); Linux closes first
// (CLOSE_WAIT, LAST_ACK, CLOSED); Linux resets; the client resets. Each ends with both
// sides closed or closing as RFC 9293 3.6 says, and Linux saw what the client did.
TEST(RealHosts, TeardownsWithLinux) {
  SKIP_UNLESS_REAL_HOSTS_CAN_RUN();
  const RealRun r = run_with_linux("teardown",
                                   "links:\n  - {ends: [a, r], delay: 1ms}\n  - {ends: [r, linux], delay: 10ms}\n"
                                   "workload:\n"
                                   "  - {app: connect, from: a, to: linux:9001, close: client}\n"
                                   "  - {app: connect, from: a, to: linux:9002, close: server}\n"
                                   "  - {app: connect, from: a, to: linux:9003, close: server}\n"
                                   "  - {app: connect, from: a, to: linux:9004, close: abort}\n",
                                   kTeardownServer, "");
  ASSERT_NE(r.program_status, -1) << "the Linux server did not see all four connections end\n" << r.log;
  EXPECT_EQ(read_file(r.dir / "result"), "9001 eof\n9002 closed first\n9003 reset it\n9004 was reset\n") << r.log;

  std::map<std::string, std::string> states = states_on(r);
  const auto has = [&](const std::string& port, const std::string& seq) {
    return states[port].find(seq) != std::string::npos;
  };
  EXPECT_TRUE(has("9001", "ESTABLISHED FIN_WAIT_1") && states["9001"].ends_with("TIME_WAIT")) << states["9001"];
  EXPECT_TRUE(has("9002", "ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED")) << states["9002"];
  EXPECT_TRUE(has("9003", "ESTABLISHED") && states["9003"].ends_with("CLOSED")) << states["9003"];
  EXPECT_TRUE(has("9004", "ESTABLISHED") && states["9004"].ends_with("CLOSED")) << states["9004"];
  // And Linux's side of each, inferred from its segments.
  std::map<std::string, std::string> linux_states = states_on(r, "linux");
  EXPECT_EQ(linux_states["9001"], "SYN_RECEIVED ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED") << r.log;
  EXPECT_EQ(linux_states["9002"], "SYN_RECEIVED ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT") << r.log;
  EXPECT_EQ(linux_states["9003"], "SYN_RECEIVED ESTABLISHED CLOSED") << r.log;
  EXPECT_EQ(linux_states["9004"], "SYN_RECEIVED ESTABLISHED CLOSED") << r.log;
  fs::remove_all(r.dir);
}

// A Linux client that closes the moment it is connected, then asks its kernel which
// of its connections are in TIME_WAIT.
const char* kCloseAtOnceClient = R"(
import socket, subprocess, sys, time
open(sys.argv[3] + ".ready", "w").close()
c = connect()
c.close()
time.sleep(1)
said = subprocess.run(["ss", "-tanH", "state", "time-wait"], capture_output=True, text=True).stdout
open(sys.argv[3], "w").write(said)
)";

// Both at once: the emulated server closes as it accepts (on the handshake's ACK) and
// the Linux client as connect() returns, so the two FINs cross on the 50 ms path (Linux's close has 100 ms to
// come before the server's FIN reaches it). Each
// side gets a FIN in FIN_WAIT_1: CLOSING, then TIME_WAIT at both ends (RFC 9293 3.6,
// figure 13) — the emulated server's timeline, Linux's as inferred from its segments,
// and Linux's own socket table.
TEST(RealHosts, SimultaneousCloseWithLinux) {
  SKIP_UNLESS_REAL_HOSTS_CAN_RUN();
  const RealRun r = run_with_linux("simclose",
                                   "links:\n  - {ends: [a, r], delay: 1ms}\n  - {ends: [r, linux], delay: 50ms}\n"
                                   "workload:\n  - {app: connect, from: linux, to: a:80, close: server}\n",
                                   kCloseAtOnceClient, "198.18.0.1 80");
  ASSERT_NE(r.program_status, -1) << "the Linux client never finished\n" << r.log;
  const std::map<std::string, std::string> states = states_on(r);
  ASSERT_EQ(states.count("80"), 1u) << r.log;
  EXPECT_EQ(states.at("80"), "SYN_RECEIVED ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT") << r.log;
  EXPECT_EQ(states_on(r, "linux")["80"], "SYN_SENT ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT") << r.log;
  EXPECT_NE(read_file(r.dir / "result").find("198.18.0.1:80"), std::string::npos)
      << "Linux's socket is not in TIME_WAIT:\n" << read_file(r.dir / "result") << r.log;
  fs::remove_all(r.dir);
}

// A Linux client making 1,000 connections, 100 at a time, each sending 10,000 bytes of
// its own (different for every connection) and closing, then reading the echo until
// the server closes: a connection counts when the echo is its bytes exactly.
const char* kManyClients = R"(
import socket, sys, threading, time
open(sys.argv[3] + ".ready", "w").close()
time.sleep(0.5)
ok = [0]; lock = threading.Lock()
def one(k):
    data = bytes((k * 31 + i * 7) % 256 for i in range(10000))
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
    c.sendall(data); c.shutdown(socket.SHUT_WR)
    got = bytearray()
    while True:
        d = c.recv(65536)
        if not d: break
        got += d
    c.close()
    if got == data:
        with lock: ok[0] += 1
for batch in range(10):
    ts = [threading.Thread(target=one, args=(batch * 100 + j,)) for j in range(100)]
    for t in ts: t.start()
    for t in ts: t.join()
open(sys.argv[3], "w").write(str(ok[0]))
)";

// 1,000 connections from Linux to one emulated echo server, through a router and 1%
// loss: every one completes, and every byte comes back as it was sent.
TEST(RealHosts, AThousandConnectionsFromLinux) {
  SKIP_UNLESS_REAL_HOSTS_CAN_RUN();
  const RealRun r = run_with_linux("many",
                                   "links:\n  - {ends: [a, r], delay: 1ms}\n  - {ends: [r, linux], delay: 5ms, loss: 1%}\n"
                                   "workload:\n  - {app: echo, from: linux, to: a:80, request: 10000B, backlog: 1024}\n",
                                   kManyClients, "198.18.0.1 80");
  ASSERT_NE(r.program_status, -1) << "the Linux client did not finish\n" << r.log;
  EXPECT_EQ(read_file(r.dir / "result"), "1000") << r.log;
  std::stringstream rows(read_file(r.dir / "out/connections.csv"));
  std::string line;
  std::getline(rows, line);
  const std::vector<std::string> header = split(line);
  std::size_t received_at = 0, outcome_at = 0, sent_at = 0, linux_outcome_at = 0;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "server_bytes_received") received_at = i;
    if (header[i] == "outcome") outcome_at = i;
    if (header[i] == "client_bytes_sent") sent_at = i;
    if (header[i] == "client_outcome") linux_outcome_at = i;
  }
  int rows_seen = 0, completed = 0, whole = 0, linux_sent = 0, linux_completed = 0;
  while (std::getline(rows, line)) {
    const std::vector<std::string> f = split(line);
    ++rows_seen;
    completed += f.at(outcome_at) == "completed";
    whole += f.at(received_at) == "10000";
    linux_sent += f.at(sent_at) == "10000";  // Linux's side, inferred
    linux_completed += f.at(linux_outcome_at) == "completed";
  }
  EXPECT_EQ(rows_seen, 1000) << r.log;
  EXPECT_EQ(completed, 1000) << r.log;
  EXPECT_EQ(whole, 1000) << r.log;
  EXPECT_EQ(linux_sent, 1000) << r.log;
  EXPECT_EQ(linux_completed, 1000) << r.log;
  fs::remove_all(r.dir);
}

// Two Linux stacks joined by an emulated path with loss, reordering, duplication and
// corruption: 1 MB of random bytes arrives whole (the SHA-256 each end computes
// agree) — Linux's checksums turn the corrupted copies away, its TCP the rest.
TEST(RealHosts, TwoLinuxStacksThroughAnImpairedPath) {
  SKIP_UNLESS_REAL_HOSTS_CAN_RUN();
  const fs::path dir = fs::temp_directory_path() / ("shakedown-real-two-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  TestNamespace left("sdleft" + std::to_string(getpid())), right("sdright" + std::to_string(getpid()));
  ASSERT_TRUE(left.ok && right.ok);
  std::ofstream(dir / "two.yaml")
      << "name: two-linux\nseed: 9\nhosts:\n  left: {real: {netns: " << left.name << "}}\n  right: {real: {netns: "
      << right.name << "}}\nrouters: [r]\nlinks:\n  - {ends: [left, r], delay: 2ms}\n"
      << "  - {ends: [r, right], delay: 10ms, loss: 3%, reorder: {probability: 3%, gap: 3}, duplicate: 1%, "
         "corrupt: 1%}\n";
  std::ofstream(dir / "server.py") << R"(
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000)); s.listen(1)
open(sys.argv[1] + ".ready", "w").close()
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    h.update(d); n += len(d)
open(sys.argv[1], "w").write(f"{n} {h.hexdigest()}\n")
)";
  std::ofstream(dir / "client.py") << R"(
import hashlib, os, socket, sys, time
data = os.urandom(1000000)
for _ in range(200):
    try:
        c = socket.create_connection(("198.18.0.2", 7000), timeout=2); break
    except OSError: time.sleep(0.1)
c.settimeout(60); c.sendall(data); c.close()
open(sys.argv[1], "w").write(f"{len(data)} {hashlib.sha256(data).hexdigest()}\n")
)";
  const pid_t server =
      start("exec ip netns exec " + right.name + " python3 " + (dir / "server.py").string() + " " + (dir / "got").string());
  for (int i = 0; i < 1000 && !fs::exists(dir / "got.ready"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists(dir / "got.ready"));
  const pid_t run = start("exec " + kBin + " run " + (dir / "two.yaml").string() + " --realtime --until 120s -o " +
                          (dir / "out").string() + " > " + (dir / "run.log").string() + " 2>&1");
  const pid_t client =
      start("exec ip netns exec " + left.name + " python3 " + (dir / "client.py").string() + " " + (dir / "sent").string());
  const int client_status = wait_for(client, 90);
  const int server_status = wait_for(server, 30);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the last ACK crosses the path
  kill(run, SIGINT);
  const int run_status = wait_for(run, 20);
  const std::string log = read_file(dir / "run.log");
  EXPECT_TRUE(client_status != -1 && server_status != -1) << log;
  EXPECT_TRUE(WIFEXITED(run_status)) << log;
  const std::string sent = read_file(dir / "sent");
  EXPECT_EQ(sent.substr(0, 8), "1000000 ") << sent;
  EXPECT_EQ(read_file(dir / "got"), sent) << log;
  // The impairments were there: the path lost packets, and TCP recovered them.
  const auto summary = nlohmann::json::parse(read_file(dir / "out/summary.json"));
  EXPECT_GT(summary["drops"]["loss"].get<std::uint64_t>(), 0u) << summary.dump(2);
  // Both sides inferred from their segments: one connection, every byte taken, closed.
  std::stringstream rows(read_file(dir / "out/connections.csv"));
  std::string header_line, row_line;
  std::getline(rows, header_line);
  std::getline(rows, row_line);
  const std::vector<std::string> header = split(header_line), row = split(row_line);
  const auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < header.size() && i < row.size(); ++i)
      if (header[i] == name) return row[i];
    return std::string();
  };
  EXPECT_EQ(col("client"), "left") << row_line;
  EXPECT_EQ(col("client_bytes_sent"), "1000000") << row_line;
  EXPECT_EQ(col("server_bytes_received"), "1000000") << row_line;
  EXPECT_EQ(col("outcome"), "completed") << row_line << "\n" << log;
  fs::remove_all(dir);
}

// A namespace the run made is gone when it ends, or is interrupted — and after a
// SIGKILL, `shakedown cleanup` removes it.
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

  // Ctrl-C: the run stops, writes its files and removes the namespace.
  const pid_t interrupted = start("exec " + kBin + " run " + (dir / "real.yaml").string() +
                                  " --realtime --until 60s -q -o " + (dir / "out-int").string() + " 2>/dev/null");
  for (int i = 0; i < 500 && !netns_exists(name); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(netns_exists(name));
  kill(interrupted, SIGINT);
  const int status = wait_for(interrupted, 20);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status;
  EXPECT_NE(read_file(dir / "out-int/summary.json").find("\"interrupted\": true"), std::string::npos);
  EXPECT_FALSE(netns_exists(name)) << "left behind after Ctrl-C";

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
