#include "emulator/pcap.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace shakedown {

PcapWriter::PcapWriter(const std::string& path, std::uint32_t snaplen) : file_(path), snaplen_(snaplen) {
  put32(kPcapMagicNanoseconds);
  const std::uint8_t version[4] = {2, 0, 4, 0};  // major 2, minor 4, little-endian u16s
  file_.add(version);
  put32(0);  // thiszone
  put32(0);  // sigfigs
  put32(snaplen_);
  put32(kLinkTypeRaw);
  // The header alone is a valid, empty capture: on disk from the start.
  file_.flush();
}

void PcapWriter::put32(std::uint32_t v) {
  const std::uint8_t b[4] = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
                             static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
  file_.add(b);
}

void PcapWriter::write(TimePoint t, std::span<const std::uint8_t> bytes) {
  const std::int64_t ns = t.ns();
  const auto captured = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), snaplen_));
  put32(static_cast<std::uint32_t>(ns / 1'000'000'000));
  put32(static_cast<std::uint32_t>(ns % 1'000'000'000));
  put32(captured);
  put32(static_cast<std::uint32_t>(bytes.size()));
  file_.add(bytes.first(captured));
  file_.end();
  ++records_;
}

void PcapWriter::flush() { file_.flush(); }

PcapSink::Filter PcapSink::arrivals_on(std::uint32_t link, std::uint8_t direction) {
  return [link, direction](const PacketEvent& e) {
    return e.kind == PacketEventKind::deliver && e.site.kind == Site::Kind::link && e.site.id == link &&
           e.site.direction == direction;
  };
}

}  // namespace shakedown
