// Packet captures in the classic pcap format with nanosecond timestamps (magic
// 0xa1b23c4d), link type LINKTYPE_RAW (101): each record is a bare IPv4 datagram, which
// Wireshark and tshark decode without any link-layer header.
//
// Every field is written little-endian whatever the host, so captures are
// byte-identical across machines. Records reach the file at record boundaries
// (RecordFile): a run that stops leaves a file tshark reads to its last record; a kill
// inside a write can cut that last one short.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <span>
#include <string>

#include "emulator/record_file.h"
#include "emulator/time.h"
#include "emulator/trace.h"

namespace shakedown {

inline constexpr std::uint32_t kPcapMagicNanoseconds = 0xa1b23c4d;
inline constexpr std::uint32_t kLinkTypeRaw = 101;

class PcapWriter {
 public:
  // Creates or truncates the file; throws std::runtime_error naming the path and the
  // system's reason if it cannot.
  explicit PcapWriter(const std::string& path, std::uint32_t snaplen = 65535);
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  void write(TimePoint t, std::span<const std::uint8_t> bytes);
  // Pushes buffered records to the file, so that what is there is complete.
  void flush();
  std::uint64_t records() const { return records_; }
  const std::string& path() const { return file_.path(); }

 private:
  void put32(std::uint32_t v);
  RecordFile file_;
  std::uint32_t snaplen_;
  std::uint64_t records_ = 0;
};

// An observer that writes the packet events it selects to a pcap file.
class PcapSink final : public Observer {
 public:
  using Filter = std::function<bool(const PacketEvent&)>;
  PcapSink(const std::string& path, Filter filter) : writer_(path), filter_(std::move(filter)) {}

  // Everything that arrives at the far end of one direction of one link: what
  // tcpdump on the receiving interface would see.
  static Filter arrivals_on(std::uint32_t link, std::uint8_t direction);

  void on_packet(const PacketEvent& e) override {
    if (filter_(e)) writer_.write(e.time, e.packet.bytes());
  }
  PcapWriter& writer() { return writer_; }

 private:
  PcapWriter writer_;
  Filter filter_;
};

}  // namespace shakedown
