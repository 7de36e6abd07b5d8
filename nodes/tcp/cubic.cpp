#include "nodes/tcp/cubic.h"

#include <algorithm>
#include <cmath>

namespace shakedown::tcp {

double Cubic::target(Duration t) const {
  const double dt = t.seconds_f() - k_;
  return (kC * dt * dt * dt + w_max_) * mss_;
}

void Cubic::start_epoch(TimePoint now) {
  in_epoch_ = true;
  epoch_start_ = now;
  const double cwnd_segments = static_cast<double>(cwnd_) / mss_;
  if (w_max_ < cwnd_segments) {
    // No reduction yet (or the window already passed W_max): start on the plateau.
    w_max_ = cwnd_segments;
    k_ = 0;
  } else {
    k_ = std::cbrt((w_max_ - cwnd_segments) / kC);  // RFC 9438 equation 2
  }
  w_est_ = cwnd_segments;
}

void Cubic::on_ack(TimePoint now, std::uint32_t acked_bytes, Duration srtt) {
  if (cwnd_ < ssthresh_) {
    reno_growth(acked_bytes);
    return;
  }
  if (!in_epoch_) start_epoch(now);
  // RFC 9438 4.3: W_est grows by alpha per window, alpha = 3 (1 - beta) / (1 + beta).
  const double alpha = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);
  const double cwnd_segments = static_cast<double>(cwnd_) / mss_;
  w_est_ += alpha * (static_cast<double>(acked_bytes) / mss_) / cwnd_segments;
  // RFC 9438 4.2: aim at W(t + RTT), clamped to [cwnd, 1.5 cwnd].
  const double target_segments = target((now - epoch_start_) + srtt) / mss_;
  double next = cwnd_segments;
  if (w_est_ > target_segments) {
    next = w_est_;  // the Reno-friendly region
  } else if (target_segments > cwnd_segments) {
    next = cwnd_segments + (std::min(target_segments, 1.5 * cwnd_segments) - cwnd_segments) *
                               (static_cast<double>(acked_bytes) / mss_) / cwnd_segments;
  }
  cwnd_ = std::max(cwnd_, static_cast<std::uint32_t>(std::min(next * mss_, static_cast<double>(kMaxCwnd))));
}

void Cubic::on_congestion(TimePoint, std::uint32_t flight_size) {
  const double cwnd_segments = static_cast<double>(cwnd_) / mss_;
  // RFC 9438 4.7 fast convergence: a flow whose W_max keeps falling releases bandwidth.
  if (cwnd_segments < w_max_) {
    w_max_ = cwnd_segments * (1.0 + kBeta) / 2.0;
  } else {
    w_max_ = cwnd_segments;
  }
  const auto reduced = static_cast<std::uint32_t>(std::max(static_cast<double>(flight_size), 0.0) * kBeta);
  ssthresh_ = std::max(reduced, 2 * mss_);
  cwnd_ = ssthresh_;
  in_epoch_ = false;
}

void Cubic::on_timeout(std::uint32_t flight_size) {
  on_congestion(TimePoint::zero(), flight_size);
  CongestionControl::on_timeout(flight_size);
  ssthresh_ = std::max(static_cast<std::uint32_t>(flight_size * kBeta), 2 * mss_);
  in_epoch_ = false;
}

}  // namespace shakedown::tcp
