// Fuzz target for the TCP core: the input is a program of segments, commands and
// clock steps for one connection, in every state the program can reach. The core must
// never crash, never let its invariants go (SND.UNA <= SND.NXT <= SND.MAX, a deadline
// never in the past), and must drain its output: every poll terminates.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "nodes/tcp/connection.h"

namespace {

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t u8() { return n > 0 ? (--n, *p++) : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(u16()) << 16 | u16(); }
};

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "tcp_fuzz: invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shakedown;
  using namespace shakedown::tcp;
  Reader in{data, size};
  Config cfg;
  const std::uint8_t knobs = in.u8();
  cfg.sack = knobs & 1;
  cfg.timestamps = knobs & 2;
  cfg.window_scaling = knobs & 4;
  cfg.application_reads = knobs & 8;
  cfg.keepalive = knobs & 16;
  cfg.two_way_handshake = knobs & 32;
  cfg.strict_paws = knobs & 64;
  cfg.congestion = static_cast<CongestionAlgorithm>(in.u8() % 3);
  const std::uint32_t iss = in.u32();
  Connection c(cfg, 40000, 80, iss);
  TimePoint now = TimePoint::zero();
  int steps = 0;
  while (in.n > 0 && ++steps < 2000) {
    switch (in.u8() % 12) {
      case 0:
        c.connect(now);
        break;
      case 1: {
        wire::TcpHeader syn;
        syn.seq = in.u32();
        syn.flags = wire::tcp_flags::kSyn;
        syn.window = in.u16();
        c.accept(now, syn);
        break;
      }
      case 2:
        c.send(in.u16());
        break;
      case 3:
        c.close(now);
        break;
      case 4:
        c.shutdown(now);
        break;
      case 5:
        c.abort(now);
        break;
      case 6:
        c.read(in.u16());
        break;
      case 7:
        now = now + Duration::microseconds(in.u16() * 100);
        if (now >= c.next_deadline()) c.on_timeout(now);
        break;
      default: {
        // A segment near the connection's own numbers, or anywhere.
        wire::TcpHeader h;
        h.src_port = 80;
        h.dst_port = 40000;
        const std::uint8_t how = in.u8();
        h.seq = (how & 1) ? c.rcv_nxt().raw() + static_cast<std::int16_t>(in.u16()) : in.u32();
        h.ack = (how & 2) ? c.snd_nxt().raw() + static_cast<std::int16_t>(in.u16()) : in.u32();
        h.flags = in.u8() & 0x3f;
        h.window = in.u16();
        if (how & 4) h.options.mss = in.u16();
        if (how & 8) h.options.window_scale = in.u8();
        if (how & 16) h.options.timestamps = wire::TcpTimestamps{in.u32(), in.u32()};
        h.options.sack_permitted = how & 32;
        if (how & 64) {
          h.options.sack_count = static_cast<std::uint8_t>(1 + in.u8() % 3);
          for (std::uint8_t i = 0; i < h.options.sack_count; ++i) {
            const std::uint32_t left = c.snd_una().raw() + in.u16();
            h.options.sack[i] = wire::SackBlock{left, left + in.u16()};
          }
        }
        c.on_segment(now, h, in.u16() % 3000);
        break;
      }
    }
    int polls = 0;
    while (c.poll_transmit(now)) check(++polls < 100000, "poll_transmit never stops");
    while (c.poll_event()) check(++polls < 200000, "poll_event never stops");
    if (c.state() != State::closed && c.state() != State::listen) {
      check(c.snd_una() <= c.snd_nxt(), "SND.UNA <= SND.NXT");
    }
    check(c.next_deadline() == TimePoint::max() || c.next_deadline() >= now - Duration::seconds(1) ||
              c.state() == State::closed,
          "a deadline far in the past");
  }
  return 0;
}
