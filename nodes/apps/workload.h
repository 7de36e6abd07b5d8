// Workloads: who connects to whom, when, how much data flows, and who closes first.
// One Workload describes both ends of a set of connections — the client application
// on every client host and the server application on the server — so each side knows
// what the other will send, and "the server closes once it has the whole request" is
// well defined. docs/workloads.md has the whole behaviour; this is the data.
//
// Every connection's exchange is a number of rounds: the client sends `request`
// bytes, the server answers with `response` bytes (the echo server sends back each
// byte as it arrives); after a full answer, and a think time, the next round.
//   connect           no rounds: open, then close at once (the handshake/teardown study)
//   bulk              one round of `bytes` and no answer
//   request_response  `repetitions` rounds of request/response
//   echo              `repetitions` rounds; the answer is the request, byte for byte in count
//   stream            `rate` for `duration` from each connection's start, in `chunk`s
//
// Payload bytes are generated from (connection, stream offset) by the hosts and every
// byte is verified where it arrives (nodes/payload.h); a workload counts bytes only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "emulator/engine.h"
#include "emulator/random.h"
#include "emulator/time.h"
#include "emulator/units.h"
#include "nodes/apps/stack.h"
#include "nodes/network.h"

namespace shakedown::apps {

// When a workload's connections start. The times are drawn for the whole workload and
// dealt to its client hosts in turn (start k goes to client k mod N), so a Poisson
// rate is the rate of arrivals at the server.
struct StartSchedule {
  enum class Kind : std::uint8_t {
    at,       // every connection at `at` ("all at once" is at zero)
    list,     // one connection per entry of `times`
    uniform,  // each start uniform in [from, to)
    poisson,  // arrivals at `rate_per_second` from `from` (exponential gaps)
  };
  Kind kind = Kind::at;
  TimePoint at = TimePoint::zero();
  std::vector<TimePoint> times;
  TimePoint from = TimePoint::zero();
  TimePoint to = TimePoint::zero();
  double rate_per_second = 0;

  // The start times of `count` connections, in order. Throws std::invalid_argument
  // when the schedule cannot give them (a list of another length, an empty interval,
  // a rate that is not positive).
  std::vector<TimePoint> times_for(std::uint64_t count, RandomStream& rng) const;
};

// syn_flood: the client side of connect with nobody closing, and no server side of its
// own: it opens connections to a port another workload serves (or nobody does), to
// fill that listener's SYN queue. Give its host a link that loses the SYN-ACKs (a
// spoofed source never answers them) for the half-open connections to stay.
enum class AppKind : std::uint8_t { connect, bulk, request_response, echo, stream, syn_flood };

// Who closes first. The other side closes when it sees the FIN and has sent all it
// had to send (the passive close of RFC 9293 3.6).
enum class CloseMode : std::uint8_t {
  client,        // the client closes when its exchange is done
  server,        // the server closes when its exchange is done
  both,          // each side closes when its own exchange is done, without waiting
  client_abort,  // the client aborts with RST when done
  server_abort,  // the server aborts with RST when done
  never,         // nobody closes: the connections stay open
};

struct Workload {
  std::string name;
  AppKind app = AppKind::connect;
  std::vector<std::uint32_t> clients;  // host node ids
  std::uint32_t server = 0;            // host node id
  std::uint16_t port = 80;
  // The clients' local port; 0: an ephemeral one per connection. With a fixed port a
  // client's connections share one four-tuple, so a new one cannot start while the
  // last is still in TIME_WAIT (it counts as not started).
  std::uint16_t client_port = 0;
  std::uint32_t connections = 1;  // per client host
  StartSchedule start;

  std::uint64_t bytes = 0;        // bulk
  std::uint64_t request = 0;      // request_response, echo
  std::uint64_t response = 0;     // request_response
  std::uint32_t repetitions = 1;  // request_response, echo
  Duration think = Duration::zero();
  DataRate rate;                       // stream
  Duration duration = Duration::zero();  // stream, per connection
  std::uint32_t chunk = 1448;          // stream: bytes written per tick

  CloseMode close = CloseMode::client;
  // The closing side sends its FIN as soon as it has nothing more to send, and goes on
  // receiving (shutdown, RFC 9293 3.6's half-close), instead of closing when the whole
  // exchange is done.
  bool half_close = false;

  ListenOptions listen;
  // false: the server runs nothing on the port, so every SYN is answered with RST
  // (RFC 9293 3.10.7.1) and the connections are refused. syn_flood never serves.
  bool serve = true;
  bool serves() const { return serve && app != AppKind::syn_flood; }
};

// Counts over one workload. Every client connection that started ends exactly one
// way (or is still open): completed + incomplete + reset + refused + timed_out +
// crashed + open == started.
struct WorkloadStats {
  std::uint64_t planned = 0;        // connections the schedule asked for
  std::uint64_t started = 0;        // connect() issued
  std::uint64_t not_started = 0;    // connect() found no free port, or the host was down
  std::uint64_t connected = 0;      // handshake completed on the client
  std::uint64_t completed = 0;      // every byte both ways, ended as the close mode intends
  std::uint64_t incomplete = 0;     // closed normally with bytes missing
  std::uint64_t reset = 0;          // reset by the peer (other than the mode's abort)
  std::uint64_t refused = 0;        // the SYN was answered with RST
  std::uint64_t timed_out = 0;      // retransmissions ran out
  std::uint64_t crashed = 0;        // the client host crashed
  std::uint64_t open = 0;           // not ended yet
  std::uint64_t client_bytes_sent = 0;      // accepted by the client's sockets
  std::uint64_t client_bytes_received = 0;  // delivered in order to the client
  std::uint64_t server_accepted = 0;
  std::uint64_t server_bytes_received = 0;
  std::uint64_t server_bytes_sent = 0;
  std::uint64_t server_reset = 0;  // server-side connections ended by RST
  // Every count that each process of a distributed run keeps for what it ran (so the
  // sums are one process's counts): all but the plan, which every process knows whole.
  template <typename F>
  void each_counted(F&& f) {
    f(started), f(not_started), f(connected), f(completed), f(incomplete), f(reset), f(refused), f(timed_out);
    f(crashed), f(open), f(client_bytes_sent), f(client_bytes_received), f(server_accepted);
    f(server_bytes_received), f(server_bytes_sent), f(server_reset);
  }
};

class ClientApp;
class ServerApp;

// The workloads of one run: one Stack per host that takes part, the applications,
// and the start events. Owns them; lives as long as the network runs.
class Workloads {
 public:
  Workloads(Engine& engine, Network& network, std::uint64_t run_seed);
  ~Workloads();
  Workloads(const Workloads&) = delete;
  Workloads& operator=(const Workloads&) = delete;

  // Installs the server's listener and schedules every client start. Throws
  // std::invalid_argument naming the workload and the problem for a workload that
  // cannot run (no clients, a router as an end, a port already taken, ...).
  std::size_t add(const Workload& w);

  // The host's socket API, created on first use.
  Stack& stack(std::uint32_t host);
  WorkloadStats stats(std::size_t workload) const;
  void set_stats(std::size_t workload, const WorkloadStats& s);  // a distributed run's sums
  // When each of the workload's connections starts (start k on client k mod N).
  const std::vector<TimePoint>& start_times(std::size_t workload) const;
  const Workload& workload(std::size_t i) const { return *specs_.at(i); }
  std::size_t size() const { return specs_.size(); }

 private:
  struct Run;
  Engine& engine_;
  Network& network_;
  std::uint64_t run_seed_;
  std::vector<std::unique_ptr<Stack>> stacks_;  // by node id
  std::vector<std::unique_ptr<Workload>> specs_;
  std::vector<std::unique_ptr<Run>> runs_;
};

std::string_view to_string(AppKind k);
std::string_view to_string(CloseMode m);

}  // namespace shakedown::apps
