// One segment through shakedown's TCP core: two connections wired back to back in
// memory, no engine, no packets — the state machines alone. An iteration is one
// round of the exchange; the figure is data segments per second (items/s): each taken
// from the sender, processed by the receiver, and its share of the ACKs (one per two
// segments, delayed ACK) processed by the sender.
#include <benchmark/benchmark.h>

#include <algorithm>

#include "nodes/tcp/connection.h"

using namespace shakedown;
using namespace shakedown::tcp;

namespace {

void BM_TcpSegment(benchmark::State& state) {
  Config config;
  config.sack = state.range(0) != 0;
  Connection client(config, 40000, 80, 1000), server(config, 80, 40000, 5000);
  TimePoint now = TimePoint::zero();
  const auto drain = [&](Connection& from, Connection& to) {
    std::uint64_t data = 0;
    while (auto t = from.poll_transmit(now)) {
      to.on_segment(now, t->header, t->length);
      data += t->length > 0 ? 1 : 0;
    }
    while (from.poll_event()) {
    }
    return data;
  };
  client.connect(now);
  auto syn = client.poll_transmit(now);
  server.accept(now, syn->header);
  drain(server, client);
  drain(client, server);
  std::uint64_t segments = 0;
  for (auto _ : state) {
    // One round: what the window lets out, then the ACKs; a pending delayed ACK goes
    // when its timer would fire (time jumps there: nothing else is waiting).
    now = now + Duration::microseconds(10);
    client.send(64 * 1024);  // always more to send than the window lets out
    segments += drain(client, server);
    drain(server, client);
    if (const TimePoint d = server.next_deadline(); d != TimePoint::max() && d <= now + Duration::milliseconds(50)) {
      now = std::max(now, d);
      server.on_timeout(now);
      drain(server, client);
    }
    while (server.poll_event()) {
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(segments));
  state.counters["segments"] = static_cast<double>(segments);
}
BENCHMARK(BM_TcpSegment)->Arg(0)->Arg(1)->ArgName("sack");

}  // namespace
