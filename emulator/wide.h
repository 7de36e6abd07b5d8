// 128-bit integers for exact intermediate products (rate * time, draws * spans).
// A GCC/Clang extension; __extension__ keeps -Wpedantic quiet about it.
#pragma once

namespace shakedown {
__extension__ typedef unsigned __int128 u128;
}  // namespace shakedown
