#include "controller/sweep.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "controller/cli.h"
#include "controller/pictures.h"
#include "controller/report.h"
#include "controller/run.h"
#include "controller/scenarios.h"
#include "controller/text.h"
#include "topologies/expect.h"
#include "topologies/loader.h"

namespace shakedown::controller {

namespace fs = std::filesystem;

namespace {

struct MetricRef {
  std::string family, field;
  bool time = false;
  bool rate = false;
};

// A metric by its name in the expectation language (docs/expectations.md), for the
// whole run (no host selector: summary.json has the run's figures).
std::optional<MetricRef> metric_ref(const std::string& name) {
  const auto m = topology::expect::parse_metric(name);
  if (!m || m->hosts) return std::nullopt;
  const bool time = (m->family == "handshake" || m->family == "teardown") && m->field != "count";
  const bool rate = (m->family == "goodput" || m->family == "throughput") && m->field != "count";
  return MetricRef{m->family, m->field, time, rate};
}

// The metric's value in a summary.json; NaN when it has none (no handshake at all).
double value_of(const nlohmann::json& summary, const MetricRef& m) {
  if (m.family == "handshake" || m.family == "teardown") {
    const auto& d = summary[m.family];
    if (m.field == "count") return d["count"].get<double>();
    const std::string key = m.field + "_ns";
    return d.contains(key) ? d[key].get<double>() : std::nan("");
  }
  if (m.family == "goodput" || m.family == "throughput") {
    const auto& d = summary[m.family];
    if (m.field == "count") return d["count"].get<double>();
    const std::string key = m.field + "_bps";
    return d.contains(key) ? d[key].get<double>() : std::nan("");
  }
  const auto& f = summary[m.family];
  if (m.family == "connections" && m.field == "failed")
    return f["refused"].get<double>() + f["timed_out"].get<double>() + f["crashed"].get<double>();
  if (m.field == "total" && m.family != "connections") {
    double sum = 0;
    for (const auto& [k, v] : f.items()) sum += v.get<double>();
    return sum;
  }
  return f[m.field].get<double>();
}

std::string show(double v, const MetricRef& m) {
  if (std::isnan(v)) return "-";
  if (m.time) return pretty_ns(static_cast<std::int64_t>(v));
  if (m.rate) return pretty_bps(v);
  return fmt::format("{}", static_cast<std::int64_t>(v));
}

}  // namespace

int sweep_main(const SweepOptions& o, std::FILE* out, std::FILE* err) {
  const auto eq = o.vary.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 >= o.vary.size()) {
    std::fprintf(err, "shakedown sweep: --vary: expected NAME=V1,V2,..., e.g. loss=0%%,5%%,10%%\n");
    return kBadInput;
  }
  const std::string name = o.vary.substr(0, eq);
  const std::vector<std::string> values = split_fields(o.vary.substr(eq + 1));
  for (const auto& v : values)
    if (v.empty()) {
      std::fprintf(err, "shakedown sweep: --vary: an empty value in '%s'\n", o.vary.c_str());
      return kBadInput;
    }
  std::vector<std::string> metric_names = o.metrics;
  if (metric_names.empty()) metric_names = {"handshake.p50", "handshake.p90", "handshake.p99"};
  std::vector<MetricRef> metrics;
  for (const auto& n : metric_names) {
    const auto m = metric_ref(n);
    if (!m) {
      std::fprintf(err,
                   "shakedown sweep: --metric: unknown metric '%s' (the names of docs/expectations.md, e.g. "
                   "handshake.p50, connections.completed, retransmissions.syn)\n",
                   n.c_str());
      return kBadInput;
    }
    metrics.push_back(*m);
  }
  std::ifstream in(o.file, std::ios::binary);
  if (!in) {
    std::fprintf(err, "%s: cannot open the file\n", o.file.c_str());
    return kBadInput;
  }
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  const std::string marker = "${" + name + "}";
  if (text.find(marker) == std::string::npos) {
    std::fprintf(err, "shakedown sweep: %s does not mention %s: write it where the value goes\n", o.file.c_str(),
                 marker.c_str());
    return kBadInput;
  }
  const fs::path dir = o.out.empty() ? fs::path(name + "-sweep") : fs::path(o.out);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(err, "shakedown sweep: cannot create %s: %s\n", dir.string().c_str(), ec.message().c_str());
    return kBadInput;
  }

  std::vector<std::vector<double>> table;  // by value, by metric
  std::vector<double> xs;
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::string t = text;
    for (std::size_t at = t.find(marker); at != std::string::npos; at = t.find(marker, at))
      t.replace(at, marker.size(), values[i]);
    topology::Topology topo;
    try {
      topo = topology::load_string(t, fmt::format("{} ({}={})", o.file, name, values[i]));
    } catch (const topology::LoadError& e) {
      std::fprintf(err, "%s\n", e.what());
      return kBadInput;
    }
    const std::string run_dir = (dir / fmt::format("{:02}-{}", i + 1, name)).string();
    nlohmann::json summary;
    if (o.ranks > 0) {
      // Across processes: the file with this value goes beside its run, and the run is
      // `shakedown run --ranks N`, whose summary.json is the one process's byte for byte.
      const fs::path file = dir / fmt::format("{:02}-{}.yaml", i + 1, name);
      std::ofstream(file, std::ios::binary) << t;
      ScenarioResult r;
      run_isolated(file.string(), run_dir, 0, o.ranks, o.engine, r);
      if (r.code != kSuccess && r.code != kExpectationFailed) {
        std::fprintf(err, "shakedown sweep: the run for %s=%s failed (exit %d)%s%s\n", name.c_str(), values[i].c_str(),
                     r.code, r.output.empty() ? "" : ":\n", r.output.c_str());
        return r.code;
      }
      std::ifstream in_summary(fs::path(run_dir) / "summary.json");
      summary = nlohmann::json::parse(in_summary, nullptr, /*allow_exceptions=*/false);
      if (summary.is_discarded()) {
        std::fprintf(err, "shakedown sweep: the run for %s=%s left no summary.json in %s\n", name.c_str(),
                     values[i].c_str(), run_dir.c_str());
        return kRunFailed;
      }
    } else {
      RunOptions ro;
      ro.file = o.file;
      ro.topology = &topo;
      ro.out = run_dir;
      ro.events = "none";
      ro.pcap = "none";
      ro.quiet = true;
      ro.engine = o.engine;
      RunReport report;
      ro.report = &report;
      const int code = run_experiment(ro, out, err);
      if (code != kSuccess && code != kExpectationFailed) return code;
      summary = report.summary;
    }
    std::vector<double> row;
    for (const auto& m : metrics) row.push_back(value_of(summary, m));
    table.push_back(row);
    double x = 0;
    std::istringstream(values[i]) >> x;
    xs.push_back(x);
    if (!o.quiet) {
      std::string line = fmt::format("  {}={:<10}", name, values[i]);
      for (std::size_t k = 0; k < metrics.size(); ++k) line += fmt::format("  {} {}", metric_names[k], show(row[k], metrics[k]));
      std::fprintf(out, "%s\n", line.c_str());
      std::fflush(out);
    }
  }

  std::ofstream csv(dir / "sweep.csv", std::ios::binary);
  csv << name;
  for (std::size_t k = 0; k < metrics.size(); ++k) csv << ',' << metric_names[k] << (metrics[k].time ? "_ns" : metrics[k].rate ? "_bps" : "");
  csv << '\n';
  for (std::size_t i = 0; i < values.size(); ++i) {
    csv << values[i];
    for (const double v : table[i]) csv << ',' << (std::isnan(v) ? std::string() : fmt::format("{}", static_cast<std::int64_t>(v)));
    csv << '\n';
  }
  const bool all_times = std::all_of(metrics.begin(), metrics.end(), [](const MetricRef& m) { return m.time; });
  std::vector<Series> series;
  for (std::size_t k = 0; k < metrics.size(); ++k) {
    Series s{metric_names[k], {}};
    for (const auto& row : table) s.ys.push_back(all_times ? row[k] / 1e6 : row[k]);
    series.push_back(s);
  }
  std::string unit;
  for (const char c : values.front())
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-') unit += c;
  const std::string svg =
      line_chart_svg(fmt::format("{} against {}", fmt::join(metric_names, ", "), name),
                     unit.empty() ? name : fmt::format("{} ({})", name, unit), all_times ? "time (ms)" : "value", xs,
                     series);
  std::ofstream(dir / "sweep.svg", std::ios::binary) << svg;
  csv.close();
  if (!csv) {
    std::fprintf(err, "shakedown sweep: cannot write %s\n", (dir / "sweep.csv").string().c_str());
    return kRunFailed;
  }
  if (!o.quiet)
    std::fprintf(out, "  wrote %s and %s\n", (dir / "sweep.csv").string().c_str(), (dir / "sweep.svg").string().c_str());
  return kSuccess;
}

}  // namespace shakedown::controller
