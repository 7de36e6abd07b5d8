// Small text helpers the controller's writers and readers share.
#pragma once

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

}  // namespace shakedown::controller
