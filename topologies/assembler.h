// A topology assembled in code, piece by piece, with every default and check of the
// file format: the pieces are the loader's own (loader_internal.h), so a topology
// assembled here and the same one written as a file are the same canonical topology.
// controller/experiment.h's TopologyBuilder is the friendly face of this.
//
// Pieces may be added in any order; build() applies them in the file format's: nodes,
// links, addresses, workloads, faults, expectations. Where a piece is settings or a
// workload, it is given as the file writes it ("min_rto: 200ms, sack: false"), and
// errors point into that text.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "topologies/topology.pb.h"

namespace shakedown::topology {

class Assembler {
 public:
  // Errors name "NAME (built in code)" as their file.
  explicit Assembler(std::string name);

  Assembler& seed(std::uint64_t seed);
  // TCP settings for every host, as the file's defaults.tcp.
  Assembler& default_tcp(std::string settings);
  // A host name or a range ("client[1..100]", making group "client").
  Assembler& hosts(std::string pattern);
  Assembler& router(std::string pattern);
  // A link between two references (a name, or a group at one end: "client*"): its
  // settings start from the defaults, then `base` sets the directions' fields given in
  // `base_set` (both directions), then `settings` (as a file's link keys) applies.
  Assembler& link(std::string a, std::string b, Direction base, std::vector<std::string> base_set,
                  std::string settings);
  // As a file's workload entry, without braces: "app: connect, from: client, to: server:80".
  Assembler& workload(std::string entry);
  // As a file's fault entry, with braces: "{match: {link: [client, r], flags: SYN}, delay: 30s}".
  Assembler& fault(std::string entry);
  Assembler& expect(std::string expectation);

  // Throws LoadError (loader.h) if it is not a valid topology.
  Topology build() const;

 private:
  struct LinkPiece {
    std::string a, b;
    Direction base;
    std::vector<std::string> base_set;
    std::string settings;
  };
  std::string name_;
  std::optional<std::uint64_t> seed_;
  std::string tcp_;
  std::vector<std::string> hosts_, routers_, workloads_, faults_, expect_;
  std::vector<LinkPiece> links_;
};

}  // namespace shakedown::topology
