// Bytes per TCP connection, as the endpoint holds them: idle ESTABLISHED on each side,
// and half-open (SYN_RECEIVED) on a listener. Heap measured with mallinfo2 around the
// creation of N connections, so slot vectors, hash tables and per-connection objects
// (congestion control, event buffers, range sets) all count.
//
// Run: build/release/bench/tcp_memory [N]
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "nodes/tcp/endpoint.h"

using namespace shakedown;
using namespace shakedown::tcp;

namespace {

// Small chunks (uordblks) and the large ones malloc maps directly (hblkhd).
std::size_t heap_in_use() {
  const auto m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// Moves every segment queued in `from` to `to`; returns how many.
int pump(Endpoint& from, Endpoint& to, TimePoint now, bool drop_synacks = false) {
  int n = 0;
  while (auto o = from.poll_transmit()) {
    ++n;
    if (drop_synacks && o->segment.kind == SegmentKind::syn_ack) continue;
    to.on_segment(now, o->src, o->dst, o->segment.header, o->segment.length);
  }
  while (from.poll_event()) {
  }
  while (from.poll_changed()) {
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 20'000;  // below the 28232 ephemeral ports per peer
  const Config config;
  const auto client_addr = wire::Ipv4Address::of(198, 18, 0, 1);
  const auto server_addr = wire::Ipv4Address::of(198, 18, 0, 2);
  const TimePoint now = TimePoint::zero();

  const std::size_t before = heap_in_use();
  Endpoint client(config, client_addr, RandomStream(1, "c"));
  Endpoint server(config, server_addr, RandomStream(1, "s"));
  server.listen(80, 1'000'000, 1'000'000);
  std::vector<ConnId> ids;
  ids.reserve(static_cast<std::size_t>(n));
  const std::size_t base = heap_in_use();
  for (int i = 0; i < n; ++i) ids.push_back(*client.connect(now, server_addr, 80));
  // Handshakes: SYN, SYN-ACK, ACK.
  pump(client, server, now);
  pump(server, client, now);
  pump(client, server, now);
  const std::size_t established = heap_in_use() - base;
  std::size_t accepted = 0;
  while (server.accept(80)) ++accepted;

  // Half-open: a second server whose SYN-ACKs never get an answer.
  Endpoint client2(config, client_addr, RandomStream(2, "c"));
  Endpoint server2(config, wire::Ipv4Address::of(198, 18, 0, 3), RandomStream(2, "s"));
  server2.listen(80, 1'000'000, 1'000'000);
  for (int i = 0; i < n; ++i) client2.connect(now, server2.address(), 80);
  const std::size_t base2 = heap_in_use();
  pump(client2, server2, now);
  const std::size_t half_open = heap_in_use() - base2;

  std::printf("connections: %d per side (sizeof(Connection) = %zu bytes)\n", n, sizeof(Connection));
  std::printf("idle ESTABLISHED, client and server together: %zu bytes -> %.0f bytes per connection (each side)\n",
              established, static_cast<double>(established) / (2.0 * n));
  std::printf("half-open SYN_RECEIVED on a listener:         %zu bytes -> %.0f bytes per connection\n", half_open,
              static_cast<double>(half_open) / n);
  std::printf("(accepted %zu; heap before endpoints %zu bytes)\n", accepted, before);
  return accepted == static_cast<std::size_t>(n) ? 0 : 1;
}
