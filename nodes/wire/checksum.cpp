#include "nodes/wire/checksum.h"

#include <bit>
#include <cstring>

namespace shakedown::wire {

std::uint32_t checksum_add(std::span<const std::uint8_t> bytes, std::uint32_t initial) {
  std::uint64_t sum = initial;
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  // Eight bytes at a time in the machine's own byte order: the ones' complement sum does
  // not depend on byte order, only its two bytes come out swapped (RFC 1071 2(B)), and
  // 32-bit halves added into 64 bits defer every carry to the fold (2(C)).
  std::uint64_t native = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    native += (w & 0xffffffffu) + (w >> 32);
  }
  while (native >> 16) native = (native & 0xffff) + (native >> 16);
  if constexpr (std::endian::native == std::endian::little) native = ((native & 0xff) << 8) | (native >> 8);
  sum += native;
  for (; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(bytes[i]) << 8 | bytes[i + 1];
  if (i < n) sum += static_cast<std::uint32_t>(bytes[i]) << 8;  // odd length: pad with zero
  while (sum >> 32) sum = (sum & 0xffffffff) + (sum >> 32);
  // Keep the partial sum in 32 bits so it can be chained; fold only at the end.
  return static_cast<std::uint32_t>((sum & 0xffff) + (sum >> 16));
}

std::uint16_t checksum_fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

std::uint32_t pseudo_header_sum(std::uint32_t src, std::uint32_t dst, std::uint8_t protocol, std::uint16_t length) {
  std::uint32_t sum = 0;
  sum += src >> 16;
  sum += src & 0xffff;
  sum += dst >> 16;
  sum += dst & 0xffff;
  sum += protocol;
  sum += length;
  return sum;
}

}  // namespace shakedown::wire
