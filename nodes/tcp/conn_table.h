// The endpoint's four-tuple table: a packed (local port, remote port, remote address)
// key to a connection id, in the flat open-addressing map (emulator/flat_map.h). Key 0
// is never a connection's (its local port would be 0). A server with 10^5
// connections looks one up per segment.
#pragma once

#include <cstdint>

#include "emulator/flat_map.h"

namespace shakedown::tcp {

template <typename Value>
using ConnTable = FlatMap<std::uint64_t, Value>;

}  // namespace shakedown::tcp
