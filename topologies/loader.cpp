// The loader's hall: the order in which the rooms read a file, the file's limits, and
// the entry points. The rooms: yaml_reader (values and located errors), settings (TCP
// and link settings), loader_nodes (names, references, addresses), loader_links (links
// and generators), loader_workloads, loader_faults (faults and expectations).
#include "topologies/loader.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "topologies/loader_internal.h"

namespace shakedown::topology {

LoadError::LoadError(std::string file, int line, int column, std::string key, const std::string& message)
    // Line 0: the file as a whole (it cannot be opened, it is too large).
    : std::runtime_error(line > 0 ? fmt::format("{}:{}:{}: {}{}{}", file, line, column, key, key.empty() ? "" : ": ", message)
                                  : fmt::format("{}: {}{}{}", file, key, key.empty() ? "" : ": ", message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      key_(std::move(key)),
      message_(message) {}

// Names of nodes, groups and experiments: they become folder and file names (the run
// folder, a host's capture), so a letter first, then letters, digits, '_', '-' or '.',
// and not too long to be a file name.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

Topology Loader::load(const YAML::Node& root) {
  if (root.IsNull()) fail(root, "", "the file is empty: a topology needs at least 'hosts' and 'links'");
  if (!root.IsMap()) fail(root, "", fmt::format("expected a map of keys (name, hosts, links, ...), got {}", kind_of(root)));
  static const std::vector<std::string_view> top = {"name",  "seed",     "ecmp",   "addresses", "defaults", "hosts",
                                                    "routers", "generate", "links", "workload", "faults", "expect",
                                                    "run",   "limits", "partition"};
  // Defaults first, nodes before links, links before workloads, whatever the order
  // in the file.
  for_each_key(root, "", top, [](const std::string&, const YAML::Node&, const std::string&) {});
  if (root["name"]) {
    // The run folder is named after it: no '/', no '..', no newline, no stray bytes.
    const std::string name = scalar(root["name"], "name", "a name");
    if (!valid_name(name)) fail(root["name"], "name", fmt::format("'{}' is not a valid name: {}", shown(name), name_rule()));
    topo_.set_name(name);
  }
  if (root["seed"]) topo_.set_seed(integer(root["seed"], "seed", 0, UINT64_MAX));
  if (root["ecmp"]) topo_.set_ecmp(boolean(root["ecmp"], "ecmp"));
  if (root["limits"])
    for_each_key(root["limits"], "limits", {"nodes", "links"},
                 [&](const std::string& k, const YAML::Node& v, const std::string& path) {
                   // Up to what the canonical form can number (node ids are 32-bit).
                   const std::uint64_t n = integer(v, path, 1, 1'000'000'000);
                   (k == "nodes" ? max_nodes_ : max_links_) = n;
                 });
  if (root["run"])
    for_each_key(root["run"], "run", {"until"}, [&](const std::string&, const YAML::Node& v, const std::string& path) {
      set_horizon_ns(kMaxHorizonNs);
      topo_.set_until_ns(duration_ns(v, path));
      if (topo_.until_ns() <= 0) fail(v, path, "must be more than zero (leave it out to run until nothing is left to do)");
      set_horizon_ns(std::max(kDefaultHorizonNs, topo_.until_ns()));
    });
  if (root["defaults"])
    for_each_key(root["defaults"], "defaults", {"link", "tcp"},
                 [&](const std::string& k, const YAML::Node& v, const std::string& path) {
                   if (k == "link") settings::read_sides(*this, v, path, default_forward_, default_backward_);
                   if (k == "tcp") settings::read_tcp(*this, v, path, default_tcp_);
                 });
  if (!root["hosts"] && !root["generate"])
    fail(root, "hosts", "missing: a topology needs hosts (or a generator that makes them)");
  if (root["hosts"]) add_nodes(root["hosts"], Node::HOST, "hosts");
  if (root["routers"]) add_nodes(root["routers"], Node::ROUTER, "routers");
  link_count_.assign(topo_.nodes_size(), 0);
  if (root["generate"]) generators(root["generate"]);
  if (root["links"]) links(root["links"]);
  end_network(root["hosts"] ? root["hosts"] : root, root["addresses"]);
  if (root["workload"]) workloads(root["workload"]);
  check_reachable();
  if (root["faults"]) faults(root["faults"]);
  if (root["expect"]) expectations(root["expect"]);
  if (root["partition"]) pins(root["partition"]);
  return topo_;
}

Loader::Loader(std::string file) : Reader(std::move(file)) {
  default_tcp_ = settings::default_tcp();
  default_forward_ = default_backward_ = settings::default_direction();
  topo_.set_seed(1);
}

void Loader::end_network(const YAML::Node& hosts_at, const YAML::Node& plan) {
  link_count_.resize(topo_.nodes_size(), 0);
  for (int i = 0; i < topo_.nodes_size(); ++i)
    if (topo_.nodes(i).kind() == Node::HOST && link_count_[static_cast<std::size_t>(i)] == 0 &&
        topo_.nodes_size() > 1)
      fail(hosts_at, "hosts", fmt::format("host '{}' has no link", topo_.nodes(i).name()));
  assign_addresses(hosts_at, plan);
}

namespace {

// How many values the document holds once YAML aliases are expanded, counted up to
// `limit`: a "billion laughs" (aliases of aliases) is refused here, before the loader
// walks it.
std::uint64_t expanded_size(const YAML::Node& n, std::uint64_t limit, std::uint64_t count = 0) {
  if (++count > limit) return count;
  if (n.IsMap()) {
    for (const auto& kv : n) {
      count = expanded_size(kv.first, limit, count);
      if (count > limit) return count;
      count = expanded_size(kv.second, limit, count);
      if (count > limit) return count;
    }
  } else if (n.IsSequence()) {
    for (const YAML::Node& item : n) {
      count = expanded_size(item, limit, count);
      if (count > limit) return count;
    }
  }
  return count;
}

}  // namespace

Topology load_string(std::string_view text, const std::string& file_name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    // "[client[*], r1]" reads as a nested list and an alias: say what to write instead.
    const bool alias = e.msg.find("alias") != std::string::npos;
    throw LoadError(file_name, e.mark.line + 1, e.mark.column + 1, "",
                    fmt::format("not valid YAML: {}{}", e.msg,
                                alias ? " (inside [ ] write a group as client* or quote it: \"client[*]\")" : ""));
  } catch (const YAML::Exception& e) {
    throw LoadError(file_name, 0, 0, "", fmt::format("not valid YAML: {}", e.msg));
  }
  if (expanded_size(root, kMaxYamlValues) > kMaxYamlValues)
    throw LoadError(file_name, 1, 1, "",
                    fmt::format("the file holds more than {} values once its YAML aliases are expanded: write large "
                                "networks with ranges and generate:, not copies",
                                kMaxYamlValues));
  try {
    return Loader(file_name).load(root);
  } catch (const YAML::Exception& e) {
    throw LoadError(file_name, e.mark.line + 1, e.mark.column + 1, "", e.msg);
  }
}

std::string read_topology_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw LoadError(path, 0, 0, "", "is a folder, not a topology file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LoadError(path, 0, 0, "", fmt::format("cannot open the file: {}", std::strerror(errno)));
  // Read at most one byte past the limit: /dev/zero must not fill the memory.
  const std::uint64_t limit = max_file_bytes();
  std::string s(static_cast<std::size_t>(std::min<std::uint64_t>(limit, 1u << 20)), '\0');
  std::size_t got = 0;
  while (in && got <= limit) {
    if (got == s.size()) s.resize(static_cast<std::size_t>(std::min<std::uint64_t>(limit + 1, 2 * s.size())));
    in.read(s.data() + got, static_cast<std::streamsize>(s.size() - got));
    got += static_cast<std::size_t>(in.gcount());
  }
  if (got > limit)
    throw LoadError(path, 0, 0, "",
                    fmt::format("the file is larger than {} bytes: write large networks with ranges and generate: "
                                "(or raise the limit with the environment variable SHAKEDOWN_MAX_FILE_BYTES)",
                                limit));
  s.resize(got);
  return s;
}

std::uint64_t max_file_bytes() {
  if (const char* v = std::getenv("SHAKEDOWN_MAX_FILE_BYTES")) {
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(v, v + std::strlen(v), n);
    if (ec == std::errc() && *end == '\0' && n > 0) return n;
  }
  return kMaxFileBytes;
}

Topology load_file(const std::string& path) {
  const std::string s = read_topology_file(path);
  if (s.find('\0') != std::string::npos) throw LoadError(path, 1, 1, "", "this is a binary file, not a YAML topology");
  return load_string(s, path);
}

}  // namespace shakedown::topology
