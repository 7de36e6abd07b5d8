// Test helpers for shakedown's CSV files (connections.csv, sweep tables).
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace shakedown::testing {

// The fields of one CSV line (shakedown's CSVs quote nothing); a trailing comma ends
// with an empty field.
inline std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  for (std::string f; std::getline(in, f, ',');) out.push_back(f);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// A CSV file as rows of column -> value; a row whose fields do not match the header's
// is a test failure.
inline std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::map<std::string, std::string>> rows;
  std::string line;
  if (!std::getline(in, line)) {
    ADD_FAILURE() << path << " is empty or missing";
    return rows;
  }
  const auto header = split_csv(line);
  for (std::size_t i = 1; std::getline(in, line); ++i) {
    const auto fields = split_csv(line);
    EXPECT_EQ(fields.size(), header.size()) << path << " row " << i << ": " << line;
    std::map<std::string, std::string> row;
    for (std::size_t c = 0; c < header.size() && c < fields.size(); ++c) row[header[c]] = fields[c];
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace shakedown::testing
