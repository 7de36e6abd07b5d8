// The sender's SACK scoreboard (RFC 6675), apart from the connection (as smoltcp and
// INET keep theirs): the ranges the receiver reported, in 64-bit unwrapped sequence
// numbers — una() is SND.UNA unwrapped, so ranges stay ordered across 2^32 — and the
// end of the highest retransmission of the current recovery (HighRxt).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "nodes/tcp/ranges.h"
#include "nodes/tcp/seq.h"
#include "nodes/wire/tcp.h"

namespace shakedown::tcp {

class SackScoreboard {
 public:
  std::uint64_t una() const { return una_; }
  // A sequence number as an unwrapped offset, given SND.UNA.
  std::uint64_t unwrap(Seq s, Seq snd_una) const {
    return una_ + static_cast<std::uint64_t>(static_cast<std::int64_t>(s - snd_una));
  }
  // SND.UNA moved forward by `acked`: what is below it is no longer outstanding.
  void advance(std::uint32_t acked) {
    una_ += acked;
    sacked_.remove_below(una_);
  }
  // RFC 2018 / RFC 6675: record the blocks the receiver reports, ignoring any outside
  // what is outstanding (a reneging or confused receiver must not corrupt the board).
  void record(const wire::TcpOptions& o, Seq snd_una, Seq snd_max) {
    for (std::size_t i = 0; i < o.sack_count; ++i) {
      const Seq left(o.sack[i].left), right(o.sack[i].right);
      if (!(snd_una < left && left < right && right <= snd_max)) continue;
      sacked_.add(unwrap(left, snd_una), unwrap(right, snd_una));
    }
  }
  // RFC 6675 5.1: after a timeout, SACK information is not trusted.
  void forget() { sacked_ = RangeSet(); }
  bool empty() const { return sacked_.empty(); }

  // Recovery began: nothing retransmitted yet.
  void begin_recovery() { high_rxt_ = una_; }
  void retransmitted_to(std::uint64_t end) { high_rxt_ = std::max(high_rxt_, end); }
  std::uint64_t high_rxt() const { return high_rxt_; }

  // RFC 6675 IsLost: a byte is lost once DupThresh discontiguous SACKed blocks, or more
  // than (DupThresh - 1) * SMSS SACKed bytes, lie above it. Both counts only grow as the
  // byte gets lower, so the lost bytes are exactly the unSACKed ones below one point.
  std::uint64_t lost_below(std::uint64_t mss, std::uint64_t dupthresh) const {
    const auto& ranges = sacked_.ranges();
    std::uint64_t bytes = 0, blocks = 0;
    for (std::size_t i = ranges.size(); i-- > 0;) {
      bytes += ranges[i].end - ranges[i].begin;
      ++blocks;
      if (blocks >= dupthresh || bytes > (dupthresh - 1) * mss) return ranges[i].begin;
    }
    return una_;
  }
  std::uint64_t sacked_between(std::uint64_t a, std::uint64_t b) const {
    std::uint64_t n = 0;
    for (const Range& r : sacked_.ranges()) {
      const std::uint64_t lo = std::max(a, r.begin), hi = std::min(b, r.end);
      if (lo < hi) n += hi - lo;
    }
    return n;
  }
  // RFC 6675 SetPipe: unSACKed bytes not lost are in the network once, and bytes
  // retransmitted in this recovery once more. `top` is SND.MAX unwrapped.
  std::uint64_t pipe(std::uint64_t top, std::uint64_t mss, std::uint64_t dupthresh) const {
    const std::uint64_t lost = std::max(lost_below(mss, dupthresh), una_);
    const auto unsacked = [this](std::uint64_t a, std::uint64_t b) { return a < b ? (b - a) - sacked_between(a, b) : 0; };
    return unsacked(lost, top) + unsacked(una_, std::min(high_rxt_, top));
  }
  // RFC 6675 NextSeg's candidate: the first unSACKed byte at or above HighRxt below
  // the highest SACKed byte; nullopt when there is none.
  std::optional<std::uint64_t> next_hole() const {
    const std::uint64_t highest = sacked_.empty() ? una_ : sacked_.ranges().back().end;
    std::uint64_t h = std::max(high_rxt_, una_);
    while (h < highest && sacked_.contains(h)) h = sacked_.contiguous_end(h);
    if (h >= highest) return std::nullopt;
    return h;
  }
  // The first SACKed byte above `offset` (a retransmission stops there), or `limit`.
  std::uint64_t next_sacked_above(std::uint64_t offset, std::uint64_t limit) const {
    for (const Range& r : sacked_.ranges())
      if (r.begin > offset) return std::min(limit, r.begin);
    return limit;
  }

 private:
  RangeSet sacked_;
  std::uint64_t una_ = 0;
  std::uint64_t high_rxt_ = 0;
};

}  // namespace shakedown::tcp
