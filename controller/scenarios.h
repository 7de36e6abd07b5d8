// `shakedown test`: every scenario file under some paths, run in parallel (each run
// deterministic on its own), one line per scenario, JUnit XML for CI systems.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "controller/expectations.h"

namespace shakedown::controller {

struct TestOptions {
  std::vector<std::string> paths;  // files, or folders searched for *.yaml
  std::string filter;              // glob on the scenario's name or path; empty: all
  std::string junit;               // write JUnit XML here
  std::string keep;                // keep each run's folder under here (default: removed)
  unsigned jobs = 0;               // 0: as many as the machine has cores
  bool quiet = false;              // only failures and the total
  // Each scenario runs as a child process; one still running after this long is
  // killed and reported as an error. 0: no limit.
  std::int64_t timeout_ns = 600'000'000'000;
  // > 0: each scenario runs across this many processes (`shakedown run --ranks N`,
  // docs/distributed.md); its expectations are checked as after one.
  std::uint32_t ranks = 0;
  std::string engine = "shakedown";  // or ns3 (`shakedown run --engine`, docs/ns3.md)
};

struct ScenarioResult {
  std::string path;
  std::string name;  // the path's file name without .yaml
  int code = 0;      // the run's exit code
  double seconds = 0;
  std::vector<ExpectationResult> expectations;
  std::string output;  // what the run wrote to standard error
  bool kept = false;   // its run folder stays (--keep): hints may name it
  bool passed() const { return code == 0; }
};

// Runs one file as a child process of this program (`shakedown run FILE --json --out
// DIR`, no events or captures; across `ranks` processes when > 0): a run that crashes,
// or exhausts the memory, takes only itself down, and one that runs past the time
// limit (0: none) is killed. Fills the result's code, expectations and output.
void run_isolated(const std::string& file, const std::string& dir, std::int64_t timeout_ns, std::uint32_t ranks,
                  const std::string& engine,
                  ScenarioResult& r);

// The scenario files the paths name, sorted, filtered. Throws std::invalid_argument
// for a path that does not exist.
std::vector<std::string> find_scenarios(const std::vector<std::string>& paths, const std::string& filter);

// Each scenario runs as `shakedown run FILE --json` in a child process of this program
// (/proc/self/exe): call it from the shakedown binary.
std::vector<ScenarioResult> run_scenarios(const std::vector<std::string>& files, const TestOptions& options,
                                          std::FILE* out);

// JUnit XML as Jenkins, GitLab and GitHub's test reporters read it: one testsuite,
// one testcase per scenario, a <failure> per failed scenario with its expectations.
std::string junit_xml(const std::vector<ScenarioResult>& results);

// The whole command: exit 0 if every scenario passed, 1 if any failed, 2 on bad input.
int test_main(const TestOptions& options, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace shakedown::controller
