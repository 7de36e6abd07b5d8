// What a run will need, known from the canonical form before anything is built: a
// file that cannot fit in this machine's memory is refused up front, with the
// estimate, instead of dying of bad_alloc or the OOM killer minutes later.
#pragma once

#include <cstdint>
#include <string>

#include "topologies/topology.pb.h"

namespace shakedown::controller {

struct MemoryEstimate {
  std::uint64_t hosts = 0, routers = 0, links = 0, connections = 0;
  std::uint64_t bytes = 0;  // the whole run, at most
};

// From per-item costs measured on a release build (bench/RESULTS.md, "memory"): every
// connection the workloads plan counted as open at once, which overestimates runs whose
// connections come and go.
MemoryEstimate estimate_memory(const topology::Topology& topology);

// Memory this machine has available now (MemAvailable), 0 when unknown.
std::uint64_t available_memory();

// "1.4GB"
std::string pretty_bytes(std::uint64_t bytes);

}  // namespace shakedown::controller
