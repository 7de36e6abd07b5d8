// NewReno (RFC 6582): Reno's window arithmetic; fast recovery lasts until everything
// outstanding when it began is acknowledged, retransmitting at each partial ACK.
#pragma once

#include "nodes/tcp/reno.h"

namespace shakedown::tcp {

class NewReno final : public Reno {
 public:
  NewReno(std::uint32_t mss, std::uint32_t iw) : Reno(mss, iw) {}
  CongestionAlgorithm algorithm() const override { return CongestionAlgorithm::newreno; }
  bool partial_ack_ends_recovery() const override { return false; }
};

}  // namespace shakedown::tcp
