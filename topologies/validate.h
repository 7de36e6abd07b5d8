// Checks a canonical topology (topology.proto) against the rules the YAML loader
// enforces, for a canonical form that did not come from the loader: a topology.txtpb
// given back to `shakedown run`, edited by hand or by a script, or one built in code.
// Every index points at something that exists, every number is in its range, every
// time within the run's horizon. Errors name the field by its path, as in
// "links[3].forward.delay_ns: -5 is negative".
#pragma once

#include <string>

#include "topologies/topology.pb.h"

namespace shakedown::topology {

// Throws LoadError (file, no line: "FILE: FIELD: what is wrong") at the first problem.
void validate(const Topology& topology, const std::string& file);

}  // namespace shakedown::topology
