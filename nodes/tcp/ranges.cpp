#include "nodes/tcp/ranges.h"

#include <algorithm>

namespace shakedown::tcp {

void RangeSet::add(std::uint64_t begin, std::uint64_t end) {
  if (begin >= end) return;
  // First range that ends at or after `begin` (it may touch or overlap).
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), begin,
                                [](const Range& r, std::uint64_t b) { return r.end < b; });
  auto last = first;
  while (last != ranges_.end() && last->begin <= end) {
    begin = std::min(begin, last->begin);
    end = std::max(end, last->end);
    ++last;
  }
  first = ranges_.erase(first, last);
  ranges_.insert(first, Range{begin, end});
}

void RangeSet::remove_below(std::uint64_t offset) {
  auto it = ranges_.begin();
  while (it != ranges_.end() && it->end <= offset) ++it;
  it = ranges_.erase(ranges_.begin(), it);
  if (it != ranges_.end() && it->begin < offset) it->begin = offset;
}

std::uint64_t RangeSet::contiguous_end(std::uint64_t offset) const {
  for (const Range& r : ranges_) {
    if (r.begin > offset) break;
    if (r.end > offset) return r.end;
  }
  return offset;
}

bool RangeSet::contains(std::uint64_t offset) const {
  for (const Range& r : ranges_) {
    if (r.begin > offset) return false;
    if (offset < r.end) return true;
  }
  return false;
}

std::uint64_t RangeSet::bytes() const {
  std::uint64_t n = 0;
  for (const Range& r : ranges_) n += r.end - r.begin;
  return n;
}

}  // namespace shakedown::tcp
