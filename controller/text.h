// Small text helpers the controller's writers and readers share.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace shakedown::controller {

// Text for an XML or SVG attribute or element: & < > " ' escaped, and the control
// characters XML 1.0 forbids turned into spaces.
inline std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r' ? ' ' : c;
    }
  }
  return out;
}

// The fields of a line of shakedown's CSV (no quoting: names, addresses and numbers).
inline std::vector<std::string> split_fields(std::string_view line, char sep = ',') {
  std::vector<std::string> out;
  std::string field;
  for (const char c : line) {
    if (c == sep) {
      out.push_back(field);
      field.clear();
    } else {
      field += c;
    }
  }
  out.push_back(field);
  return out;
}

// A whole file; throws std::runtime_error naming it if it cannot be read.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open: " + std::strerror(errno));
  return {std::istreambuf_iterator<char>(in), {}};
}

// Writes a whole file; throws std::runtime_error naming it on failure.
// Written under a temporary name and renamed into place: whatever stops the process,
// the file is either the old one or the new one, never half of it.
inline void write_file(const std::filesystem::path& path, std::string_view text) {
  const std::filesystem::path tmp = path.string() + ".partial";
  std::ofstream f(tmp, std::ios::binary);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  f.close();
  if (!f) throw std::runtime_error("cannot write " + path.string());
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot write " + path.string() + ": " + ec.message());
}

// Everything written so far to a stream opened for update (a std::tmpfile()).
inline std::string read_back(std::FILE* f) {
  std::string s;
  std::rewind(f);
  char buf[4096];
  while (const std::size_t n = std::fread(buf, 1, sizeof buf, f)) s.append(buf, n);
  return s;
}

// connections.csv (or any of shakedown's CSV files) as a header and rows.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // The column's index; throws std::runtime_error if there is none.
  std::size_t column(const std::string& name, const std::string& path) const {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) throw std::runtime_error(path + ": no column '" + name + "'");
    return static_cast<std::size_t>(it - header.begin());
  }
};

// Reads a CSV file; with `prefix`, only the rows that start with it (the row of one
// connection id: "7,"). Throws std::runtime_error for a missing file or a ragged row.
inline CsvTable read_csv(const std::string& path, const std::string& prefix = {}) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open (is this the folder of a shakedown run?)");
  CsvTable csv;
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(path + ": empty");
  csv.header = split_fields(line);
  while (std::getline(in, line)) {
    if (!prefix.empty() && line.rfind(prefix, 0) != 0) continue;
    csv.rows.push_back(split_fields(line));
    if (csv.rows.back().size() != csv.header.size())
      throw std::runtime_error(path + ": a row has " + std::to_string(csv.rows.back().size()) + " fields, the header " +
                               std::to_string(csv.header.size()));
  }
  return csv;
}

}  // namespace shakedown::controller
