#include "controller/run.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <limits>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "controller/build.h"
#include "emulator/bytes.h"
#include "controller/captures.h"
#include "controller/connections_csv.h"
#include "controller/cli.h"
#include "controller/distributed.h"
#include "controller/expectations.h"
#include "controller/mpi.h"
#include "controller/ns3_engine.h"
#include "controller/partition.h"
#include "controller/real_hosts.h"
#include "controller/recorder.h"
#include "controller/trace_stream.h"
#include "controller/resources.h"
#include "controller/report.h"
#include "controller/text.h"
#include "emulator/realtime.h"
#include "topologies/loader.h"
#include "topologies/validate.h"

namespace shakedown::controller {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_sigint(int) { g_interrupted = 1; }

class CollectErrors final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int at_line, int at_column, const std::string& what) override {
    if (!have) {
      have = true;
      line = at_line + 1;
      column = at_column + 1;
      message = what;
    }
  }
  bool have = false;
  int line = 0, column = 0;
  std::string message;
};

std::string fresh_folder(const std::string& name) {
  const std::string base = (name.empty() ? std::string("shakedown") : name) + "-run";
  if (!fs::exists(base)) return base;
  for (int i = 2;; ++i) {
    const std::string candidate = fmt::format("{}-{}", base, i);
    if (!fs::exists(candidate)) return candidate;
  }
}

// --pcap: which captures, and of which hosts.
struct CaptureChoice {
  bool on = false;
  Captures::Mode mode = Captures::Mode::hosts;
  std::vector<std::uint32_t> hosts;
  std::string note;  // why captures are off, when auto turned them off
};

constexpr std::size_t kAutoCaptureHosts = 64;
constexpr std::size_t kMaxCaptureFiles = 512;

CaptureChoice choose_captures(const std::string& pcap, const topology::Topology& topo) {
  CaptureChoice c;
  std::size_t hosts = 0;
  for (const auto& n : topo.nodes()) hosts += n.kind() == topology::Node::HOST ? 1 : 0;
  const auto link_count = static_cast<std::size_t>(topo.links_size());
  if (pcap == "none") return c;
  if (pcap == "auto") {
    if (hosts > kAutoCaptureHosts) {
      c.note = fmt::format("off ({} hosts; choose some with --pcap NAME,... or all with --pcap hosts)", hosts);
      return c;
    }
    c.on = true;
    return c;
  }
  c.on = true;
  if (pcap == "links") {
    c.mode = Captures::Mode::links;
    if (link_count > kMaxCaptureFiles)
      throw std::invalid_argument(fmt::format("--pcap links would write {} files, more than {}: choose hosts with "
                                              "--pcap NAME,NAME,...",
                                              link_count, kMaxCaptureFiles));
    return c;
  }
  if (pcap == "hosts") {
    if (hosts > kMaxCaptureFiles)
      throw std::invalid_argument(fmt::format(
          "--pcap hosts would write {} files, more than {}: choose hosts with --pcap NAME,NAME,...", hosts,
          kMaxCaptureFiles));
    return c;
  }
  std::stringstream in(pcap);
  for (std::string name; std::getline(in, name, ',');) {
    bool found = false;
    for (int n = 0; n < topo.nodes_size() && !found; ++n) {
      if (topo.nodes(n).name() != name) continue;
      if (topo.nodes(n).kind() != topology::Node::HOST)
        throw std::invalid_argument(fmt::format("--pcap: '{}' is a router, not a host", name));
      c.hosts.push_back(static_cast<std::uint32_t>(n));
      found = true;
    }
    if (!found)
      throw std::invalid_argument(fmt::format("--pcap: no host named '{}' (expected auto, hosts, links, none, or "
                                              "host names separated by commas)",
                                              name));
  }
  if (c.hosts.size() > kMaxCaptureFiles) throw std::invalid_argument("--pcap: too many hosts");
  return c;
}


// The progress line: on a terminal, rewritten in place about four times a second.
class Progress {
 public:
  Progress(bool on, std::FILE* err, std::optional<std::int64_t> until) : on_(on), err_(err), until_(until) {}
  // `events`: of every process of a distributed run (default: this engine's).
  // `note`: appended to the line (a real-time run falling behind says so).
  void update(const Engine& engine, const Recorder& recorder, double wall, std::uint64_t events = 0,
              std::string_view note = {}) {
    update(engine.now().ns(), events == 0 ? engine.events_executed() : events, recorder, wall, note);
  }
  // Another engine's clock and count (ns-3's).
  void update(std::int64_t now_ns, std::uint64_t events, const Recorder& recorder, double wall,
              std::string_view note = {}) {
    if (!on_ || wall - last_ < 0.25) return;
    last_ = wall;
    const double sim = static_cast<double>(now_ns) / 1e9;
    const double rate = wall > 0 ? static_cast<double>(events) / wall : 0;
    std::string eta;
    if (until_ && sim > 0) {
      const double left = (static_cast<double>(*until_) / 1e9 - sim) * wall / sim;
      eta = fmt::format(" | ETA {:.0f}s", std::max(0.0, left));
    }
    const std::size_t open = recorder.open_connections();
    std::fprintf(err_, "\r\033[K  sim %.3fs | wall %.1fs | %.2f M events/s | %zu open, %zu done%s%s", sim, wall,
                 rate / 1e6, open, recorder.connections().size() - open, eta.c_str(), std::string(note).c_str());
    std::fflush(err_);
    shown_ = true;
  }
  void clear() {
    if (shown_) std::fprintf(err_, "\r\033[K");
  }

 private:
  bool on_;
  std::FILE* err_;
  std::optional<std::int64_t> until_;
  double last_ = -1;
  bool shown_ = false;
};

}  // namespace

void request_interrupt() { g_interrupted = 1; }

// Ctrl-C during a run stops it cleanly; outside one, it does what it always did. Once a
// run has been interrupted, the handler stays until the next one: the process is on
// its way out, and a second, impatient press must not kill it halfway (while the
// network is torn down or the files closed); the next InterruptHandler takes over the
// handlers that were there before the first.
struct InterruptHandler::Saved {
  struct sigaction old_int {};
  struct sigaction old_term {};
};

namespace {
InterruptHandler::Saved* g_kept = nullptr;  // what an interrupted run did not restore
}  // namespace

InterruptHandler::InterruptHandler() : saved_(std::make_unique<Saved>()) {
  g_interrupted = 0;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  const bool kept = g_kept != nullptr;
  sigaction(SIGINT, &sa, kept ? nullptr : &saved_->old_int);
  sigaction(SIGTERM, &sa, kept ? nullptr : &saved_->old_term);
  if (kept) {
    *saved_ = *g_kept;
    delete g_kept;
    g_kept = nullptr;
  }
}

InterruptHandler::~InterruptHandler() {
  if (g_interrupted != 0) {
    delete g_kept;
    g_kept = new Saved(*saved_);
    return;
  }
  sigaction(SIGINT, &saved_->old_int, nullptr);
  sigaction(SIGTERM, &saved_->old_term, nullptr);
}

bool InterruptHandler::interrupted() { return g_interrupted != 0; }

topology::Topology load_topology(const std::string& path) {
  const auto ends_with = [&](std::string_view s) { return path.size() >= s.size() && path.ends_with(s); };
  if (!ends_with(".txtpb") && !ends_with(".pbtxt")) return topology::load_file(path);
  const std::string text = topology::read_topology_file(path);
  topology::Topology t;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &t))
    throw topology::LoadError(path, errors.line, errors.column, "",
                              "not a canonical topology (the text form `shakedown compile` prints): " + errors.message);
  // Not from the loader: held to the loader's rules before anything is built from it.
  topology::validate(t, path);
  return t;
}

namespace {

// Where what only rank 0 says goes on the other ranks.
class NullFile {
 public:
  NullFile() = default;
  ~NullFile() {
    if (f_ != nullptr) std::fclose(f_);
  }
  NullFile(const NullFile&) = delete;
  NullFile& operator=(const NullFile&) = delete;
  std::FILE* get() {
    if (f_ == nullptr) f_ = std::fopen("/dev/null", "w");
    return f_;
  }

 private:
  std::FILE* f_ = nullptr;
};

std::string rank_name(const Mpi& mpi) { return fmt::format("rank {} ({}): ", mpi.rank(), mpi.host()); }

// The worst of every rank's codes, on every rank.
int agree(const Mpi& mpi, int code) {
  std::vector<std::int64_t> v{code};
  mpi.max(v);
  return static_cast<int>(v[0]);
}

// What rank 0 of a distributed run sends every rank before anything is built: whether
// to go on (an exit code), and the topology, the run folder and the partition.
struct Plan {
  int code = kSuccess;
  topology::Topology topology;
  std::string dir;
  Partition partition;
};

std::string encode(const Plan& p) {
  using bytes::put;
  std::string out;
  put(out, static_cast<std::int32_t>(p.code));
  if (p.code != kSuccess) return out;
  const std::string topo = p.topology.SerializeAsString();
  put(out, static_cast<std::uint64_t>(topo.size()));
  out += topo;
  put(out, static_cast<std::uint64_t>(p.dir.size()));
  out += p.dir;
  put(out, p.partition.ranks);
  put(out, p.partition.lookahead.ns());
  for (const std::uint32_t r : p.partition.rank_of) put(out, r);
  return out;
}

Plan decode(const std::string& in) {
  using bytes::take;
  Plan p;
  const char* at = in.data();
  p.code = take<std::int32_t>(at);
  if (p.code != kSuccess) return p;
  auto n = take<std::uint64_t>(at);
  if (!p.topology.ParseFromArray(at, static_cast<int>(n))) throw std::runtime_error("the topology rank 0 sent does not parse");
  at += n;
  n = take<std::uint64_t>(at);
  p.dir.assign(at, n);
  at += n;
  p.partition.ranks = take<std::uint32_t>(at);
  p.partition.lookahead = Duration::nanoseconds(take<std::int64_t>(at));
  p.partition.rank_of.resize(static_cast<std::size_t>(p.topology.nodes_size()));
  for (std::uint32_t& r : p.partition.rank_of) r = take<std::uint32_t>(at);
  return p;
}

int run_part(const RunOptions& o, std::FILE* out, std::FILE* err);

// Rank 0's (or the only process's) part before anything is built: the file loaded and
// held to the machine's memory, the partition, the run folder made.
int load_and_plan(const RunOptions& o, Plan& plan, std::FILE* err) {
  topology::Topology& topo = plan.topology;
  try {
    topo = o.topology != nullptr ? *o.topology : load_topology(o.file);
  } catch (const topology::LoadError& e) {
    std::fprintf(err, "%s\n", e.what());
    return kBadInput;
  }
  if (o.seed) topo.set_seed(*o.seed);
  const int ranks = o.mpi != nullptr ? o.mpi->size() : 1;
  if (o.check_memory) {
    MemoryEstimate m = estimate_memory(topo);
    const bool on_ns3 = o.engine == "ns3";
    if (on_ns3) m.bytes = std::max(m.bytes, ns3_memory(m.hosts + m.routers, m.links, m.connections));
    // The ranks on this machine share its memory: their part of the run.
    if (ranks > 1) {
      const auto& hosts = o.mpi->hosts();
      const auto here = static_cast<std::uint64_t>(std::count(hosts.begin(), hosts.end(), o.mpi->host()));
      m.bytes = m.bytes / static_cast<std::uint64_t>(ranks) * std::max<std::uint64_t>(here, 1);
    }
    const std::uint64_t available = available_memory();
    if (available != 0 && m.bytes > available) {
      std::fprintf(err,
                   "shakedown run: %s needs about %s of memory%s (%llu hosts, %llu routers, %llu links, %llu "
                   "connections), more than the %s this machine has available; run it on a larger machine, "
                   "across several (distributed runs), or go ahead anyway with --skip-memory-check\n",
                   o.file.c_str(), pretty_bytes(m.bytes).c_str(), on_ns3 ? " on ns-3" : "", static_cast<unsigned long long>(m.hosts),
                   static_cast<unsigned long long>(m.routers), static_cast<unsigned long long>(m.links),
                   static_cast<unsigned long long>(m.connections), pretty_bytes(available).c_str());
      return kBadInput;
    }
  }
  if (ranks > 1) {
    try {
      plan.partition = partition(topo, static_cast<std::uint32_t>(ranks));
    } catch (const PartitionError& e) {
      std::fprintf(err, "shakedown run: %s cannot be split over %d processes: %s\n", o.file.c_str(), ranks, e.what());
      return kBadInput;
    }
  }
  const fs::path dir = o.out.empty() ? fs::path(fresh_folder(topo.name())) : fs::path(o.out);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(err, "shakedown run: cannot create %s: %s\n", dir.string().c_str(), ec.message().c_str());
    return kBadInput;
  }
  plan.dir = dir.string();
  return kSuccess;
}

}  // namespace

int run_experiment(const RunOptions& o, std::FILE* out, std::FILE* err) {
  if (o.mpi == nullptr || o.mpi->size() <= 1) return run_part(o, out, err);
  // Every rank ends with rank 0's exit code. A rank that fails on its own (an error
  // the others cannot see coming) ends them all rather than leave them waiting.
  int code = kRunFailed;
  try {
    code = run_part(o, out, err);
  } catch (const PeerLost& e) {
    // Before or after the run itself (which writes what it has): nothing to write.
    if (o.mpi->rank() == 0) std::fprintf(err, "shakedown run: %s; the run failed\n", e.what());
    return kRunFailed;
  } catch (const std::exception& e) {
    std::fprintf(err, "shakedown run: rank %d (%s): %s\n", o.mpi->rank(), o.mpi->host().c_str(), e.what());
    std::fflush(err);
    o.mpi->abort(kRunFailed);
  }
  if (o.mpi->lost()) return code;
  std::vector<std::int64_t> agreed{o.mpi->rank() == 0 ? code : std::numeric_limits<std::int64_t>::min()};
  try {
    o.mpi->max(agreed);
  } catch (const PeerLost&) {
    return code;
  }
  return static_cast<int>(agreed[0]);
}

namespace {

int run_part(const RunOptions& o, std::FILE* out, std::FILE* err) {
  const bool distributed = o.mpi != nullptr && o.mpi->size() > 1;
  const bool lead = !distributed || o.mpi->rank() == 0;
  // What every rank would say alike (a bad option, a bad file) only rank 0 says.
  NullFile null_file;
  std::FILE* own_err = err;
  if (!lead) {
    out = null_file.get();
    err = null_file.get();
  }
  // From the start until every file is written: a Ctrl-C while the network is built
  // stops the run before its first event, and one while the files are written (a
  // second, impatient one) must not kill the process halfway through them.
  std::optional<InterruptHandler> handler;
  if (o.handle_signals) handler.emplace();
  const auto wall_start = std::chrono::steady_clock::now();
  const auto wall = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  };
  std::uint32_t kinds = 0;
  try {
    kinds = parse_event_kinds(o.events);
  } catch (const std::invalid_argument& e) {
    std::fprintf(err, "shakedown run: --events: %s\n", e.what());
    return kBadInput;
  }
  if (o.realtime && distributed) {
    std::fprintf(err, "shakedown run: --realtime runs in one process; run it without mpirun or --ranks\n");
    return kBadInput;
  }
  const bool ns3 = o.engine == "ns3";
  if (o.engine != "shakedown" && !ns3) {
    std::fprintf(err, "shakedown run: --engine: unknown engine '%s'; expected shakedown or ns3\n", o.engine.c_str());
    return kBadInput;
  }
  if (ns3 && (distributed || o.realtime)) {
    std::fprintf(err, "shakedown run: --engine ns3 runs in one process in virtual time; run it without %s\n",
                 o.realtime ? "--realtime" : "mpirun or --ranks");
    return kBadInput;
  }
  if (o.realtime && o.behind_ns <= 0) {
    std::fprintf(err, "shakedown run: --behind must be more than zero\n");
    return kBadInput;
  }
  if (o.until_ns && (*o.until_ns <= 0 || *o.until_ns > topology::kMaxHorizonNs)) {
    std::fprintf(err, "shakedown run: --until must be more than zero and at most %s\n",
                 to_string(Duration::nanoseconds(topology::kMaxHorizonNs)).c_str());
    return kBadInput;
  }

  Plan plan;
  topology::Topology& topo = plan.topology;
  if (lead) plan.code = load_and_plan(o, plan, err);
  if (distributed) {
    std::string bytes = lead ? encode(plan) : std::string();
    o.mpi->broadcast(bytes);
    if (!lead) plan = decode(bytes);
  }
  if (plan.code != kSuccess) return plan.code;
  if (ns3) {
    const std::vector<std::string> refused = ns3_refusals(topo);
    if (!refused.empty()) {
      std::string lines;
      for (const std::string& r : refused) lines += "  " + r + "\n";
      std::fprintf(err, "shakedown run: %s cannot run on ns-3 (docs/ns3.md); it asks for:\n%s", o.file.c_str(),
                   lines.c_str());
      return kBadInput;
    }
  }
  const std::vector<std::uint32_t> real = real_hosts(topo);
  if (!real.empty()) {
    const std::string first = topo.nodes(static_cast<int>(real.front())).name();
    if (!o.realtime) {
      std::fprintf(err, "shakedown run: %s: '%s' is a real host, which lives in real time: run with --realtime\n",
                   o.file.c_str(), first.c_str());
      return kBadInput;
    }
    if (const std::string missing = real_hosts_missing(); !missing.empty()) {
      std::fprintf(err, "shakedown run: %s: '%s' is a real host, which needs %s\n", o.file.c_str(), first.c_str(),
                   missing.c_str());
      return kBadInput;
    }
  }
  // --until, else the file's run.until, else until nothing is left to do.
  const std::optional<std::int64_t> until_ns =
      o.until_ns ? o.until_ns : topo.until_ns() > 0 ? std::optional<std::int64_t>(topo.until_ns()) : std::nullopt;

  const fs::path dir = plan.dir;

  Engine engine;
  PacketPool pool;
  // The packet observers: the recorder's drops and the captures; in a distributed run
  // those are rank 0's, fed by the merger, and every rank's components report to the
  // shipper (trace_stream.h).
  ObserverList observers;
  ObserverList merged_packets;
  std::optional<Built> built;
  std::optional<Recorder> recorder;
  std::optional<Captures> captures;
  std::optional<Distributed> dist;
  std::optional<TraceShipper> shipper;
  std::optional<TraceMerger> merger;
  // Recording where the hosts run (trace_stream.h), when only the table is wanted.
  std::optional<Recorder> local_recorder;
  std::optional<LocalRecording> local_recording;
  CaptureChoice capture;
  int built_code = kSuccess;
  try {
    capture = choose_captures(o.pcap, topo);
    if (ns3 && capture.on && capture.mode != Captures::Mode::hosts)
      throw std::invalid_argument("--engine ns3 writes captures per host (ns-3's own); not --pcap links");
    // Packet events cost a call per packet per hop: ask for them only when a sink
    // wants them (drop events, captures). The summary's drop counts come from the
    // counters every link, router and host keeps.
    const bool packet_events = !ns3 && ((kinds & kEventDrop) != 0 || capture.on);
    if (distributed) dist.emplace(*o.mpi, engine, pool, plan.partition);
    built.emplace(engine, pool, topo, packet_events ? &observers : nullptr, (kinds & kEventTimer) != 0,
                  dist ? &dist->here() : nullptr);
    const bool record_here = dist && kinds == 0 && !needs(topo).seen;
    if (dist) {
      dist->wire(*built, topo);
      shipper.emplace(engine, capture.on, record_here ? ReportNeeds{} : report_needs(kinds, needs(topo).seen));
      if (record_here) {
        local_recorder.emplace(topo, built->network, std::string(), 0);
        local_recorder->keep_open_order();
        local_recorder->sides_alone();
        prepare(*local_recorder, topo);
        built->network.set_tcp_observer(&local_recording.emplace(*local_recorder, *shipper));
      } else {
        built->network.set_tcp_observer(&*shipper);
      }
      if (packet_events) observers.add(*shipper);
    }
    if (lead) {
      recorder.emplace(topo, built->network, kinds != 0 ? (dir / "events.jsonl").string() : std::string(), kinds,
                       o.keep_events && o.report != nullptr);
      prepare(*recorder, topo);
      if (local_recorder) recorder->keep_open_order();
      ObserverList& packets = dist ? merged_packets : observers;
      if ((kinds & kEventDrop) != 0) packets.add(*recorder);
      if (dist) {
        merger.emplace(*recorder, merged_packets);
      } else {
        built->network.set_tcp_observer(&*recorder);
      }
    }
  } catch (const BuildError& e) {
    // The canonical form names its pieces; say which file they are in.
    std::fprintf(err, "%s: %s\n", o.file.c_str(), e.what());
    built_code = kBadInput;
  } catch (const std::invalid_argument& e) {
    std::fprintf(err, "shakedown run: %s\n", e.what());
    built_code = kBadInput;
  } catch (const std::exception& e) {
    std::fprintf(own_err, "shakedown run: %s%s\n", distributed ? rank_name(*o.mpi).c_str() : "", e.what());
    built_code = kRunFailed;
  }
  if (distributed) built_code = agree(*o.mpi, built_code);
  if (built_code != kSuccess) return built_code;
  if (lead) {
    try {
      // A folder reused for another run must not keep files this run does not write.
      if (kinds == 0) fs::remove(dir / "events.jsonl");
      if (!capture.on) fs::remove_all(dir / "pcap");
      if (capture.on) {
        fs::remove_all(dir / "pcap");
        fs::create_directories(dir / "pcap");
      }
      if (capture.on && !ns3) {
        captures.emplace(topo, built->network, (dir / "pcap").string(), capture.mode, capture.hosts);
        (dist ? merged_packets : observers).add(*captures);
      }
      std::string canonical;
      google::protobuf::TextFormat::PrintToString(topo, &canonical);
      write_file(dir / "topology.txtpb", canonical);
      write_file(dir / "command.txt", o.command.empty() ? std::string("shakedown run ") + o.file + "\n" : o.command + "\n");
    } catch (const std::exception& e) {
      std::fprintf(err, "shakedown run: %s\n", e.what());
      built_code = kRunFailed;
    }
  }
  if (distributed) built_code = agree(*o.mpi, built_code);
  if (built_code != kSuccess) return built_code;
  if (!o.quiet && !o.json)
    std::fprintf(out, "shakedown run: %s (seed %llu) -> %s\n", topo.name().empty() ? o.file.c_str() : topo.name().c_str(),
                 static_cast<unsigned long long>(topo.seed()), dir.string().c_str());

  // The run, in slices of events: between slices the progress line moves and Ctrl-C
  // is honoured. The slices change nothing of what runs, or in which order.
  // Without a stop time a run still ends at the horizon: keepalives or a connection
  // nobody closes would otherwise go on for ever.
  const TimePoint limit = TimePoint::zero() + Duration::nanoseconds(until_ns ? *until_ns : topology::kDefaultHorizonNs);
  constexpr std::uint64_t kSlice = 1u << 16;
  Progress progress(o.progress && !o.quiet, err, until_ns);
  bool interrupted = false;
  bool lost = false;  // a distributed run's process stopped answering
  int code = kSuccess;
  std::optional<Lateness> lateness;  // a real-time run's
  std::optional<Ns3Result> on_ns3;
  if (ns3) {
    try {
      RealSide sides(*recorder);
      sides.ends_reported_by_the_stack();
      on_ns3 = run_ns3(topo, built->network, built->workloads, sides, limit.ns(), !until_ns,
                       capture.on ? (dir / "pcap").string() : std::string(), capture.hosts,
                       [&](std::int64_t now_ns, std::uint64_t ns3_events) {
                         progress.update(now_ns, ns3_events, *recorder, wall());
                         return g_interrupted == 0;
                       });
      progress.clear();
      interrupted = on_ns3->interrupted;
    } catch (const std::exception& e) {
      std::fprintf(err, "shakedown run: the ns-3 run failed: %s\n", e.what());
      code = kRunFailed;
    }
  } else if (dist) {
    // Windows until nothing is left anywhere; Ctrl-C anywhere stops every rank at the
    // same window. A failure here is this rank's alone: it ends the run (run_experiment).
    try {
      while (dist->step(limit, g_interrupted != 0, *shipper, merger ? &*merger : nullptr))
        if (lead) progress.update(engine, *recorder, wall(), dist->events_everywhere());
      interrupted = dist->stopped();
    } catch (const PeerLost&) {
      // Stopped, and another process gone (mpi.h): rank 0 writes what it has.
      interrupted = lost = true;
    }
    progress.clear();
  } else if (o.realtime) {
    // The wall clock decides when each event runs; the run ends when nothing is left
    // to do, at the stop time, or on Ctrl-C.
    RealtimeDriver driver(engine, Duration::nanoseconds(o.behind_ns));
    std::optional<RealSide> real_sides;
    std::optional<RealHosts> real_hosts_here;
    if (!real.empty()) {
      try {
        real_hosts_here.emplace(topo, built->network, pool, driver, engine, &real_sides.emplace(*recorder));
      } catch (const std::exception& e) {
        std::fprintf(err, "shakedown run: %s\n", e.what());
        return kRunFailed;
      }
      if (!o.quiet && !o.json)
        for (const std::string& line : real_hosts_here->describe())
          std::fprintf(out, "  %-16s%s\n", "real host", line.c_str());
      std::fflush(out);
    }
    driver.on_tick(Duration::milliseconds(50), [&] {
      if (g_interrupted != 0) return false;
      progress.update(engine, *recorder, wall(), 0, driver.behind_lately() ? " | falling behind" : "");
      return true;
    });
    try {
      // With real hosts attached the run goes on until --until or Ctrl-C: the real
      // programs may start something at any moment.
      const RealtimeDriver::Ended ended = driver.run(limit, /*stop_when_idle=*/real.empty());
      interrupted = ended == RealtimeDriver::Ended::kStopped && g_interrupted != 0;
    } catch (const std::exception& e) {
      progress.clear();
      std::fprintf(err, "shakedown run: the run failed at %s: %s\n", to_string(engine.now()).c_str(), e.what());
      code = kRunFailed;
    }
    progress.clear();
    lateness = driver.lateness();
  } else {
    try {
      while (engine.events_pending() > 0 && engine.next_event_time() <= limit) {
        if (g_interrupted != 0) {
          interrupted = true;
          break;
        }
        engine.run_slice(limit, kSlice);
        progress.update(engine, *recorder, wall());
      }
    } catch (const std::exception& e) {
      progress.clear();
      std::fprintf(err, "shakedown run: the run failed at %s simulated: %s\n", to_string(engine.now()).c_str(),
                   e.what());
      code = kRunFailed;
    }
    progress.clear();
  }
  if (until_ns && !interrupted && code == kSuccess && !ns3) engine.run_until(limit);
  bool at_horizon = !until_ns && !interrupted && code == kSuccess && engine.events_pending() > 0;
  TimePoint simulated = engine.now();
  std::uint64_t events = engine.events_executed();
  if (ns3) {
    at_horizon = !until_ns && !interrupted && on_ns3 && on_ns3->stopped_at_limit;
    simulated = TimePoint::from_ns(on_ns3 ? on_ns3->last_ns : 0);
    events = on_ns3 ? on_ns3->events : 0;
  }
  nlohmann::ordered_json ranks;
  if (dist) {
    try {
      if (!lost) {
        // Events left anywhere; every rank's counters added up into rank 0's.
        std::vector<std::int64_t> next{engine.next_event_time().ns()};
        o.mpi->min(next);
        at_horizon = !until_ns && !interrupted && next[0] != TimePoint::max().ns();
        const Distributed::Totals totals = dist->add_up(*built);
        if (local_recorder) dist->gather_sides(*local_recorder, lead ? &*recorder : nullptr);
        events = totals.events;
        simulated = (until_ns && !interrupted) || at_horizon ? limit : totals.last_event;
        ranks = dist->rank_stats(wall());
      }
    } catch (const PeerLost&) {
      interrupted = lost = true;
    }
    if (lost) {
      // What this process ran and recorded: every rank's traces up to the last window
      // merged, and its own hosts' sides; the counters are its own nodes' alone.
      at_horizon = false;
      simulated = engine.now();
      if (lead && local_recorder) dist->keep_own_sides(*local_recorder, *recorder);
    }
    if (!lead) return lost ? kRunFailed : kSuccess;
  }

  // Whatever happened, everything produced so far is written out whole.
  Summary summary = summarize(*recorder, built->network);
  summary.name = topo.name();
  summary.seed = topo.seed();
  summary.simulated_ns = simulated.ns();
  summary.events = events;
  summary.wall_seconds = wall();
  summary.interrupted = interrupted;
  summary.process_lost = lost;
  if (on_ns3)
    for (std::size_t r = 0; r < summary.drops.size(); ++r) summary.drops[r] += on_ns3->drops[r];
  for (int w = 0; w < topo.workloads_size(); ++w) summary.not_started += built->workloads.stats(static_cast<std::size_t>(w)).not_started;
  const std::vector<ExpectationResult> expectations = evaluate(topo, *recorder, built->network, summary, dir.string());
  nlohmann::ordered_json summary_json = summary.to_json();
  if (ns3) summary_json["engine"] = "ns3";  // a shakedown run's summary.json is as it always was
  if (!expectations.empty()) summary_json["expectations"] = to_json(expectations);
  if (lateness) {
    // Unlike the rest of summary.json, these depend on the machine and the moment.
    nlohmann::ordered_json& r = summary_json["realtime"];
    r["events"] = lateness->events;
    r["lateness_p50_ns"] = lateness->p50.ns();
    r["lateness_p99_ns"] = lateness->p99.ns();
    r["lateness_max_ns"] = lateness->max.ns();
    r["behind_threshold_ns"] = lateness->threshold.ns();
    r["events_behind"] = lateness->behind;
  }
  try {
    recorder->flush();
    if (captures) captures->flush();
    write_connections_csv((dir / "connections.csv").string(), recorder->connections(), recorder->names());
    write_file(dir / "summary.json", summary_json.dump(2) + "\n");
    nlohmann::ordered_json timing;
    timing["wall_seconds"] = summary.wall_seconds;
    timing["events_per_second"] =
        summary.wall_seconds > 0 ? static_cast<double>(summary.events) / summary.wall_seconds : 0.0;
    if (dist) {
      timing["lookahead_ns"] = dist->window().ns();
      if (!lost) timing["ranks"] = ranks;
    }
    write_file(dir / "timing.json", timing.dump(2) + "\n");
  } catch (const std::exception& e) {
    std::fprintf(err, "shakedown run: %s\n", e.what());
    return kRunFailed;
  }

  if (o.json) {
    nlohmann::ordered_json j = summary_json;
    j["out"] = dir.string();
    j["wall_seconds"] = summary.wall_seconds;
    std::fprintf(out, "%s\n", j.dump(2).c_str());
  } else if (!o.quiet) {
    std::fprintf(out, "%s", summary.human().c_str());
    if (lateness)
      std::fprintf(out, "  %-16slateness p50 %s, p99 %s, max %s; %llu of %llu events later than %s\n", "real time",
                   to_string(lateness->p50).c_str(), to_string(lateness->p99).c_str(),
                   to_string(lateness->max).c_str(), static_cast<unsigned long long>(lateness->behind),
                   static_cast<unsigned long long>(lateness->events), to_string(lateness->threshold).c_str());
    std::string files = "summary.json, connections.csv";
    if (kinds != 0) files += fmt::format(", events.jsonl ({} lines)", recorder->events_written());
    if (captures) files += fmt::format(", pcap/ ({} files)", captures->files());
    if (on_ns3 && capture.on) files += fmt::format(", pcap/ ({} files, ns-3's)", on_ns3->pcap_files);
    files += ", topology.txtpb, command.txt";
    std::fprintf(out, "  %-16s%s\n", "wrote", files.c_str());
    if (dist && !lost) {
      std::fprintf(out, "  %-16s%s (timing.json)\n", "processes", dist->rank_line(ranks).c_str());
      // With events written (or an expectation on what a host sees) rank 0 records
      // every report: when that is a large share of its time, every other rank waits
      // it out, and the user should know the way round it.
      const double merging = ranks[0]["trace_merge_seconds"].get<double>();
      if (!local_recorder && merging > 0.25 * (merging + ranks[0]["run_seconds"].get<double>()))
        std::fprintf(out,
                     "  %-16srank 0 spent %.2fs recording every rank's reports; with --events none (and no "
                     "expectation on what a host sees) each process records its own hosts (docs/distributed.md)\n",
                     "", merging);
    }
    if (!capture.note.empty()) std::fprintf(out, "  %-16s%s\n", "captures", capture.note.c_str());
    if ((kinds & kEventSegment) != 0 && !recorder->connections().empty())
      std::fprintf(out, "  %-16sshakedown diagram %s --conn 1   (the ladder of connection 1)\n", "pictures",
                   dir.string().c_str());
    std::fprintf(out, "%s", human(expectations).c_str());
  }
  if (o.report != nullptr) {
    o.report->dir = dir.string();
    o.report->name = topo.name();
    o.report->expectations = expectations;
    o.report->summary = summary_json;
    o.report->connections = recorder->take_connections();
    o.report->names = recorder->names();
    o.report->events = recorder->take_events();
  }
  if (at_horizon)
    std::fprintf(err,
                 "shakedown run: stopped at the horizon of %s simulated with events still due (a keepalive, a "
                 "connection nobody closes); give run: {until: ...} for a longer run\n",
                 to_string(Duration::nanoseconds(topology::kDefaultHorizonNs)).c_str());
  if (lost) {
    std::fprintf(err,
                 "shakedown run: another process of the run stopped answering (the launcher's message names it); "
                 "the files hold what rank 0 had at %s simulated: every rank's events and connections up to "
                 "then%s, and its own nodes' counters (drops, bytes) alone\n",
                 to_string(simulated).c_str(),
                 local_recorder ? " (other ranks' hosts' sides as their first and last reports left them)" : "");
    return kRunFailed;
  }
  if (interrupted) {
    std::fprintf(err, "shakedown run: interrupted at %s simulated; the files hold everything up to then\n",
                 to_string(simulated).c_str());
    return kRunFailed;
  }
  // Wrong bytes are a failed run, unless the file expects them (an expectation on
  // bytes.wrong: the TIME_WAIT example wants to show an old segment accepted).
  if (summary.bytes_wrong > 0 && !needs(topo).wrong_bytes) {
    std::fprintf(err, "shakedown run: %llu received payload bytes differ from what was sent\n",
                 static_cast<unsigned long long>(summary.bytes_wrong));
    return kRunFailed;
  }
  if (code == kSuccess &&
      std::any_of(expectations.begin(), expectations.end(), [](const ExpectationResult& r) { return !r.passed; }))
    return kExpectationFailed;
  return code;
}

}  // namespace

}  // namespace shakedown::controller
