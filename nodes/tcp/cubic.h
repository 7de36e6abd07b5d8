// CUBIC (RFC 9438), Linux's default: after a loss the window follows
//   W(t) = C (t - K)^3 + W_max,   K = cbrt(W_max (1 - beta) / C),
// in segments, with C = 0.4 and beta = 0.7, and never grows slower than the
// Reno-friendly estimate W_est (RFC 9438 4.3). Slow start is Reno's.
#pragma once

#include "nodes/tcp/congestion.h"

namespace shakedown::tcp {

class Cubic final : public CongestionControl {
 public:
  static constexpr double kC = 0.4;
  static constexpr double kBeta = 0.7;

  Cubic(std::uint32_t mss, std::uint32_t iw) : CongestionControl(mss, iw) {}
  CongestionAlgorithm algorithm() const override { return CongestionAlgorithm::cubic; }
  void on_ack(TimePoint now, std::uint32_t acked_bytes, Duration srtt) override;
  void on_congestion(TimePoint now, std::uint32_t flight_size) override;
  void on_timeout(std::uint32_t flight_size) override;

  // For tests: the cubic target, in bytes, t after the epoch began.
  double target(Duration t) const;
  double w_max_segments() const { return w_max_; }
  double k_seconds() const { return k_; }

 private:
  void start_epoch(TimePoint now);

  double w_max_ = 0;  // segments, the window before the last reduction
  double k_ = 0;      // seconds
  double w_est_ = 0;  // segments, the Reno-friendly estimate
  bool in_epoch_ = false;
  TimePoint epoch_start_;
};

}  // namespace shakedown::tcp
