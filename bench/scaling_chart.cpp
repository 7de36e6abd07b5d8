// Draws the scaling curve from the table bench/compare-ns3.sh prints: wall time per
// connection against the number of connections (log axis), beside what growth in
// proportion to log n from the smallest size would allow.
//
//   bench/compare-ns3.sh --shakedown-only --window auto 10:100 ... | tee table.md
//   build/release/bench/scaling_chart table.md scaling.svg
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "controller/pictures.h"

namespace {

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  std::getline(ss, cell, '|');  // before the first bar
  while (std::getline(ss, cell, '|')) {
    const auto b = cell.find_first_not_of(' ');
    const auto e = cell.find_last_not_of(' ');
    out.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: scaling_chart TABLE.md OUT.svg  (TABLE: what bench/compare-ns3.sh printed)\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::fprintf(stderr, "scaling_chart: cannot read %s\n", argv[1]);
    return 2;
  }
  std::vector<double> xs, per_connection;
  int conn_col = -1, tool_col = -1, per_col = -1;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '|') continue;
    const auto c = cells(line);
    if (conn_col < 0) {
      for (std::size_t i = 0; i < c.size(); ++i) {
        if (c[i] == "connections") conn_col = static_cast<int>(i);
        if (c[i] == "tool") tool_col = static_cast<int>(i);
        if (c[i].rfind("wall per connection", 0) == 0) per_col = static_cast<int>(i);
      }
      continue;
    }
    if (conn_col < 0 || per_col < 0 || tool_col < 0 || c.size() <= static_cast<std::size_t>(per_col)) continue;
    if (c[static_cast<std::size_t>(tool_col)] != "shakedown") continue;
    try {
      xs.push_back(std::stod(c[static_cast<std::size_t>(conn_col)]));
      per_connection.push_back(std::stod(c[static_cast<std::size_t>(per_col)]));
    } catch (const std::exception&) {
      std::fprintf(stderr, "scaling_chart: %s: a row with no numbers: %s\n", argv[1], line.c_str());
      return 2;
    }
  }
  if (xs.empty()) {
    std::fprintf(stderr, "scaling_chart: %s has no shakedown rows with a wall-per-connection column\n", argv[1]);
    return 2;
  }
  std::vector<double> bound;
  for (const double x : xs) bound.push_back(per_connection.front() * std::log(x) / std::log(xs.front()));
  try {
    const std::string svg = shakedown::controller::line_chart_svg(
        "Wall time per connection, reference star", "connections (log scale)", "wall per connection (µs)", xs,
        {{"shakedown", per_connection}, {"growth in proportion to log n, from the smallest size", bound}}, true);
    std::ofstream(argv[2], std::ios::binary) << svg;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scaling_chart: %s\n", e.what());
    return 2;
  }
  std::printf("wrote %s\n", argv[2]);
  return 0;
}
