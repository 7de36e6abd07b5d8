// Builds a network and its workloads from the canonical topology (topology.proto):
// the step between a loaded file and a run. Node ids, link ids and workload indices
// are those of the canonical form, so results name what the file named.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "emulator/engine.h"
#include "emulator/link_params.h"
#include "emulator/packet.h"
#include "nodes/apps/workload.h"
#include "nodes/network.h"
#include "nodes/tcp/config.h"
#include "topologies/topology.pb.h"

namespace shakedown::controller {

tcp::Config tcp_config(const topology::Tcp& t);
LinkParams link_params(const topology::Direction& d);
apps::Workload workload(const topology::Workload& w);

// What the network or the workloads refused while being built, and which piece of the
// canonical form it was: "workload[0] (clients)", "links[3] (r1-r2)". A topology the
// loader or validate() passed does not get here; a canonical form edited by hand may.
class BuildError : public std::invalid_argument {
 public:
  BuildError(std::string where, const std::string& what)
      : std::invalid_argument(where + ": " + what), where_(std::move(where)) {}
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

// Everything a run needs, built and wired, with routes computed; nothing has run.
// Throws BuildError.
struct Built {
  // report_timer_sets: every host's TCP reports each timer it arms (for traces).
  // `here`, in a distributed run: by node id, whether the node runs in this process
  // (Network::set_elsewhere); null: all of them.
  Built(Engine& engine, PacketPool& pool, const topology::Topology& topo, Observer* observer = nullptr,
        bool report_timer_sets = false, const std::vector<bool>* here = nullptr);
  Network network;
  apps::Workloads workloads;

 private:
  void schedule(Engine& engine, const topology::Fault& f, Owner owner);
};

}  // namespace shakedown::controller
