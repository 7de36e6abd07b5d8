// The summary of a run: what the console prints at the end and what summary.json
// holds (the same figures, plus histograms). docs/traces.md describes every field.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/recorder.h"
#include "emulator/trace.h"

namespace shakedown::controller {

// Percentiles and a histogram of a set of durations (ns).
struct Distribution {
  std::uint64_t count = 0;
  std::int64_t min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
  double mean = 0;
  // Buckets on a 1-2-5 scale from 1 us to 1000 s: counts[i] values <= edges[i] (and
  // > edges[i-1]); values above the last edge are counted in the last bucket.
  std::vector<std::int64_t> edges;
  std::vector<std::uint64_t> counts;
  static Distribution of(std::vector<std::int64_t> values);
  nlohmann::ordered_json to_json() const;
};

// Per-connection rates in bits per second — goodput (payload the applications got) or
// throughput (payload sent, retransmissions included), each over the connection's
// span from its first payload byte sent to its last received — and the total: all
// those bytes over the span from the earliest first byte to the latest last one.
struct Rates {
  Distribution per_connection;  // bits per second, rounded to whole ones
  double total_bps = 0;
  static Rates of(const std::vector<const ConnectionRow*>& connections, bool goodput);
  nlohmann::ordered_json to_json() const;
};

struct Summary {
  std::string name;
  std::uint64_t seed = 0;
  // Connections by what became of them (the row's outcome, see recorder.h).
  std::uint64_t connections = 0, started = 0, established = 0, completed = 0, reset = 0, refused = 0, timed_out = 0,
                crashed = 0, open = 0;
  // Connections the workloads could not even begin: no free port, the four-tuple still
  // in TIME_WAIT (a fixed client_port), the host down.
  std::uint64_t not_started = 0;
  // Of the open ones, those whose every side still alive is in TIME_WAIT: done, but
  // waiting out 2 MSL when the run stopped.
  std::uint64_t in_time_wait = 0;
  Distribution handshake, teardown;
  Rates goodput, throughput;
  std::array<std::uint64_t, kRetransmitKinds> retransmissions{};
  std::array<std::uint64_t, kDropReasonCount> drops{};
  // delivered: payload bytes given in order to the applications (each byte once);
  // verified: every payload byte that arrived and was checked, retransmitted copies
  // included; wrong: those that differed from what was sent.
  std::uint64_t bytes_delivered = 0, bytes_verified = 0, bytes_wrong = 0, bytes_stale = 0;
  std::int64_t simulated_ns = 0;
  double wall_seconds = 0;
  std::uint64_t events = 0;
  bool interrupted = false;
  bool process_lost = false;  // a distributed run lost a process: the counters are rank 0's alone
  std::uint64_t failed() const { return refused + timed_out + crashed; }

  nlohmann::ordered_json to_json() const;
  // The console summary, a dozen lines.
  std::string human() const;
};

Summary summarize(const Recorder& recorder, Network& network);
// Adds one connection to the counts of `s` (connections, started, established and
// its outcome).
void count(Summary& s, const ConnectionRow& c);

// 20.1ms, 3.25s, 850us: three significant digits, for people.
// 1,234,567.
std::string thousands(std::uint64_t v);
std::string pretty_ns(std::int64_t ns);
// 94.2Mbps, 1.50Gbps, 800bps.
std::string pretty_bps(double bps);

}  // namespace shakedown::controller
