// Packet captures of a run: one pcap file per host (what tcpdump on the host's
// interface would show: every packet it sends as it enters the link, every packet
// that reaches it), or one per link (every packet entering the link, both
// directions). Files are pcap with nanosecond timestamps and raw IPv4 records (see
// emulator/pcap.h), valid at every record boundary.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "emulator/pcap.h"
#include "emulator/trace.h"
#include "nodes/network.h"
#include "topologies/topology.pb.h"

namespace shakedown::controller {

class Captures final : public Observer {
 public:
  enum class Mode { hosts, links };
  // `dir` must exist. With Mode::hosts, `hosts` selects the hosts to capture (node ids;
  // empty: every host). Throws std::runtime_error if a file cannot be created.
  Captures(const topology::Topology& topology, const Network& network, const std::string& dir, Mode mode,
           const std::vector<std::uint32_t>& hosts);

  void on_packet(const PacketEvent& e) override;
  void flush();
  std::size_t files() const { return writers_.size(); }
  std::uint64_t records() const;

 private:
  std::vector<std::unique_ptr<PcapWriter>> writers_;
  std::vector<PcapWriter*> on_enqueue_;  // by link * 2 + direction
  std::vector<PcapWriter*> on_deliver_;
};

}  // namespace shakedown::controller
