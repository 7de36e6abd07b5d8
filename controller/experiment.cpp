#include "controller/experiment.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <google/protobuf/text_format.h>

#include "controller/cli.h"
#include "controller/connections_csv.h"
#include "controller/run.h"
#include "controller/text.h"
#include "topologies/loader.h"

namespace shakedown {

namespace fs = std::filesystem;

namespace {

std::optional<Duration> as_time(std::int64_t ns) {
  if (ns == controller::kNever) return std::nullopt;
  return Duration::nanoseconds(ns);
}

}  // namespace

std::optional<std::int64_t> ConnectionRecord::number(const std::string& column) const {
  const auto it = columns.find(column);
  if (it == columns.end()) throw std::out_of_range(fmt::format("connections.csv has no column '{}'", column));
  if (it->second.empty()) return std::nullopt;
  return std::stoll(it->second);
}

std::optional<Duration> ConnectionRecord::time(const std::string& column) const {
  const auto n = number(column);
  if (!n) return std::nullopt;
  return Duration::nanoseconds(*n);
}

const ConnectionRecord& Results::connection(std::uint64_t id) const {
  if (id == 0 || id > connections_.size())
    throw std::out_of_range(fmt::format("no connection {}: the run has {}", id, connections_.size()));
  return connections_[id - 1];
}

std::vector<const ConnectionRecord*> Results::connections_between(const std::string& client,
                                                                  const std::string& server) const {
  std::vector<const ConnectionRecord*> out;
  for (const auto& c : connections_)
    if (c.client == client && c.server == server && c.columns.at("client_isn").size() > 0) out.push_back(&c);
  return out;
}

std::vector<TraceEvent> Results::events(std::string_view ev, std::optional<std::uint64_t> conn) const {
  std::vector<TraceEvent> out;
  if (names_ == nullptr) {  // read back from events.jsonl
    for (const TraceEvent& e : read_events_)
      if ((!conn || e.conn == conn) && (ev.empty() || e.ev == ev)) out.push_back(e);
    return out;
  }
  fmt::memory_buffer line;
  for (const controller::TraceRecord& r : events_) {
    if (conn && r.conn != *conn) continue;
    if (!ev.empty() && controller::to_string(r.kind) != ev) continue;
    line.clear();
    controller::format_record(line, r, *names_);
    TraceEvent e;
    e.line = nlohmann::json::parse(std::string_view(line.data(), line.size()));
    e.t_ns = r.t;
    e.host = names_->node(r.host);
    if (r.conn != 0) e.conn = r.conn;
    e.ev = std::string(controller::to_string(r.kind));
    out.push_back(std::move(e));
  }
  return out;
}

std::string Results::state_at(std::uint64_t conn, int side, Duration t) const {
  const ConnectionRecord& c = connection(conn);
  const std::string& host = side == 0 ? c.client : c.server;
  std::string state = "CLOSED";
  for (const auto& e : events("state", conn)) {
    if (e.host != host) continue;
    if (e.t_ns > t.ns()) break;
    state = e.line["to"].get<std::string>();
  }
  return state;
}

Experiment Experiment::from_file(const std::string& path) { return Experiment(controller::load_topology(path)); }

Experiment Experiment::from_yaml(std::string_view yaml, const std::string& name) {
  return Experiment(topology::load_string(yaml, name));
}

Experiment& Experiment::seed(std::uint64_t seed) {
  seed_ = seed;
  return *this;
}
Experiment& Experiment::until(Duration t) {
  until_ = t;
  return *this;
}
Experiment& Experiment::events(std::string kinds) {
  events_ = std::move(kinds);
  return *this;
}
Experiment& Experiment::captures(std::string what) {
  captures_ = std::move(what);
  return *this;
}
Experiment& Experiment::out(std::string dir) {
  out_ = std::move(dir);
  return *this;
}

Experiment& Experiment::ranks(std::uint32_t n) {
  ranks_ = n;
  return *this;
}

Experiment& Experiment::engine(std::string name) {
  engine_ = std::move(name);
  return *this;
}

Results Experiment::run() const {
  static std::atomic<std::uint64_t> runs{0};
  controller::RunOptions o;
  o.topology = &topology_;
  o.file = topology_.name().empty() ? "<topology>" : topology_.name();
  o.out = out_.empty() ? (fs::temp_directory_path() / fmt::format("shakedown-{}-{}-{}", topology_.name(), getpid(), ++runs)).string()
                       : out_;
  if (ranks_ > 0) {
    Results r = run_across_processes(o.out);
    if (out_.empty())
      r.temporary_ = std::shared_ptr<void>(nullptr, [dir = o.out](void*) {
        std::error_code ec;
        fs::remove_all(dir, ec);
        fs::remove(dir + ".txtpb", ec);
      });
    return r;
  }
  o.seed = seed_;
  if (until_) o.until_ns = until_->ns();
  o.events = events_;
  o.pcap = captures_;
  o.quiet = true;
  o.engine = engine_;
  o.handle_signals = false;
  controller::RunReport report;
  o.report = &report;
  o.keep_events = true;
  std::FILE* sink = std::tmpfile();
  std::FILE* errors = std::tmpfile();
  Results r;
  r.exit_code_ = controller::run_experiment(o, sink != nullptr ? sink : stdout, errors != nullptr ? errors : stderr);
  if (errors != nullptr) {
    r.errors_ = controller::read_back(errors);
    std::fclose(errors);
  }
  if (sink != nullptr) std::fclose(sink);
  r.dir_ = o.out;
  if (out_.empty())
    r.temporary_ = std::shared_ptr<void>(nullptr, [dir = o.out](void*) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    });
  r.expectations_ = report.expectations;
  if (r.exit_code_ == 2) return r;
  r.summary_ = report.summary;
  r.names_ = std::make_shared<const controller::TraceNames>(std::move(report.names));
  r.events_ = std::move(report.events);
  const std::vector<std::string>& columns = controller::connection_columns();
  for (const controller::ConnectionRow& row : report.connections) {
    const std::vector<std::string> fields = controller::connection_fields(row, *r.names_);
    ConnectionRecord c;
    for (std::size_t i = 0; i < columns.size(); ++i) c.columns[columns[i]] = fields[i];
    c.id = row.id;
    c.outcome = std::string(controller::to_string(row.outcome()));
    c.client = c.columns["client"];
    c.server = c.columns["server"];
    c.client_address = c.columns["client_address"];
    c.server_address = c.columns["server_address"];
    c.handshake = as_time(row.handshake());
    c.teardown = as_time(row.teardown());
    r.connections_.push_back(std::move(c));
  }
  return r;
}

// `shakedown run FILE.txtpb --ranks N` as a child, its canonical topology written beside
// the run's folder; the results read back from the folder (summary.json,
// connections.csv, events.jsonl) and its --json output (the expectations).
Results Experiment::run_across_processes(const std::string& dir) const {
  Results r;
  r.dir_ = dir;
  const std::string file = dir + ".txtpb";
  {
    std::string text;
    google::protobuf::TextFormat::PrintToString(topology_, &text);
    std::ofstream f(file, std::ios::binary);
    f << text;
    if (!f) {
      r.exit_code_ = controller::kRunFailed;
      r.errors_ = fmt::format("cannot write {}", file);
      return r;
    }
  }
  const char* env = std::getenv("SHAKEDOWN_BIN");
  const std::string program = env != nullptr && *env != '\0' ? env : "shakedown";
  std::vector<std::string> args = {program, "run",    file,   "--out", dir,    "--ranks", std::to_string(ranks_),
                                   "--json", "--quiet", "--events", events_, "--pcap", captures_};
  if (seed_) args.insert(args.end(), {"--seed", std::to_string(*seed_)});
  if (until_) args.insert(args.end(), {"--until", fmt::format("{}ns", until_->ns())});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::FILE* sink = std::tmpfile();
  std::FILE* errors = std::tmpfile();
  if (sink == nullptr || errors == nullptr) {
    if (sink != nullptr) std::fclose(sink);
    if (errors != nullptr) std::fclose(errors);
    r.exit_code_ = controller::kRunFailed;
    r.errors_ = fmt::format("cannot create a temporary file: {}", std::strerror(errno));
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fileno(sink), 1);
  posix_spawn_file_actions_adddup2(&actions, fileno(errors), 2);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  if (spawned != 0) {
    r.exit_code_ = controller::kRunFailed;
    r.errors_ = fmt::format("cannot start {} (set SHAKEDOWN_BIN to the shakedown program): {}", program,
                            std::strerror(spawned));
  } else {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : controller::kRunFailed;
    r.errors_ = controller::read_back(errors);
    if (WIFSIGNALED(status)) r.errors_ += fmt::format("the run was killed by signal {}\n", WTERMSIG(status));
  }
  const auto said = nlohmann::json::parse(controller::read_back(sink), nullptr, /*allow_exceptions=*/false);
  std::fclose(sink);
  std::fclose(errors);
  if (!said.is_discarded() && said.contains("expectations"))
    r.expectations_ = controller::expectations_from_json(said["expectations"]);
  if (r.exit_code_ == controller::kBadInput || spawned != 0) return r;
  std::ifstream summary(fs::path(dir) / "summary.json");
  r.summary_ = nlohmann::json::parse(summary, nullptr, /*allow_exceptions=*/false);
  if (r.summary_.is_discarded()) r.summary_ = nlohmann::json();
  // connections.csv: a header, then one row per connection; no field holds a comma.
  std::ifstream csv(fs::path(dir) / "connections.csv");
  std::string line;
  std::vector<std::string> header;
  const auto split = [](const std::string& l) {
    std::vector<std::string> out(1);
    for (const char ch : l) {
      if (ch == ',') {
        out.emplace_back();
      } else {
        out.back().push_back(ch);
      }
    }
    return out;
  };
  if (std::getline(csv, line)) header = split(line);
  while (std::getline(csv, line)) {
    const std::vector<std::string> fields = split(line);
    ConnectionRecord c;
    for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) c.columns[header[i]] = fields[i];
    c.id = std::stoull(c.columns["id"]);
    c.outcome = c.columns["outcome"];
    c.client = c.columns["client"];
    c.server = c.columns["server"];
    c.client_address = c.columns["client_address"];
    c.server_address = c.columns["server_address"];
    c.handshake = c.time("handshake_ns");
    c.teardown = c.time("teardown_ns");
    r.connections_.push_back(std::move(c));
  }
  std::ifstream events(fs::path(dir) / "events.jsonl");
  while (std::getline(events, line)) {
    TraceEvent e;
    e.line = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (e.line.is_discarded()) continue;
    e.t_ns = e.line.value("t", std::int64_t{0});
    e.host = e.line.value("host", "");
    if (e.line.contains("conn") && e.line["conn"].is_number_unsigned() && e.line["conn"].get<std::uint64_t>() != 0)
      e.conn = e.line["conn"].get<std::uint64_t>();
    e.ev = e.line.value("ev", "");
    r.read_events_.push_back(std::move(e));
  }
  return r;
}

// --- the builder ------------------------------------------------------------------------

TopologyBuilder::TopologyBuilder(std::string name) : assembler_(name) { yaml_.name = std::move(name); }

TopologyBuilder& TopologyBuilder::seed(std::uint64_t seed) {
  assembler_.seed(seed);
  yaml_.seed = seed;
  return *this;
}
TopologyBuilder& TopologyBuilder::tcp(std::string settings) {
  yaml_.tcp = settings;
  assembler_.default_tcp(std::move(settings));
  return *this;
}
TopologyBuilder& TopologyBuilder::host(const std::string& name) { return hosts(name); }
TopologyBuilder& TopologyBuilder::hosts(const std::string& range) {
  assembler_.hosts(range);
  yaml_.hosts.push_back(range);
  return *this;
}
TopologyBuilder& TopologyBuilder::router(const std::string& name) {
  assembler_.router(name);
  yaml_.routers.push_back(name);
  return *this;
}

TopologyBuilder& TopologyBuilder::link(const std::string& a, const std::string& b, const Link& s) {
  // The typed settings go straight into the canonical form; `more` is read as a file's
  // link keys over them.
  topology::Direction d;
  std::vector<std::string> set = {"delay_ns"};
  d.set_delay_ns(s.delay.ns());
  std::string text = fmt::format("{{ends: [\"{}\", \"{}\"], delay: {}", a, b, to_string(s.delay));
  if (s.jitter > Duration::zero()) {
    d.set_jitter_ns(s.jitter.ns());
    set.emplace_back("jitter_ns");
    text += fmt::format(", jitter: {}", to_string(s.jitter));
  }
  if (s.loss_percent > 0) {
    // As the file's "5%" is read: exactly.
    d.mutable_random_loss()->set_probability(parse_percent(fmt::format("{}%", s.loss_percent)).fraction());
    set.emplace_back("random_loss");
    text += fmt::format(", loss: {}%", s.loss_percent);
  }
  if (!s.rate.empty()) {
    d.set_rate_bps(parse_rate(s.rate).bits_per_second());
    set.emplace_back("rate_bps");
    text += fmt::format(", rate: {}", s.rate);
  }
  if (!s.more.empty()) text += ", " + s.more;
  assembler_.link(a, b, d, set, s.more);
  yaml_.links.push_back(text + "}");
  return *this;
}

TopologyBuilder& TopologyBuilder::workload(const Workload& w) {
  std::string s = fmt::format("app: {}, from: \"{}\", to: \"{}:{}\", connections: {}, close: {}", w.app, w.from, w.to,
                              w.port, w.connections, w.close);
  if (!w.more.empty()) s += ", " + w.more;
  assembler_.workload(s);
  yaml_.workloads.push_back("{" + s + "}");
  return *this;
}

TopologyBuilder& TopologyBuilder::fault(std::string fault) {
  yaml_.faults.push_back(fault);
  assembler_.fault(std::move(fault));
  return *this;
}

TopologyBuilder& TopologyBuilder::expect(std::string expectation) {
  yaml_.expect.push_back(expectation);
  assembler_.expect(std::move(expectation));
  return *this;
}

std::string TopologyBuilder::yaml() const {
  std::string y = fmt::format("name: {}\n", yaml_.name);
  if (yaml_.seed) y += fmt::format("seed: {}\n", *yaml_.seed);
  if (!yaml_.tcp.empty()) y += fmt::format("defaults:\n  tcp: {{{}}}\n", yaml_.tcp);
  y += "hosts:\n";
  for (const auto& h : yaml_.hosts) y += fmt::format("  \"{}\": {{}}\n", h);
  if (!yaml_.routers.empty()) {
    y += "routers:\n";
    for (const auto& r : yaml_.routers) y += fmt::format("  - \"{}\"\n", r);
  }
  const auto list = [&](const char* key, const std::vector<std::string>& items) {
    if (items.empty()) return;
    y += fmt::format("{}:\n", key);
    for (const auto& i : items) y += fmt::format("  - {}\n", i);
  };
  list("links", yaml_.links);
  list("workload", yaml_.workloads);
  list("faults", yaml_.faults);
  if (!yaml_.expect.empty()) {
    y += "expect:\n";
    for (const auto& e : yaml_.expect) y += fmt::format("  - \"{}\"\n", e);
  }
  return y;
}

topology::Topology TopologyBuilder::build() const { return assembler_.build(); }

}  // namespace shakedown
