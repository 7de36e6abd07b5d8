// Fuzz target for the IPv4 and TCP codecs: any bytes in. A parse either refuses them
// or gives headers that emit back to bytes that parse to the same headers (a round
// trip); nothing reads past the input, nothing crashes (the `fuzz` preset runs it
// under AddressSanitizer and UBSan).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "nodes/wire/ipv4.h"
#include "nodes/wire/tcp.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shakedown::wire;
  const std::span<const std::uint8_t> bytes(data, size);
  for (const bool verify : {true, false}) {
    const auto ip = parse_ipv4(bytes, verify);
    if (!ip.ok()) continue;
    if (ip.value.payload.data() < data || ip.value.payload.data() + ip.value.payload.size() > data + size) std::abort();
    const auto seg = parse_tcp(ip.value.payload, ip.value.header.src, ip.value.header.dst, verify);
    if (!seg.ok()) continue;
    const TcpHeader& h = seg.value.header;
    if (h.options.sack_count > kMaxSackBlocks) std::abort();
    if (h.options.encoded_size() > kMaxOptionBytes) continue;  // parsed, but more than one header can carry
    std::vector<std::uint8_t> out(h.header_size() + seg.value.payload.size());
    emit_tcp(h, seg.value.payload, ip.value.header.src, ip.value.header.dst, out);
    const auto again = parse_tcp(out, ip.value.header.src, ip.value.header.dst, /*verify_checksum=*/true);
    if (!again.ok() || !(again.value.header == h)) std::abort();
  }
  return 0;
}
