// A set of disjoint half-open byte ranges [begin, end) of a stream, kept sorted: the
// receiver's out-of-order data (and the blocks SACK reports), the sender's scoreboard.
// Offsets are 64-bit stream positions, so wraparound of sequence numbers never enters.
#pragma once

#include <cstdint>
#include <vector>

namespace shakedown::tcp {

struct Range {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  bool operator==(const Range&) const = default;
};

class RangeSet {
 public:
  // Adds [begin, end), merging with what overlaps or touches it.
  void add(std::uint64_t begin, std::uint64_t end);
  // Removes everything below `offset`.
  void remove_below(std::uint64_t offset);
  // If a range starts at or before `offset`, the end of that range (contiguous data
  // from offset onwards); otherwise `offset` itself.
  std::uint64_t contiguous_end(std::uint64_t offset) const;
  bool contains(std::uint64_t offset) const;
  bool empty() const { return ranges_.empty(); }
  const std::vector<Range>& ranges() const { return ranges_; }
  std::uint64_t bytes() const;

 private:
  std::vector<Range> ranges_;
};

}  // namespace shakedown::tcp
