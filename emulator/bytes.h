// Plain values as bytes, for what travels between the parts of a distributed run
// (every process is the same binary, so a value's bytes mean the same everywhere).
#pragma once

#include <cstring>
#include <string>
#include <type_traits>

namespace shakedown::bytes {

template <typename T>
void put(std::string& out, const T& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Reads a T at p and moves p past it.
template <typename T>
T take(const char*& p) {
  static_assert(std::is_trivially_copyable_v<T>);
  T v;
  std::memcpy(&v, p, sizeof v);
  p += sizeof v;
  return v;
}

}  // namespace shakedown::bytes
