// Why a packet could not be parsed. A codec never reads outside the bytes it was given:
// every malformed input ends in one of these.
#pragma once

#include <cstdint>
#include <string_view>

namespace shakedown::wire {

enum class WireError : std::uint8_t {
  ok,
  truncated,          // fewer bytes than the headers claim or need
  bad_version,        // IPv4 version field is not 4
  bad_header_length,  // IPv4 IHL below 5, or TCP data offset below 5
  bad_total_length,   // IPv4 total length smaller than the header
  bad_checksum,       // IPv4 header or TCP checksum does not verify
  fragment,           // an IPv4 fragment: shakedown never fragments, so one is malformed input
  bad_option,         // a TCP option whose length is impossible or runs past the header
};

std::string_view to_string(WireError e);

// A parsed value or the reason there is none.
template <class T>
struct Parsed {
  T value{};
  WireError error = WireError::ok;
  bool ok() const { return error == WireError::ok; }
};

}  // namespace shakedown::wire
