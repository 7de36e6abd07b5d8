// Evaluating a topology file's expectations (topologies/expect.h) against a finished
// run: each gives pass or fail, the value the run actually had, and where to look
// when it failed (the connections or the moment that broke it).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/recorder.h"
#include "controller/report.h"
#include "nodes/network.h"
#include "topologies/topology.pb.h"

namespace shakedown::controller {

struct ExpectationResult {
  std::string text;
  std::string where;  // file:line:col
  bool passed = false;
  std::string actual;  // the left side's value as the run had it
  std::string detail;  // where to look, when it failed
};

// What a topology's expectations ask of a run.
struct ExpectationNeeds {
  bool timelines = false;    // a state_at: the recorder keeps every side's state changes
  bool seen = false;         // a "HOST sees/sends KIND": it keeps when hosts saw what
  bool wrong_bytes = false;  // a comparison on bytes.wrong: wrong bytes are expected, not a failed run
};
ExpectationNeeds needs(const topology::Topology& topology);

// What the recorder must keep during the run for these expectations: call before it.
void prepare(Recorder& recorder, const topology::Topology& topology);

// `run_dir`: the run's folder, named in the hints of failed expectations.
std::vector<ExpectationResult> evaluate(const topology::Topology& topology, const Recorder& recorder,
                                        Network& network, const Summary& summary, const std::string& run_dir);

// The results back from what to_json wrote (a summary's "expectations"): what a run in
// another process said. Entries that are not objects are skipped.
std::vector<ExpectationResult> expectations_from_json(const nlohmann::json& array);
nlohmann::ordered_json to_json(const std::vector<ExpectationResult>& results);
// "  expectations    3 passed, 1 failed" and a line per failure.
std::string human(const std::vector<ExpectationResult>& results);

}  // namespace shakedown::controller
