// Congestion control behind a narrow interface (STYLE rule 8): the connection reports
// ACKs, congestion events and timeouts; the algorithm owns cwnd and ssthresh. Loss
// detection and recovery (fast retransmit, NewReno's partial ACKs) stay in the
// connection; an algorithm only says whether a partial ACK ends recovery.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "emulator/time.h"

namespace shakedown::tcp {

enum class CongestionAlgorithm : std::uint8_t { reno, newreno, cubic };

// cwnd never grows past the largest window a peer can offer (RFC 7323 2.3: 2^30 bytes):
// more could never be used, and an ACK clock left running while the application sends
// little would otherwise carry it past 32 bits.
inline constexpr std::uint32_t kMaxCwnd = 1u << 30;
std::string_view to_string(CongestionAlgorithm a);

class CongestionControl {
 public:
  virtual ~CongestionControl() = default;
  virtual CongestionAlgorithm algorithm() const = 0;

  // New data acknowledged outside fast recovery (RFC 5681 3.1).
  virtual void on_ack(TimePoint now, std::uint32_t acked_bytes, Duration srtt) = 0;
  // Three duplicate ACKs: entering fast recovery (RFC 5681 3.2 step 2).
  virtual void on_congestion(TimePoint now, std::uint32_t flight_size) = 0;
  // Leaving fast recovery on a full ACK (RFC 6582 3.2 step 3).
  virtual void on_recovery_end(std::uint32_t flight_size);
  // The retransmission timer expired (RFC 5681 3.1, equation 4, and cwnd = 1 SMSS).
  virtual void on_timeout(std::uint32_t flight_size);
  // Reno leaves recovery on the first ACK of new data; NewReno (RFC 6582) and CUBIC
  // stay until everything outstanding at the loss is acknowledged.
  virtual bool partial_ack_ends_recovery() const { return false; }

  std::uint32_t cwnd() const { return cwnd_; }
  std::uint32_t ssthresh() const { return ssthresh_; }
  std::uint32_t mss() const { return mss_; }
  // During fast recovery: one more segment left the network (RFC 5681 3.2 step 4), or
  // a partial ACK deflates the window (RFC 6582 step 3).
  void inflate(std::uint32_t bytes) { cwnd_ = bytes >= kMaxCwnd - cwnd_ ? kMaxCwnd : cwnd_ + bytes; }
  void deflate(std::uint32_t bytes) { cwnd_ = cwnd_ > bytes + mss_ ? cwnd_ - bytes : mss_; }
  // RFC 6675 5 step 4: SACK recovery runs at cwnd = ssthresh, with no inflation.
  void cwnd_to_ssthresh() { cwnd_ = ssthresh_; }
  // RFC 5681 3.1: the initial window after a lost SYN or SYN-ACK is one segment.
  void restart_from_one_segment() { cwnd_ = mss_; }

 protected:
  CongestionControl(std::uint32_t mss, std::uint32_t initial_window_segments)
      : cwnd_(mss * initial_window_segments), ssthresh_(0xffffffffu), mss_(mss) {}
  // RFC 5681 equation 4: ssthresh = max(FlightSize / 2, 2 * SMSS).
  std::uint32_t half_flight(std::uint32_t flight) const { return flight / 2 > 2 * mss_ ? flight / 2 : 2 * mss_; }
  // RFC 5681 3.1 slow start and congestion avoidance, with byte counting.
  void reno_growth(std::uint32_t acked_bytes);

  std::uint32_t cwnd_;
  std::uint32_t ssthresh_;
  std::uint32_t mss_;
  std::uint32_t bytes_acked_in_ca_ = 0;
};

std::unique_ptr<CongestionControl> make_congestion_control(CongestionAlgorithm a, std::uint32_t mss,
                                                           std::uint32_t initial_window_segments);

}  // namespace shakedown::tcp
