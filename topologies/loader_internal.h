// The loader's rooms share this class (each defines its part in its own file): the
// topology being made, the names and groups known so far, and the defaults. Private to
// topologies/.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "topologies/loader.h"
#include "topologies/settings.h"
#include "topologies/yaml_reader.h"

namespace shakedown::topology {

class Loader : public Reader {
 public:
  explicit Loader(std::string file);

  // A whole file.
  Topology load(const YAML::Node& root);

  // The pieces load() reads a file with, for a topology assembled in code
  // (assembler.h), in this order: defaults and nodes, links, end_network, workloads,
  // check_reachable, faults, expectations.
  Topology& topology() { return topo_; }
  Tcp& default_tcp() { return default_tcp_; }
  void add_named(const YAML::Node& key_node, const std::string& pattern, Node::Kind kind, const YAML::Node& body,
                 const std::string& where);
  void link(const YAML::Node& item, std::size_t index);
  // A link whose settings start from these instead of defaults.link.
  void link(const YAML::Node& item, std::size_t index, Direction forward, Direction backward);
  // Every host has a link; hosts without an address take the plan's (`plan`: the
  // file's `addresses`, or none). Errors about hosts point at `hosts_at`.
  void end_network(const YAML::Node& hosts_at, const YAML::Node& plan);
  void workload(const YAML::Node& item, std::size_t index);
  void check_reachable();
  void fault(const YAML::Node& item, std::size_t index);
  void expectation(const YAML::Node& item, std::size_t index);

 private:
  // loader_nodes.cpp: names, references, addresses.
  void add_nodes(const YAML::Node& n, Node::Kind kind, const std::string& where);
  std::uint32_t add_node(const YAML::Node& at, const std::string& where, const std::string& name, Node::Kind kind,
                         const std::string& group, const Tcp& tcp_settings);
  // The nodes a reference names. `text`, when given, is read instead of n's scalar (a
  // part of it, as the host of 'server:80'); errors still point at n.
  std::vector<std::uint32_t> resolve(const YAML::Node& n, const std::string& key,
                                     const std::optional<std::string>& text = std::nullopt);
  std::uint32_t one_node(const YAML::Node& n, const std::string& key);
  void assign_addresses(const YAML::Node& hosts_at, const YAML::Node& plan);

  // loader_links.cpp: links and generators.
  void add_link(const YAML::Node& at, const std::string& where, std::uint32_t a, std::uint32_t b,
                const Direction& forward, const Direction& backward);
  void links(const YAML::Node& n);
  void generators(const YAML::Node& n);
  // The link between two nodes, and the direction that leaves the first.
  std::pair<std::uint32_t, std::uint32_t> find_link(const YAML::Node& at, const std::string& key);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> find_links(const YAML::Node& at, const std::string& key);

  // `partition:`: ranks of a distributed run, each with the nodes pinned to it.
  void pins(const YAML::Node& n);

  // loader_workloads.cpp.
  void workloads(const YAML::Node& n);

  // loader_faults.cpp: faults and expectations.
  void faults(const YAML::Node& n);
  void expectations(const YAML::Node& n);

  std::uint64_t max_nodes_ = kMaxNodes;
  std::uint64_t max_links_ = kMaxLinks;
  Topology topo_;
  Tcp default_tcp_;
  Direction default_forward_, default_backward_;  // defaults.link, per direction
  std::unordered_map<std::string, std::uint32_t> ids_;
  std::map<std::string, std::vector<std::uint32_t>> groups_;
  std::vector<std::uint32_t> link_count_;
  std::unordered_map<std::string, YAML::Node> explicit_at_;  // where a host's own address was given
  std::vector<YAML::Node> workload_at_;                      // where each workload was written
};

}  // namespace shakedown::topology
