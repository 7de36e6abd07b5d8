#include "controller/experiment.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

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

Results Experiment::run() const {
  static std::atomic<std::uint64_t> runs{0};
  controller::RunOptions o;
  o.topology = &topology_;
  o.file = topology_.name().empty() ? "<topology>" : topology_.name();
  o.out = out_.empty() ? (fs::temp_directory_path() / fmt::format("shakedown-{}-{}-{}", topology_.name(), getpid(), ++runs)).string()
                       : out_;
  o.seed = seed_;
  if (until_) o.until_ns = until_->ns();
  o.events = events_;
  o.pcap = captures_;
  o.quiet = true;
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

// --- the builder ------------------------------------------------------------------------

TopologyBuilder::TopologyBuilder(std::string name) : name_(std::move(name)) {}

TopologyBuilder& TopologyBuilder::seed(std::uint64_t seed) {
  seed_ = seed;
  return *this;
}
TopologyBuilder& TopologyBuilder::tcp(std::string settings) {
  tcp_ = std::move(settings);
  return *this;
}
TopologyBuilder& TopologyBuilder::host(const std::string& name) {
  hosts_.push_back(name);
  return *this;
}
TopologyBuilder& TopologyBuilder::hosts(const std::string& range) {
  hosts_.push_back(range);
  return *this;
}
TopologyBuilder& TopologyBuilder::router(const std::string& name) {
  routers_.push_back(name);
  return *this;
}

TopologyBuilder& TopologyBuilder::link(const std::string& a, const std::string& b, const Link& s) {
  std::string l = fmt::format("{{ends: [\"{}\", \"{}\"], delay: {}", a, b, to_string(s.delay));
  if (s.jitter > Duration::zero()) l += fmt::format(", jitter: {}", to_string(s.jitter));
  if (s.loss_percent > 0) l += fmt::format(", loss: {}%", s.loss_percent);
  if (!s.rate.empty()) l += fmt::format(", rate: {}", s.rate);
  if (!s.more.empty()) l += ", " + s.more;
  links_.push_back(l + "}");
  return *this;
}

TopologyBuilder& TopologyBuilder::workload(const Workload& w) {
  std::string s = fmt::format("{{app: {}, from: \"{}\", to: \"{}:{}\", connections: {}, close: {}", w.app, w.from, w.to,
                              w.port, w.connections, w.close);
  if (!w.more.empty()) s += ", " + w.more;
  workloads_.push_back(s + "}");
  return *this;
}

TopologyBuilder& TopologyBuilder::fault(std::string fault) {
  faults_.push_back(std::move(fault));
  return *this;
}

TopologyBuilder& TopologyBuilder::expect(std::string expectation) {
  expect_.push_back(std::move(expectation));
  return *this;
}

std::string TopologyBuilder::yaml() const {
  std::string y = fmt::format("name: {}\n", name_);
  if (seed_) y += fmt::format("seed: {}\n", *seed_);
  if (!tcp_.empty()) y += fmt::format("defaults:\n  tcp: {{{}}}\n", tcp_);
  y += "hosts:\n";
  for (const auto& h : hosts_) y += fmt::format("  \"{}\": {{}}\n", h);
  if (!routers_.empty()) {
    y += "routers:\n";
    for (const auto& r : routers_) y += fmt::format("  - \"{}\"\n", r);
  }
  const auto list = [&](const char* key, const std::vector<std::string>& items) {
    if (items.empty()) return;
    y += fmt::format("{}:\n", key);
    for (const auto& i : items) y += fmt::format("  - {}\n", i);
  };
  list("links", links_);
  list("workload", workloads_);
  list("faults", faults_);
  if (!expect_.empty()) {
    y += "expect:\n";
    for (const auto& e : expect_) y += fmt::format("  - \"{}\"\n", e);
  }
  return y;
}

topology::Topology TopologyBuilder::build() const { return topology::load_string(yaml(), name_ + " (built in code)"); }

}  // namespace shakedown
