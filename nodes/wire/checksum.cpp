#include "nodes/wire/checksum.h"

namespace shakedown::wire {

std::uint32_t checksum_add(std::span<const std::uint8_t> bytes, std::uint32_t initial) {
  std::uint64_t sum = initial;
  const std::size_t n = bytes.size();
  std::size_t i = 0;
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
