#include "controller/compare.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "controller/cli.h"
#include "controller/pictures.h"
#include "controller/report.h"
#include "controller/text.h"

namespace shakedown::controller {

namespace {

using Json = nlohmann::json;

Json read_summary(const std::string& dir) {
  const std::string path = dir + "/summary.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open (is this the folder of a shakedown run?)");
  try {
    return Json::parse(in);
  } catch (const Json::exception& e) {
    throw std::runtime_error(path + ": not JSON: " + e.what());
  }
}

struct Row {
  std::uint64_t id = 0;
  std::string client, server, port, outcome;
  std::int64_t syn_sent = -1, handshake = -1, teardown = -1;
};

std::int64_t number(const std::string& field) { return field.empty() ? -1 : std::stoll(field); }

std::vector<Row> read_rows(const std::string& dir) {
  const std::string path = dir + "/connections.csv";
  const CsvTable csv = read_csv(path);
  const std::size_t id = csv.column("id", path), client = csv.column("client", path),
                    server = csv.column("server", path), address = csv.column("server_address", path),
                    outcome = csv.column("outcome", path), syn = csv.column("client_syn_sent_ns", path),
                    handshake = csv.column("handshake_ns", path), teardown = csv.column("teardown_ns", path);
  std::vector<Row> rows;
  for (std::size_t r = 0; r < csv.rows.size(); ++r) {
    const auto& f = csv.rows[r];
    if (f.size() != csv.header.size())
      throw std::runtime_error(fmt::format("{}: row {} has {} fields, the header {}", path, r + 2, f.size(),
                                           csv.header.size()));
    Row row;
    try {
      row.id = std::stoull(f[id]);
      row.syn_sent = number(f[syn]);
      row.handshake = number(f[handshake]);
      row.teardown = number(f[teardown]);
    } catch (const std::exception&) {
      throw std::runtime_error(fmt::format("{}: row {}: a number that is not one", path, r + 2));
    }
    row.client = f[client];
    row.server = f[server];
    row.port = f[address].substr(f[address].rfind(':') + 1);
    row.outcome = f[outcome];
    rows.push_back(std::move(row));
  }
  // Paired by what both runs share: the server's port, the client, and the order in
  // which the client started them.
  std::stable_sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
    return std::tie(x.port, x.client, x.syn_sent, x.id) < std::tie(y.port, y.client, y.syn_sent, y.id);
  });
  return rows;
}

std::string engine_of(const Json& summary) { return summary.value("engine", std::string("shakedown")); }

std::string ns_or_dash(std::int64_t ns) { return ns < 0 ? "-" : pretty_ns(ns); }

// The two summaries' figures, one line each.
std::string table(const Json& a, const Json& b, const std::string& name_a, const std::string& name_b) {
  std::string out = fmt::format("  {:<28}{:>18}{:>18}\n", "", name_a, name_b);
  const auto line = [&](const std::string& what, const std::string& x, const std::string& y) {
    out += fmt::format("  {:<28}{:>18}{:>18}{}\n", what, x, y, x == y ? "" : "   *");
  };
  const auto count = [&](const char* group, const char* key) {
    line(fmt::format("{} {}", group, key), thousands(a[group].value(key, 0ull)), thousands(b[group].value(key, 0ull)));
  };
  for (const char* k : {"total", "completed", "reset", "refused", "timed_out", "open"}) count("connections", k);
  for (const char* d : {"handshake", "teardown"})
    for (const char* p : {"p50_ns", "p90_ns", "p99_ns", "max_ns"}) {
      const auto get = [&](const Json& j) {
        return j.contains(d) && j[d].contains(p) ? pretty_ns(j[d][p].get<std::int64_t>()) : std::string("-");
      };
      line(fmt::format("{} {}", d, std::string(p).substr(0, std::string(p).size() - 3)), get(a), get(b));
    }
  for (const char* kind : {"syn", "syn_ack", "data", "fin"}) count("retransmissions", kind);
  for (const auto& [reason, n] : a["drops"].items()) {
    const auto other = b["drops"].value(reason, 0ull);
    if (n.get<std::uint64_t>() != 0 || other != 0)
      line("drops " + reason, thousands(n.get<std::uint64_t>()), thousands(other));
  }
  line("bytes delivered", thousands(a["bytes"].value("delivered", 0ull)), thousands(b["bytes"].value("delivered", 0ull)));
  line("simulated", pretty_ns(a.value("simulated_ns", 0ll)), pretty_ns(b.value("simulated_ns", 0ll)));
  return out;
}

}  // namespace

std::int64_t ConnectionDifference::size() const {
  const auto d = [](std::int64_t x, std::int64_t y) {
    if (x < 0 && y < 0) return std::int64_t{0};
    if (x < 0 || y < 0) return std::max(x, y);  // one never got there: all of the other
    return x > y ? x - y : y - x;
  };
  return std::max(d(handshake_a, handshake_b), d(teardown_a, teardown_b));
}

Comparison compare_runs(const std::string& a, const std::string& b) {
  const Json sa = read_summary(a), sb = read_summary(b);
  const std::vector<Row> ra = read_rows(a), rb = read_rows(b);
  Comparison c;
  c.name_a = engine_of(sa);
  c.name_b = engine_of(sb);
  if (c.name_a == c.name_b) {
    c.name_a += " (A)";
    c.name_b += " (B)";
  }
  c.table = table(sa, sb, c.name_a, c.name_b);
  // Merge the two sorted lists on (port, client); within one, in order of starting.
  std::size_t i = 0, j = 0;
  while (i < ra.size() || j < rb.size()) {
    const bool take_a = j == rb.size() || (i < ra.size() && std::tie(ra[i].port, ra[i].client) <
                                                                std::tie(rb[j].port, rb[j].client));
    const bool take_b = i == ra.size() || (j < rb.size() && std::tie(rb[j].port, rb[j].client) <
                                                                std::tie(ra[i].port, ra[i].client));
    if (take_a) {
      ++c.only_a, ++i;
      continue;
    }
    if (take_b) {
      ++c.only_b, ++j;
      continue;
    }
    const Row& x = ra[i++];
    const Row& y = rb[j++];
    ConnectionDifference d;
    d.id_a = x.id;
    d.id_b = y.id;
    d.client = x.client;
    d.server = x.server + ":" + x.port;
    d.handshake_a = x.handshake;
    d.handshake_b = y.handshake;
    d.teardown_a = x.teardown;
    d.teardown_b = y.teardown;
    d.outcome_a = x.outcome;
    d.outcome_b = y.outcome;
    c.handshake_equal += x.handshake == y.handshake ? 1 : 0;
    c.teardown_equal += x.teardown == y.teardown ? 1 : 0;
    c.outcome_equal += x.outcome == y.outcome ? 1 : 0;
    c.pairs.push_back(std::move(d));
  }
  std::stable_sort(c.pairs.begin(), c.pairs.end(), [](const ConnectionDifference& x, const ConnectionDifference& y) {
    return std::make_tuple(x.outcome_differs(), x.size()) > std::make_tuple(y.outcome_differs(), y.size());
  });
  return c;
}

std::string compare_text(const Comparison& c, std::size_t top) {
  std::string out = c.table;
  out += fmt::format("\n  connections paired    {} (only in A: {}, only in B: {})\n", thousands(c.pairs.size()),
                     thousands(c.only_a), thousands(c.only_b));
  out += fmt::format("  the same to the ns    handshake {}, teardown {}; the same outcome {}\n",
                     thousands(c.handshake_equal), thousands(c.teardown_equal), thousands(c.outcome_equal));
  std::size_t listed = 0;
  for (const ConnectionDifference& d : c.pairs) {
    if (listed == top || (!d.outcome_differs() && d.size() == 0)) break;
    if (listed++ == 0)
      out += fmt::format("\n  differing most ({})\n  {:>6} {:>6}  {:<20}{:>22}{:>22}  {}\n",
                         "another outcome first, then the larger difference in time", "A", "B", "client -> server", "handshake A / B", "teardown A / B",
                         "outcome A / B");
    out += fmt::format("  {:>6} {:>6}  {:<20}{:>22}{:>22}  {}\n", d.id_a, d.id_b, d.client + " -> " + d.server,
                       ns_or_dash(d.handshake_a) + " / " + ns_or_dash(d.handshake_b),
                       ns_or_dash(d.teardown_a) + " / " + ns_or_dash(d.teardown_b),
                       d.outcome_a + " / " + d.outcome_b);
  }
  if (listed == 0) out += "\n  every paired connection has the same outcome, handshake and teardown\n";
  return out;
}

std::string compare_html(const Comparison& c, const CompareOptions& o) {
  std::string page = fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>shakedown compare: {} / {}</title>\n"
      "<style>body{{font-family:sans-serif;margin:2em}} pre{{font-size:13px}} .ladders{{display:flex;gap:2em;"
      "align-items:flex-start}} .ladders div{{flex:1;overflow:auto}}</style></head><body>\n"
      "<h1>{} against {}</h1>\n<p>A: {}<br>B: {}</p>\n<pre>{}</pre>\n",
      xml_escape(c.name_a), xml_escape(c.name_b), xml_escape(c.name_a), xml_escape(c.name_b), xml_escape(o.a),
      xml_escape(o.b), xml_escape(compare_text(c, o.top)));
  if (!c.pairs.empty() && (c.pairs.front().outcome_differs() || c.pairs.front().size() > 0)) {
    const ConnectionDifference& d = c.pairs.front();
    page += fmt::format("<h2>The connection that differs most: {} -&gt; {} (A {}, B {})</h2>\n<div class=\"ladders\">",
                        xml_escape(d.client), xml_escape(d.server), d.id_a, d.id_b);
    for (const auto& [dir, id, name] : {std::make_tuple(o.a, d.id_a, c.name_a), std::make_tuple(o.b, d.id_b, c.name_b)}) {
      page += fmt::format("<div><h3>{}</h3>\n", xml_escape(name));
      try {
        page += ladder_svg(read_connection(dir, id));
      } catch (const PictureError& e) {
        page += fmt::format("<p>no ladder: {}</p>", xml_escape(e.what()));
      }
      page += "</div>\n";
    }
    page += "</div>\n";
  }
  page += "</body></html>\n";
  return page;
}

int compare(const CompareOptions& o) {
  try {
    const Comparison c = compare_runs(o.a, o.b);
    std::printf("shakedown compare: A %s (%s), B %s (%s)\n%s", o.a.c_str(), c.name_a.c_str(), o.b.c_str(),
                c.name_b.c_str(), compare_text(c, o.top).c_str());
    if (!o.html.empty()) {
      std::ofstream out(o.html);
      out << compare_html(c, o);
      if (!out) throw std::runtime_error(o.html + ": cannot write");
      std::printf("  wrote                 %s\n", o.html.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shakedown compare: %s\n", e.what());
    return kBadInput;
  }
  return kSuccess;
}

}  // namespace shakedown::controller
