#include "controller/cli.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <unistd.h>

#include <fcntl.h>
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <fstream>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "controller/compare.h"
#include "controller/mpi.h"
#include "controller/partition.h"
#include "controller/pictures.h"
#include "controller/report.h"
#include "controller/run.h"
#include "controller/scenarios.h"
#include "controller/sweep.h"
#include "controller/text.h"
#include "emulator/tun.h"
#include "emulator/units.h"
#include "topologies/loader.h"
#include "topologies/settings.h"

namespace shakedown::controller {

namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kFooter = R"(Exit codes: 0 success, 1 an expectation failed, 2 bad input or usage,
3 the run itself failed.

Documentation: docs/traces.md (runs, files, pictures, sweeps), docs/expectations.md
(expect: and shakedown test), docs/topology-format.md (the file format),
docs/workloads.md, docs/links.md, docs/tcp.md.)";

struct CompileOptions {
  std::string file;
  std::string format = "text";
  std::string out;
  std::uint32_t ranks = 0;  // > 0: the partition into this many ranks instead
};

// The partition a distributed run of N ranks would use, as text or JSON.
std::string partition_report(const topology::Topology& t, const Partition& p, const std::string& format) {
  if (format != "json") return describe(t, p);
  nlohmann::ordered_json j;
  j["ranks"] = p.ranks;
  j["rank_of"] = p.rank_of;
  j["work"] = p.weight;
  j["imbalance"] = p.imbalance();
  j["cut_links"] = p.cut;
  if (p.lookahead_link) {
    j["lookahead_ns"] = p.lookahead.ns();
    j["lookahead_link"] = *p.lookahead_link;
    j["lookahead_why"] = p.lookahead_why;
  } else {
    j["lookahead_ns"] = nullptr;
  }
  return j.dump(2) + "\n";
}

int compile(const CompileOptions& o) {
  const topology::Topology t = load_topology(o.file);
  std::string text;
  if (o.ranks > 0) {
    try {
      text = partition_report(t, partition(t, o.ranks), o.format);
    } catch (const PartitionError& e) {
      std::fprintf(stderr, "%s: %s\n", o.file.c_str(), e.what());
      return kBadInput;
    }
  } else if (o.format == "json") {
    google::protobuf::util::JsonPrintOptions opts;
    opts.add_whitespace = true;
    opts.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(t, &text, opts).ok()) {
      std::fprintf(stderr, "shakedown: could not render the topology as JSON\n");
      return kRunFailed;
    }
  } else if (o.format == "binary") {
    text = t.SerializeAsString();
  } else {
    google::protobuf::TextFormat::PrintToString(t, &text);
  }
  if (o.out.empty() || o.out == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kSuccess;
  }
  std::ofstream f(o.out, std::ios::binary);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  f.close();
  if (!f) {
    std::fprintf(stderr, "shakedown: cannot write %s\n", o.out.c_str());
    return kRunFailed;
  }
  return kSuccess;
}

struct DiagramOptions {
  std::string dir;
  std::uint64_t conn = 0;
  bool cdf = false;
  std::string kind = "all";
  std::string side;
  std::string out;
  std::string from, to;
};

// A picture written, or the reason it could not be (then the exit code is 3).
bool write_picture(const std::string& path, const std::string& text) {
  try {
    write_file(path, text);
    return true;
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "shakedown diagram: %s\n", e.what());
    return false;
  }
}

int diagram(const DiagramOptions& o) {
  if (o.conn == 0 && !o.cdf) {
    std::fprintf(stderr, "shakedown diagram: say what to draw: --conn ID (see connections.csv) or --cdf\n");
    return kBadInput;
  }
  const std::string out = o.out.empty() ? o.dir : o.out;
  std::vector<std::string> written;
  try {
    if (o.conn != 0) {
      TimeWindow window;
      if (!o.from.empty()) window.from = parse_duration(o.from).ns();
      if (!o.to.empty()) window.to = parse_duration(o.to).ns();
      if (!o.from.empty() && !o.to.empty() && window.to <= window.from) {
        std::fprintf(stderr, "shakedown diagram: --to %s is not after --from %s: the window is empty\n", o.to.c_str(),
                     o.from.c_str());
        return kBadInput;
      }
      const ConnectionTrace c = within(read_connection(o.dir, o.conn), window);
      const std::string base = fmt::format("{}/conn-{}-", out, o.conn);
      if (o.kind == "all" || o.kind == "ladder") {
        if (!write_picture(base + "ladder.svg", ladder_svg(c))) return kRunFailed;
        const std::string mermaid = ladder_mermaid(c);
        if (!write_picture(base + "ladder.mmd", mermaid)) return kRunFailed;
        if (!write_picture(base + "ladder.md", "```mermaid\n" + mermaid + "```\n")) return kRunFailed;
        written.insert(written.end(), {base + "ladder.svg", base + "ladder.mmd", base + "ladder.md"});
      }
      if (o.kind == "all" || o.kind == "timeseq") {
        std::optional<int> side;
        if (o.side == "client") side = 0;
        if (o.side == "server") side = 1;
        try {
          if (!write_picture(base + "timeseq.svg", time_sequence_svg(c, side, window))) return kRunFailed;
          written.push_back(base + "timeseq.svg");
        } catch (const PictureError& e) {
          if (o.kind == "timeseq") throw;
          std::fprintf(stderr, "shakedown diagram: no time-sequence graph: %s\n", e.what());
        }
      }
    }
    if (o.cdf) {
      const auto handshakes = read_handshakes(o.dir);
      const std::string path = out + "/handshake-cdf.svg";
      if (!write_picture(path, cdf_svg(handshakes, "handshake time: CDF"))) return kRunFailed;
      written.push_back(path);
    }
  } catch (const PictureError& e) {
    std::fprintf(stderr, "shakedown diagram: %s\n", e.what());
    return kBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shakedown diagram: %s: %s\n", o.dir.c_str(), e.what());
    return kBadInput;
  }
  for (const auto& w : written) std::printf("%s\n", w.c_str());
  return kSuccess;
}

// A connection as text, one line per segment or state change, for a terminal.
int inspect(const std::string& dir, std::uint64_t conn) {
  try {
    if (conn == 0) {
      std::ifstream f(dir + "/summary.json");
      if (!f) {
        std::fprintf(stderr, "shakedown inspect: %s/summary.json: cannot open (is this the folder of a run?)\n",
                     dir.c_str());
        return kBadInput;
      }
      std::printf("%s", std::string(std::istreambuf_iterator<char>(f), {}).c_str());
      return kSuccess;
    }
    const ConnectionTrace c = read_connection(dir, conn);
    std::printf("connection %llu: %s %s -> %s %s, %s\n", static_cast<unsigned long long>(c.id), c.name[0].c_str(),
                c.address[0].c_str(), c.name[1].c_str(), c.address[1].c_str(), c.outcome.c_str());
    // At one instant, in causal order: arrivals, the state changes they cause, sends.
    struct Line {
      std::int64_t t;
      int priority;
      int order;
      std::string text;
    };
    std::vector<Line> lines;
    int n = 0;
    for (const auto& s : c.segments) {
      std::string what = fmt::format("{} seq={}", s.flags, c.relative_seq(s.from, s.seq));
      if (s.flags.find("ACK") != std::string::npos) what += fmt::format(" ack={}", c.relative_ack(s.from, s.ack));
      if (s.len > 0) what += fmt::format(" len={}", s.len);
      if (s.retransmission) what += " (retransmission)";
      const std::string dir_arrow = s.from == 0 ? "->" : "<-";
      if (s.sent) lines.push_back({*s.sent, 2, n++, fmt::format("{:<8} sends    {} {}", c.name[s.from], dir_arrow, what)});
      for (const auto r : s.received)
        lines.push_back({r, 0, n++, fmt::format("{:<8} receives {} {}", c.name[1 - s.from], dir_arrow, what)});
      if (s.dropped)
        lines.push_back({*s.dropped, s.sent && *s.sent == *s.dropped ? 3 : 0, n++, fmt::format("{:<8} LOST ({}) {}", "", s.drop_reason, what)});
    }
    for (const auto& st : c.states)
      lines.push_back({st.t, 1, n++, fmt::format("{:<8} {} -> {}", c.name[st.side], st.from, st.to)});
    std::stable_sort(lines.begin(), lines.end(),
                     [](const Line& a, const Line& b) { return a.t != b.t ? a.t < b.t : a.priority < b.priority; });
    for (const auto& l : lines) std::printf("%14.6f ms  %s\n", static_cast<double>(l.t) / 1e6, l.text.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shakedown inspect: %s\n", e.what());
    return kBadInput;
  }
  return kSuccess;
}

}  // namespace

std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    std::string a = i == 0 ? std::string("shakedown") : std::string(argv[i]);
    const bool plain = !a.empty() && a.find_first_of(" \t'\"$\\*?[]{}();&|<>") == std::string::npos;
    if (!s.empty()) s += ' ';
    if (plain) {
      s += a;
    } else {
      s += '\'';
      for (char c : a) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
      s += '\'';
    }
  }
  return s;
}

namespace {

// Where rank 0 leaves its exit code for `--ranks` (mpirun's own code says only whether
// some process failed, and Ctrl-C gives 1 whatever the run did).
constexpr const char* kExitFileVariable = "SHAKEDOWN_RANK0_EXIT_FILE";

// A Ctrl-C or SIGTERM to `--ranks`, for wait_for_mpirun to pass on.
volatile std::sig_atomic_t g_pending_signal = 0;
extern "C" void note_signal(int signal) { g_pending_signal = signal; }

// The processes whose parent is `parent`, with their state letter from /proc (Z: ended,
// not yet reaped). /proc/PID/task/TID/children is not in every kernel; stat is.
std::vector<std::pair<pid_t, char>> children_of(pid_t parent) {
  std::vector<std::pair<pid_t, char>> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    pid_t child = 0;
    if (std::from_chars(name.data(), name.data() + name.size(), child).ec != std::errc{}) continue;
    std::ifstream in(it->path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;
    // "pid (command) state ppid ...": the command may hold spaces and parentheses.
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 4 >= stat.size()) continue;
    const char state = stat[close + 2];
    const char* ppid_text = stat.c_str() + close + 4;
    pid_t ppid = 0;
    std::from_chars(ppid_text, stat.c_str() + stat.size(), ppid);
    if (ppid == parent) out.emplace_back(child, state);
  }
  return out;
}

// The rank mpirun gave a process (its OMPI_COMM_WORLD_RANK), or -1 while it has none
// (between mpirun's fork and exec).
int rank_of_process(pid_t p) {
  std::ifstream in("/proc/" + std::to_string(p) + "/environ");
  constexpr std::string_view kRank = "OMPI_COMM_WORLD_RANK=";
  for (std::string entry; std::getline(in, entry, '\0');)
    if (entry.starts_with(kRank)) return std::atoi(entry.c_str() + kRank.size());
  return -1;
}

// Waits for mpirun, and passes Ctrl-C and SIGTERM on to the processes of the run as
// SIGTERM: each stops at the same window, and rank 0 writes its files whole however
// long that takes (mpirun, told, would send SIGTERM a second later and SIGKILL a
// second after that: its odls_base_sigkill_timeout). mpirun ends the whole
// job when one of its processes dies; the others get SIGCONT from here as well, at
// once (as mpirun does): waiting for the lost one, they give up (mpi.h), and rank 0
// writes what it has. Should a process be gone and mpirun still be waiting kWatchdog
// later, the run is ended here — rank 0 last, given kLeadAllowance to finish writing —
// so that `--ranks` never hangs whatever mpirun does. Says so and returns true when
// that happened.
bool wait_for_mpirun(pid_t mpirun) {
  constexpr auto kPoll = std::chrono::milliseconds(50);
  constexpr auto kWatchdog = std::chrono::seconds(3);
  constexpr auto kLeadAllowance = std::chrono::seconds(30);
  std::map<pid_t, int> seen;  // process -> its rank
  std::optional<std::pair<pid_t, int>> gone;
  std::chrono::steady_clock::time_point gone_at;
  bool continued = false;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(mpirun, &status, WNOHANG);
    if (done == mpirun || (done < 0 && errno != EINTR)) return false;
    std::set<pid_t> alive;
    for (const auto& [child, state] : children_of(mpirun))
      if (state != 'Z') alive.insert(child);
    for (const auto& [p, rank] : seen)
      if (!alive.contains(p) && !gone) gone = {p, rank}, gone_at = std::chrono::steady_clock::now();
    for (const pid_t p : alive)
      if (auto [it, fresh] = seen.try_emplace(p, -1); fresh || it->second < 0) it->second = rank_of_process(p);
    if (const int signal = g_pending_signal; signal != 0) {
      g_pending_signal = 0;
      bool told = false;
      for (const pid_t p : alive)
        if (seen[p] >= 0) told = kill(p, SIGTERM) == 0 || told;
      if (!told) kill(mpirun, signal);  // none started yet: mpirun ends the job
    }
    if (gone && !continued) {
      for (const pid_t p : alive) kill(p, SIGCONT);
      continued = true;
    }
    const auto since = std::chrono::steady_clock::now() - gone_at;
    if (gone && since > kWatchdog) {
      bool lead_writing = false;
      for (const pid_t p : alive) {
        if (seen[p] == 0 && since < kLeadAllowance) {
          lead_writing = true;
          continue;
        }
        kill(-p, SIGKILL), kill(p, SIGKILL);
      }
      if (lead_writing) {
        std::this_thread::sleep_for(kPoll);
        continue;
      }
      kill(mpirun, SIGKILL);
      while (waitpid(mpirun, &status, 0) < 0 && errno == EINTR) {
      }
      const std::string who = gone->second >= 0 ? "rank " + std::to_string(gone->second) : "a process";
      char host[256] = "this machine";
      gethostname(host, sizeof host - 1);
      std::fprintf(stderr,
                   "shakedown run: %s (process %d on %s) ended before the run did, and mpirun had not ended the "
                   "others %lld s later: they were ended; the run failed\n",
                   who.c_str(), static_cast<int>(gone->first), host,
                   static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(since).count()));
      return true;
    }
    std::this_thread::sleep_for(kPoll);
  }
}

// `shakedown run FILE --ranks N`: the same command under mpirun, without --ranks; the
// exit code is rank 0's, as if one process had run. A process that died (killed, out
// of memory) ends the run with exit 3, mpirun having named it.
int run_under_mpirun(int argc, char** argv, std::uint32_t ranks) {
  std::vector<std::string> args{"mpirun", "-np", std::to_string(ranks)};
  // On a machine with fewer cores than ranks, and as root (containers, CI): what
  // Open MPI refuses unless told.
  args.emplace_back("--oversubscribe");
  if (geteuid() == 0) args.emplace_back("--allow-run-as-root");
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  args.push_back(ec ? std::string(argv[0]) : self);
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--ranks") {
      ++i;
      continue;
    }
    if (a.starts_with("--ranks=")) continue;
    args.emplace_back(a);
  }
  std::vector<char*> c_args;
  for (std::string& a : args) c_args.push_back(a.data());
  c_args.push_back(nullptr);
  char exit_file[] = "/tmp/shakedown-exit-XXXXXX";
  const int fd = mkstemp(exit_file);
  if (fd < 0) {
    std::fprintf(stderr, "shakedown run: cannot create a temporary file: %s\n", std::strerror(errno));
    return kRunFailed;
  }
  close(fd);
  setenv(kExitFileVariable, exit_file, 1);
  if (isatty(STDERR_FILENO) != 0) setenv("SHAKEDOWN_PROGRESS", "1", 1);
  std::fflush(stdout);
  std::fflush(stderr);
  int pipe_fds[2];  // the child says through it that mpirun could not be started
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return kRunFailed;
  const pid_t pid = fork();
  if (pid < 0) {
    std::fprintf(stderr, "shakedown run: cannot start mpirun: %s\n", std::strerror(errno));
    return kRunFailed;
  }
  if (pid == 0) {
    close(pipe_fds[0]);
    execvp("mpirun", c_args.data());
    const int e = errno;
    [[maybe_unused]] const auto n = write(pipe_fds[1], &e, sizeof e);
    _exit(127);
  }
  close(pipe_fds[1]);
  // Ctrl-C and SIGTERM go to every rank (wait_for_mpirun).
  struct sigaction sa {};
  sa.sa_handler = note_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  int exec_error = 0;
  const bool failed_to_start = read(pipe_fds[0], &exec_error, sizeof exec_error) == sizeof exec_error;
  close(pipe_fds[0]);
  const bool watchdog_fired = wait_for_mpirun(pid);
  std::string code_text;
  if (std::FILE* f = std::fopen(exit_file, "r")) {
    char buf[16] = {};
    if (std::fgets(buf, sizeof buf, f) != nullptr) code_text = buf;
    std::fclose(f);
  }
  std::remove(exit_file);
  if (failed_to_start) {
    std::fprintf(stderr,
                 "shakedown run: --ranks %u needs mpirun, which could not be started (%s); on Debian install "
                 "'openmpi-bin'\n",
                 ranks, std::strerror(exec_error));
    return kBadInput;
  }
  if (watchdog_fired) return kRunFailed;
  if (!code_text.empty()) return std::atoi(code_text.c_str());
  std::fprintf(stderr,
               "shakedown run: a process of the run ended before the run did (mpirun's message above names it); "
               "the run failed\n");
  return kRunFailed;
}

}  // namespace

int cli_main(int argc, char** argv) {
  // Started by mpirun or srun with several processes: a distributed run. Only `run`
  // goes across processes.
  std::unique_ptr<Mpi> mpi;
  if (Mpi::launched_size() > 1) {
    if (argc < 2 || std::string_view(argv[1]) != "run") {
      if (std::getenv("OMPI_COMM_WORLD_RANK") == nullptr || std::string_view(std::getenv("OMPI_COMM_WORLD_RANK")) == "0")
        std::fprintf(stderr, "shakedown: only `shakedown run` runs across several processes (docs/distributed.md)\n");
      return kBadInput;
    }
    try {
      mpi = std::make_unique<Mpi>(&argc, &argv);
      mpi->give_up_when_stopped(&InterruptHandler::interrupted);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "shakedown run: %s\n", e.what());
      return kRunFailed;
    }
  }
  CLI::App app{"shakedown: a network emulator for studying how TCP connections behave.\n"
               "Describe a network, a workload and faults in a topology file; every host runs\n"
               "shakedown's own TCP; the run leaves timing traces, captures and pictures.",
               "shakedown"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  CompileOptions co;
  CLI::App* compile_cmd = app.add_subcommand(
      "compile", "Load a topology file and print its canonical form: every range, group, default and\n"
                 "generator expanded, every value in base units (ns, bit/s, bytes).");
  compile_cmd->add_option("FILE", co.file, "the topology file (YAML, or a canonical .txtpb)")->required();
  compile_cmd->add_option("--format", co.format, "text (Protobuf text format), json, or binary")
      ->check(CLI::IsMember({"text", "json", "binary"}))
      ->capture_default_str();
  compile_cmd->add_option("-o,--out", co.out, "write to this file instead of standard output");
  compile_cmd->add_option("--ranks", co.ranks,
                          "print instead how a distributed run of N ranks would split it: each rank's hosts,\n"
                          "routers and estimated work, the balance, the links cut and the lookahead\n"
                          "(docs/distributed.md); with --format json, the rank of every node too")
      ->check(CLI::Range(1u, topology::kMaxRanks));
  compile_cmd->footer(
      "Examples:\n  shakedown compile topologies/catalog/dumbbell.yaml --format json\n"
      "  shakedown compile topologies/catalog/fat-tree-k4.yaml --ranks 4");

  RunOptions ro;
  std::string until, seed;
  CLI::App* run_cmd = app.add_subcommand(
      "run", "Run an experiment: build the network a topology file describes, run it in virtual\n"
             "time (or real time, with real hosts), and write its traces (events, connections,\n"
             "summary, captures) to a folder.");
  run_cmd->add_option("FILE", ro.file, "the topology file (YAML), or a topology.txtpb a run left behind")
      ->required()
      ->type_name("");
  run_cmd->add_option("-o,--out", ro.out, "the folder for the traces (default: NAME-run, or NAME-run-2, ... if taken)")
      ->type_name("DIR");
  run_cmd->add_option("--seed", seed, "the run's seed, instead of the file's")->type_name("N");
  run_cmd->add_option("--until", until, "stop at this simulated time, e.g. 30s (default: when nothing is left to do)")
      ->type_name("TIME");
  run_cmd->add_option("--events", ro.events,
                      "which events to write to events.jsonl: all, none, or a comma-separated list of state,\n"
                      "segment, retransmit, timer, rtt, recovery, cwnd, drop, end")
      ->capture_default_str();
  run_cmd->add_option("--pcap", ro.pcap,
                      "captures: auto (one per host up to 64 hosts), hosts, links, none, or host names\n"
                      "separated by commas")
      ->capture_default_str();
  std::uint32_t run_ranks = 0;
  run_cmd->add_option("--ranks", run_ranks,
                      "run across N processes on this machine: starts mpirun -np N with this command\n"
                      "(docs/distributed.md; on a cluster start it with mpirun or srun yourself). With\n"
                      "--events none each process records its own hosts, which large runs need to gain")
      ->check(CLI::Range(1u, topology::kMaxRanks))
      ->type_name("N");
  run_cmd->add_option("--engine", ro.engine,
                      "shakedown (its own TCP), or ns3: the same file built as an ns-3 3.37 simulation\n"
                      "with ns-3's TCP, writing the same files (docs/ns3.md); what ns-3 cannot express is\n"
                      "refused up front, feature by feature")
      ->check(CLI::IsMember({"shakedown", "ns3"}))
      ->capture_default_str();
  run_cmd->add_flag("--realtime", ro.realtime,
                    "pace the run by the wall clock: each event runs when its time comes, and how late\n"
                    "events ran goes into summary.json (docs/realtime.md)");
  std::string behind = "1ms";
  run_cmd->add_option("--behind", behind,
                      "with --realtime: how late an event may run before the run counts as falling behind")
      ->capture_default_str()
      ->type_name("TIME");
  run_cmd->add_flag("-q,--quiet", ro.quiet, "no progress line and no summary; errors only");
  run_cmd->add_flag("--json", ro.json, "print the summary as JSON (what summary.json holds, and the folder)");
  bool skip_memory_check = false;
  run_cmd->add_flag("--skip-memory-check", skip_memory_check,
                    "run even when the estimated memory is more than the machine has available");
  run_cmd->footer(
      "Writes events.jsonl, connections.csv, summary.json, timing.json, pcap/, topology.txtpb and\n"
      "command.txt (docs/traces.md). Ctrl-C stops the run; the files then hold everything up to that\n"
      "moment. Exit codes: 0 done, 2 bad input, 3 the run failed or was interrupted.\n\n"
      "Examples:\n"
      "  shakedown run topologies/catalog/two-hosts.yaml\n"
      "  shakedown run topologies/catalog/dumbbell.yaml --out runs/dumbbell --seed 3 --events state,retransmit\n"
      "  shakedown run topologies/catalog/dumbbell.yaml --engine ns3   (ns-3's TCP: docs/ns3.md)\n"
      "  sudo shakedown run laptop.yaml --realtime --until 60s   (a file with a real host: docs/realtime.md)\n");

  DiagramOptions dopt;
  CLI::App* diagram_cmd = app.add_subcommand(
      "diagram", "Draw pictures of a run from its folder: the ladder diagram of one connection (SVG and\n"
                 "Mermaid), its time-sequence graph (SVG), and the CDF of the run's handshake times (SVG).");
  diagram_cmd->add_option("DIR", dopt.dir, "the folder a run wrote")->required()->check(CLI::ExistingDirectory);
  // A connection id is 1 or more; CLI's own range check would print the range of a double.
  const CLI::Validator connection_id(
      [](std::string& s) {
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        return ec == std::errc() && end == s.data() + s.size() && v >= 1
                   ? std::string()
                   : "'" + s + "' is not a connection id: a whole number from 1 (the first column of connections.csv)";
      },
      "ID");
  diagram_cmd->add_option("--conn", dopt.conn, "the connection's id (the first column of connections.csv)")
      ->check(connection_id);
  diagram_cmd->add_flag("--cdf", dopt.cdf, "the CDF of handshake times of every connection");
  diagram_cmd->add_option("--kind", dopt.kind, "with --conn: ladder, timeseq, or all")
      ->check(CLI::IsMember({"ladder", "timeseq", "all"}))
      ->capture_default_str();
  diagram_cmd->add_option("--side", dopt.side, "the time-sequence graph of the client or the server (default: the one\n"
                                               "that sent more data)")
      ->check(CLI::IsMember({"client", "server"}));
  diagram_cmd->add_option("--from", dopt.from, "only what happened from this time on, e.g. 1.2s")->type_name("TIME");
  diagram_cmd->add_option("--to", dopt.to, "only what happened up to this time")->type_name("TIME");
  diagram_cmd->add_option("-o,--out", dopt.out, "the folder for the pictures (default: DIR)")->check(CLI::ExistingDirectory);
  diagram_cmd->footer(
      "Writes conn-ID-ladder.svg, conn-ID-ladder.mmd (Mermaid), conn-ID-ladder.md (the same in a\n"
      "Markdown fence, rendered by code-hosting sites), conn-ID-timeseq.svg and handshake-cdf.svg, and\n"
      "prints their paths. The ladder needs the run's segment events (run with --events all, the default).\n\n"
      "Examples:\n"
      "  shakedown run topologies/catalog/two-hosts.yaml --out two-hosts-run\n"
      "  shakedown diagram two-hosts-run --conn 1\n"
      "  shakedown diagram dumbbell-run --cdf\n");

  std::string inspect_dir;
  std::uint64_t inspect_conn = 0;
  CLI::App* inspect_cmd = app.add_subcommand(
      "inspect", "Show a run's summary, or one connection's segments and states as text, from its folder.");
  inspect_cmd->add_option("DIR", inspect_dir, "the folder a run wrote")->required()->check(CLI::ExistingDirectory);
  inspect_cmd->add_option("--conn", inspect_conn, "the connection's id (the first column of connections.csv)")
      ->check(connection_id);

  CompareOptions copt;
  CLI::App* compare_cmd = app.add_subcommand(
      "compare", "Two runs of one file side by side (e.g. shakedown's engine against ns-3's, docs/ns3.md):\n"
                 "outcomes, handshake and teardown percentiles, retransmissions, drops and bytes; the\n"
                 "connections paired (by server port, client and the order the client started them) and\n"
                 "those that differ most listed, with the two ladders of the first in an HTML page.");
  compare_cmd->add_option("RUN_A", copt.a, "the folder of one run")->required()->check(CLI::ExistingDirectory);
  compare_cmd->add_option("RUN_B", copt.b, "the folder of the other")->required()->check(CLI::ExistingDirectory);
  compare_cmd->add_option("--html", copt.html, "also write the report and the two ladders to this page")
      ->type_name("FILE");
  compare_cmd->add_option("--top", copt.top, "how many differing connections to list")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
  compare_cmd->footer(
      "Example:\n"
      "  shakedown run topologies/catalog/dumbbell.yaml --out a\n"
      "  shakedown run topologies/catalog/dumbbell.yaml --out b --engine ns3\n"
      "  shakedown compare a b --html a-b.html\n");

  CLI::App* cleanup_cmd = app.add_subcommand(
      "cleanup", "Remove the network namespaces that real-time runs made and could not remove themselves\n"
                 "(a run killed with SIGKILL, a machine that lost power). Runs still going are left alone.");

  TestOptions topt;
  CLI::App* test_cmd = app.add_subcommand(
      "test", "Run scenario files and check their expectations: one line per scenario, exit code 1 if\n"
              "any failed. Scenarios run in parallel, each as deterministic as a single run.");
  test_cmd->add_option("PATHS", topt.paths, "scenario files, or folders searched for *.yaml")->required();
  test_cmd->add_option("--filter", topt.filter, "only scenarios whose name or path matches this glob, e.g. 'handshake*'")
      ->type_name("GLOB");
  test_cmd->add_option("--junit", topt.junit, "also write the results as JUnit XML (for CI test reports)")
      ->type_name("FILE");
  test_cmd->add_option("--keep", topt.keep, "keep each run's folder under DIR (default: removed)")->type_name("DIR");
  test_cmd->add_option("-j,--jobs", topt.jobs, "scenarios at once (default: one per core)")->check(CLI::PositiveNumber);
  test_cmd->add_flag("-q,--quiet", topt.quiet, "print only failures and the total");
  test_cmd->add_option("--engine", topt.engine, "run each scenario on this engine: shakedown, or ns3 (docs/ns3.md)")
      ->check(CLI::IsMember({"shakedown", "ns3"}))
      ->capture_default_str();
  test_cmd->add_option("--ranks", topt.ranks,
                       "run each scenario across N processes (shakedown run --ranks N; docs/distributed.md)")
      ->check(CLI::Range(1u, topology::kMaxRanks))
      ->type_name("N");
  std::string test_timeout;
  test_cmd->add_option("--timeout", test_timeout,
                       "kill a scenario still running after this long and report it as an error (default 10min; 0: "
                       "none)")
      ->type_name("TIME");
  test_cmd->footer(
      "A scenario is a topology file with an expect: section (docs/expectations.md); a file without one\n"
      "passes when it runs. Each runs as a process of its own: one that crashes or runs past --timeout\n"
      "is reported as an error, and the others go on. Exit codes: 0 all passed, 1 some failed or could\n"
      "not run, 2 bad input.\n\n"
      "Examples:\n"
      "  shakedown test tests/scenarios/pass\n"
      "  shakedown test scenarios/ --filter 'handshake*' --junit results.xml\n");

  SweepOptions sopt;
  CLI::App* sweep_cmd = app.add_subcommand(
      "sweep", "Run a topology file once per value of a parameter and chart chosen metrics against it.\n"
               "The file marks the parameter with ${NAME} where the value goes.");
  sweep_cmd->add_option("FILE", sopt.file, "the topology file (YAML) with ${NAME} in it")->required();
  sweep_cmd->add_option("--vary", sopt.vary, "the parameter and its values, e.g. loss=0%,5%,10%")
      ->required()
      ->type_name("NAME=V1,V2,...");
  sweep_cmd->add_option("--metric", sopt.metrics,
                        "a metric to chart, as in expectations (default: handshake.p50, .p90, .p99); repeatable")
      ->type_name("METRIC");
  sweep_cmd->add_option("-o,--out", sopt.out, "the folder (default: NAME-sweep): sweep.csv, sweep.svg, and each run")
      ->type_name("DIR");
  sweep_cmd->add_flag("-q,--quiet", sopt.quiet, "no table on the console");
  sweep_cmd->add_option("--engine", sopt.engine, "run each value on this engine: shakedown, or ns3 (docs/ns3.md)")
      ->check(CLI::IsMember({"shakedown", "ns3"}))
      ->capture_default_str();
  sweep_cmd->add_option("--ranks", sopt.ranks,
                        "run each value across N processes (shakedown run --ranks N; docs/distributed.md)")
      ->check(CLI::Range(1u, topology::kMaxRanks))
      ->type_name("N");
  sweep_cmd->footer(
      "Example:\n"
      "  shakedown sweep examples/retransmission/loss.template.yaml --vary loss=0%,5%,10%,20%,30%\n");

  std::string settings_family = "all";
  CLI::App* settings_cmd = app.add_subcommand(
      "settings", "Print the settings a topology file takes, with their types, defaults and meanings\n"
                  "(Markdown tables: the reference of docs/topology-format.md).");
  settings_cmd->add_option("FAMILY", settings_family, "tcp, link, or all")
      ->check(CLI::IsMember({"tcp", "link", "all"}))
      ->capture_default_str();
  settings_cmd->footer("Example:\n  shakedown settings tcp");
  settings_cmd->callback([&] {
    namespace st = topology::settings;
    if (settings_family != "link")
      std::printf("%s%s", settings_family == "all" ? "TCP (defaults.tcp, a host's tcp:)\n\n" : "",
                  st::reference(st::tcp(), *topology::Tcp::descriptor()).c_str());
    if (settings_family == "all") std::printf("\n");
    if (settings_family != "tcp")
      std::printf("%s%s", settings_family == "all" ? "Links (a link's keys, defaults.link, forward:, backward:, a fault's set:)\n\n" : "",
                  st::reference(st::link(), *topology::Direction::descriptor()).c_str());
  });

  app.add_subcommand("version", "Print shakedown's version.")->callback([] { std::printf("shakedown %s\n", kVersion); });

  // "shakedown frobnicate": name the word and the commands there are, rather than
  // CLI11's "A subcommand is required".
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      std::fprintf(stderr, "shakedown: unknown command '%s'; the commands are %s (shakedown --help)\n", argv[1],
                   fmt::format("{}", fmt::join(names, ", ")).c_str());
      return kBadInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kBadInput;
  }

  try {
    if (compile_cmd->parsed()) return compile(co);
    if (diagram_cmd->parsed()) return diagram(dopt);
    if (test_cmd->parsed()) {
      if (!test_timeout.empty()) {
        try {
          topt.timeout_ns = test_timeout == "0" ? 0 : parse_duration(test_timeout).ns();
        } catch (const UnitError& e) {
          std::fprintf(stderr, "shakedown test: --timeout: %s\n", e.what());
          return kBadInput;
        }
      }
      return test_main(topt);
    }
    if (sweep_cmd->parsed()) return sweep_main(sopt);
    if (inspect_cmd->parsed()) return inspect(inspect_dir, inspect_conn);
    if (compare_cmd->parsed()) return compare(copt);
    if (cleanup_cmd->parsed()) {
      const std::vector<std::string> removed = CleanupNote::clean_up_after_dead_runs();
      for (const std::string& n : removed) std::printf("removed network namespace %s\n", n.c_str());
      if (removed.empty()) std::printf("nothing to remove\n");
      return kSuccess;
    }
    if (run_cmd->parsed()) {
      ro.check_memory = !skip_memory_check;
      if (!until.empty()) {
        try {
          ro.until_ns = parse_duration(until).ns();
        } catch (const UnitError& e) {
          std::fprintf(stderr, "shakedown run: --until: %s\n", e.what());
          return kBadInput;
        }
      }
      try {
        ro.behind_ns = parse_duration(behind).ns();
      } catch (const UnitError& e) {
        std::fprintf(stderr, "shakedown run: --behind: %s\n", e.what());
        return kBadInput;
      }
      if (!seed.empty()) {
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(seed.data(), seed.data() + seed.size(), v);
        if (ec != std::errc() || end != seed.data() + seed.size()) {
          std::fprintf(stderr, "shakedown run: --seed: expected a whole number, got '%s'\n", seed.c_str());
          return kBadInput;
        }
        ro.seed = v;
      }
      // Under mpirun the ranks write to pipes: `--ranks` says whether the terminal is one.
      const char* shown = std::getenv("SHAKEDOWN_PROGRESS");
      ro.progress = isatty(STDERR_FILENO) != 0 || (shown != nullptr && std::string_view(shown) == "1");
      ro.command = command_line(argc, argv);
      if (run_ranks > 0 && mpi == nullptr) return run_under_mpirun(argc, argv, run_ranks);
      if (run_ranks > 0 && static_cast<int>(run_ranks) != mpi->size()) {
        if (mpi->rank() == 0)
          std::fprintf(stderr, "shakedown run: --ranks %u, but the launcher started %d processes\n", run_ranks,
                       mpi->size());
        return kBadInput;
      }
      ro.mpi = mpi.get();
      const int code = run_experiment(ro);
      if (const char* file = std::getenv(kExitFileVariable); file != nullptr) {
        // Under --ranks, which exits with rank 0's code: from this file, not from
        // mpirun, which would end the others and say so for any code but 0.
        if (mpi->rank() == 0)
          if (std::FILE* f = std::fopen(file, "w")) {
            std::fprintf(f, "%d\n", code);
            std::fclose(f);
          }
        return kSuccess;
      }
      return code;
    }
  } catch (const topology::LoadError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kBadInput;
  }
  return kSuccess;
}

}  // namespace shakedown::controller
