// What the topology fuzz targets do with an input that loaded: build it and run a few
// simulated milliseconds when it is small enough to be quick. Whatever loaded (or
// passed validate()) must build and run: any exception here, the builder's refusals
// included, is a check the loader or validate() lacks, and aborts so the fuzzer says so.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "controller/build.h"

namespace shakedown::fuzz {

inline void run_small(const topology::Topology& t, const char* target) {
  if (t.nodes_size() > 200 || t.links_size() > 400) return;
  try {
    Engine engine;
    PacketPool pool;
    controller::Built built(engine, pool, t);
    engine.run_until(TimePoint::zero() + Duration::milliseconds(50));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: unexpected exception: %s\n", target, e.what());
    std::abort();
  }
}

}  // namespace shakedown::fuzz
