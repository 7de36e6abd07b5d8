// Segments from the peer (port 80) to the connection under test (port 40000), for
// tier-1 tests that feed the bare core.
#pragma once

#include <cstdint>

#include "nodes/wire/tcp.h"

namespace shakedown::tcp::testing {

inline wire::TcpHeader seg(std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint16_t window = 65535) {
  wire::TcpHeader h;
  h.src_port = 80;
  h.dst_port = 40000;
  h.seq = seq;
  h.ack = ack;
  h.flags = flags;
  h.window = window;
  return h;
}

}  // namespace shakedown::tcp::testing
