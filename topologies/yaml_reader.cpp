#include "topologies/yaml_reader.h"

namespace shakedown::topology {

// Optimal string alignment distance: a typo is usually one or two edits away.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string nearest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best;
  std::size_t best_d = 3;  // suggest only within two edits
  for (std::string_view c : candidates) {
    const std::size_t dist = edit_distance(word, c);
    if (dist < best_d) {
      best_d = dist;
      best = std::string(c);
    }
  }
  return best;
}

// A name as an error message shows it: a 200 KB name is cut short.
std::string shown(std::string_view s) {
  return s.size() <= 60 ? std::string(s) : fmt::format("{}... ({} characters)", s.substr(0, 40), s.size());
}
std::string name_rule() {
  return fmt::format("start with a letter, then letters, digits, '_', '-' or '.', at most {} characters",
                     kMaxNameLength);
}

std::string kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", n.Scalar());
    default:
      return "an undefined value";
  }
}

}  // namespace shakedown::topology
