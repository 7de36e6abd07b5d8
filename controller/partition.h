// Splitting a topology over the ranks of a distributed run (docs/distributed.md).
//
// The lookahead of a link is the least time a packet can ever take on it during the
// run: its delay, less what jitter can take off (uniform jitter: the jitter; normal and
// Pareto jitter reach zero), zero with netem-style reordering (a packet sent at once),
// the least of these over every `set:` fault that changes the link, and zero for a
// link a fault takes down. A distributed run advances in windows of the smallest
// lookahead of the links it cuts: a link with no lookahead is never cut.
//
// The partition comes from METIS (k-way): vertex weights estimate the work each node
// will do (the segments of the connections it ends or carries, from the workload; with
// ECMP shared by the equal-cost paths), edge
// weights keep low-lookahead links inside a rank, and nodes the file pins
// (`partition:`) go where it says.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "emulator/time.h"
#include "topologies/topology.pb.h"

namespace shakedown::controller {

struct Lookahead {
  Duration least = Duration::zero();
  std::string why;  // "its delay", "uniform jitter of 2ms off its 10ms delay", "reordering (5%): a packet may go at once"
};

// The least time a packet can take on one direction, and on a link (both directions
// and every fault that changes it).
Lookahead lookahead(const topology::Direction& d);
Lookahead link_lookahead(const topology::Topology& t, std::uint32_t link);

class PartitionError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct Partition {
  std::uint32_t ranks = 1;
  std::vector<std::uint32_t> rank_of;  // by node id
  // What a user needs to judge it:
  std::vector<std::uint64_t> weight;     // estimated work, by rank
  std::vector<std::uint32_t> hosts, routers;  // by rank
  std::vector<std::uint32_t> cut;        // link ids with ends on two ranks, in id order
  Duration lookahead = Duration::max();  // the least lookahead of the cut (max: no cut)
  std::optional<std::uint32_t> lookahead_link;
  std::string lookahead_why;
  // The heaviest rank's weight over the mean: 1.0 is perfect balance.
  double imbalance() const;
};

// The estimated work of each node (see above), by node id.
std::vector<std::uint64_t> node_work(const topology::Topology& t);

// Links without lookahead are never cut: the nodes they join go to one rank. A rank
// may be left idle (more ranks than nodes, or than such groups). Throws PartitionError
// when ranks is 0 or past kMaxRanks; when a pin names a rank not below `ranks`; or when
// pins force a cut through a link without lookahead (naming the link and why).
Partition partition(const topology::Topology& t, std::uint32_t ranks);

// The partition as a user reads it (`shakedown compile --ranks N`).
std::string describe(const topology::Topology& t, const Partition& p);

}  // namespace shakedown::controller
