// Reno (RFC 5681): slow start, congestion avoidance, halve on loss; fast recovery ends
// with the first ACK of new data.
#pragma once

#include "nodes/tcp/congestion.h"

namespace shakedown::tcp {

class Reno : public CongestionControl {
 public:
  Reno(std::uint32_t mss, std::uint32_t iw) : CongestionControl(mss, iw) {}
  CongestionAlgorithm algorithm() const override { return CongestionAlgorithm::reno; }
  void on_ack(TimePoint, std::uint32_t acked_bytes, Duration) override { reno_growth(acked_bytes); }
  void on_congestion(TimePoint, std::uint32_t flight_size) override {
    ssthresh_ = half_flight(flight_size);
    cwnd_ = ssthresh_ + 3 * mss_;  // RFC 5681 3.2 step 3
    bytes_acked_in_ca_ = 0;
  }
  bool partial_ack_ends_recovery() const override { return true; }
};

}  // namespace shakedown::tcp
