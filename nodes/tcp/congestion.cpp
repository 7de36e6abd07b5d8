#include "nodes/tcp/congestion.h"

#include <algorithm>

#include "nodes/tcp/cubic.h"
#include "nodes/tcp/newreno.h"
#include "nodes/tcp/reno.h"

namespace shakedown::tcp {

std::string_view to_string(CongestionAlgorithm a) {
  switch (a) {
    case CongestionAlgorithm::reno:
      return "reno";
    case CongestionAlgorithm::newreno:
      return "newreno";
    case CongestionAlgorithm::cubic:
      return "cubic";
  }
  return "?";
}

void CongestionControl::on_recovery_end(std::uint32_t flight_size) {
  // RFC 6582 3.2 step 3, option 1: min(ssthresh, max(FlightSize, SMSS) + SMSS).
  cwnd_ = std::min(ssthresh_, std::max(flight_size, mss_) + mss_);
}

void CongestionControl::on_timeout(std::uint32_t flight_size) {
  ssthresh_ = half_flight(flight_size);
  cwnd_ = mss_;  // the loss window, RFC 5681 3.1
  bytes_acked_in_ca_ = 0;
}

void CongestionControl::reno_growth(std::uint32_t acked_bytes) {
  if (cwnd_ < ssthresh_) {
    // Slow start: cwnd += min(N, SMSS) per ACK (RFC 5681 equation 2).
    cwnd_ = std::min(kMaxCwnd, cwnd_ + std::min(acked_bytes, mss_));
    return;
  }
  // Congestion avoidance: one SMSS per window of data acknowledged (RFC 5681 3.1,
  // the byte-counting form of equation 3).
  bytes_acked_in_ca_ += acked_bytes;
  if (bytes_acked_in_ca_ >= cwnd_) {
    bytes_acked_in_ca_ -= cwnd_;
    cwnd_ = std::min(kMaxCwnd, cwnd_ + mss_);
  }
}

std::unique_ptr<CongestionControl> make_congestion_control(CongestionAlgorithm a, std::uint32_t mss,
                                                           std::uint32_t initial_window_segments) {
  switch (a) {
    case CongestionAlgorithm::reno:
      return std::make_unique<Reno>(mss, initial_window_segments);
    case CongestionAlgorithm::newreno:
      return std::make_unique<NewReno>(mss, initial_window_segments);
    case CongestionAlgorithm::cubic:
      return std::make_unique<Cubic>(mss, initial_window_segments);
  }
  return std::make_unique<NewReno>(mss, initial_window_segments);
}

}  // namespace shakedown::tcp
