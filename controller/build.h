// Builds a network and its workloads from the canonical topology (topology.proto):
// the step between a loaded file and a run. Node ids, link ids and workload indices
// are those of the canonical form, so results name what the file named.
#pragma once

#include <cstdint>
#include <memory>

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

// Everything a run needs, built and wired, with routes computed; nothing has run.
struct Built {
  // report_timer_sets: every host's TCP reports each timer it arms (for traces).
  Built(Engine& engine, PacketPool& pool, const topology::Topology& topo, Observer* observer = nullptr,
        bool report_timer_sets = false);
  Network network;
  apps::Workloads workloads;

 private:
  void schedule(Engine& engine, const topology::Fault& f);
};

}  // namespace shakedown::controller
