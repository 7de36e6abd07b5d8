// RFC 6298's retransmission timer state, apart from the connection (as smoltcp's
// RttEstimator and INET's TcpAlgorithm hold it): the smoothed RTT, its variation, the
// RTO, and the one segment being timed — never a retransmitted one (Karn).
#pragma once

#include <algorithm>
#include <optional>

#include "emulator/time.h"
#include "nodes/tcp/seq.h"

namespace shakedown::tcp {

class RttEstimator {
 public:
  // The bounds are the connection's (tcp::Config), passed in rather than kept twice:
  // a million connections notice 16 bytes each.
  explicit RttEstimator(Duration initial_rto) : rto_(initial_rto) {}

  Duration rto() const { return rto_; }
  bool have_sample() const { return have_sample_; }
  // The smoothed RTT; zero before the first sample.
  Duration srtt() const { return have_sample_ ? srtt_ : Duration::zero(); }

  // RFC 6298 2.2 and 2.3: a measurement, and the RTO it gives.
  Duration sample(Duration rtt, Duration min_rto, Duration max_rto) {
    if (!have_sample_) {
      srtt_ = rtt;
      rttvar_ = rtt / 2;
      have_sample_ = true;
    } else {
      const Duration delta = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
      rttvar_ = (rttvar_ * 3 + delta) / 4;
      srtt_ = (srtt_ * 7 + rtt) / 8;
    }
    rto_ = std::clamp(srtt_ + rttvar_ * 4, min_rto, max_rto);
    return rto_;
  }
  // RFC 6298 5.5: the timer expired; the measurement in progress is void (Karn).
  void back_off(Duration max_rto) {
    rto_ = std::min(rto_ * 2, max_rto);
    timing_ = false;
  }
  // RFC 6298 5.7: no sample after a SYN timeout: the RTO starts again from 3 s (Linux
  // TCP_TIMEOUT_FALLBACK), not from the backed-off value.
  void fall_back_after_syn_timeout(Duration initial_rto, Duration max_rto) {
    if (!have_sample_) rto_ = std::min(std::max(initial_rto, Duration::seconds(3)), max_rto);
  }

  // RFC 6298 3: one segment timed at a time, from when it was first sent until `end`
  // is acknowledged.
  bool timing() const { return timing_; }
  void start_timing(Seq end, TimePoint now) {
    timing_ = true;
    timed_end_ = end;
    timed_at_ = now;
  }
  void stop_timing() { timing_ = false; }
  // The timed segment's RTT once SND.UNA covers it (and the timing stops).
  std::optional<Duration> acknowledged(Seq snd_una, TimePoint now) {
    if (!timing_ || snd_una < timed_end_) return std::nullopt;
    timing_ = false;
    return now - timed_at_;
  }

 private:
  Duration srtt_, rttvar_, rto_;
  bool have_sample_ = false;
  bool timing_ = false;
  Seq timed_end_;
  TimePoint timed_at_;
};

}  // namespace shakedown::tcp
