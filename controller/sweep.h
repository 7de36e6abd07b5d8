// `shakedown sweep`: one topology file run once per value of a parameter, and chosen
// metrics of the runs as a table (sweep.csv) and a chart (sweep.svg). The file marks
// the parameter with ${NAME} wherever it goes:
//
//   links:
//     - {ends: [client, r], loss: ${loss}}
//
//   shakedown sweep lossy.yaml --vary loss=0%,5%,10%,20% --metric handshake.p50 --metric handshake.p90
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace shakedown::controller {

struct SweepOptions {
  std::string file;
  std::string vary;                  // NAME=V1,V2,...
  std::vector<std::string> metrics;  // handshake.p50, connections.completed, ... (docs/expectations.md)
  std::string out;                   // default: NAME-sweep
  bool quiet = false;
  // > 0: each value's run goes across this many processes (`shakedown run --ranks N`,
  // docs/distributed.md); the table and chart are the same bytes as from one.
  std::uint32_t ranks = 0;
  std::string engine = "shakedown";  // or ns3 (docs/ns3.md)
};

int sweep_main(const SweepOptions& o, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace shakedown::controller
