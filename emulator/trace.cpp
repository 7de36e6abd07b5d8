#include "emulator/trace.h"

namespace shakedown {

std::string_view to_string(DropReason r) {
  switch (r) {
    case DropReason::loss:
      return "loss";
    case DropReason::queue_full:
      return "queue_full";
    case DropReason::link_down:
      return "link_down";
    case DropReason::corrupt:
      return "corrupt";
    case DropReason::mtu:
      return "mtu";
    case DropReason::ttl:
      return "ttl";
    case DropReason::no_route:
      return "no_route";
    case DropReason::no_listener:
      return "no_listener";
    case DropReason::fault:
      return "fault";
    case DropReason::host_down:
      return "host_down";
  }
  return "unknown";
}

std::string_view to_string(PacketEventKind k) {
  switch (k) {
    case PacketEventKind::enqueue:
      return "enqueue";
    case PacketEventKind::deliver:
      return "deliver";
    case PacketEventKind::drop:
      return "drop";
  }
  return "unknown";
}

}  // namespace shakedown
