#include "emulator/pcap.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "link_harness.h"
#include "support/files.h"

namespace shakedown {
namespace {

using testing::have_tshark;
using testing::lines;
using testing::slurp;
using testing::TempDir;

std::string run(const std::string& command) { return testing::run_command(command); }

TEST(PcapWriter, HeaderIsNanosecondRawIp) {
  TempDir dir;
  { PcapWriter w(dir.file("empty.pcap")); }
  const std::string bytes = slurp(dir.file("empty.pcap"));
  ASSERT_EQ(bytes.size(), 24u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x4d);
  EXPECT_EQ(static_cast<unsigned char>(bytes[3]), 0xa1);
  EXPECT_EQ(static_cast<unsigned char>(bytes[20]), 101);  // LINKTYPE_RAW
}

TEST(PcapWriter, UnwritablePathIsAClearError) {
  try {
    PcapWriter w("/nonexistent-dir/x.pcap");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.pcap"), std::string::npos);
  }
}

// A link with jitter and loss writes what arrives; tshark must read every record, with
// the nanosecond timestamps the engine gave them.
TEST(PcapSink, TsharkReadsEveryPacketWithExactTimestamps) {
  if (!have_tshark()) GTEST_SKIP() << "tshark not installed";
  TempDir dir;
  const std::string path = dir.file("arrivals.pcap");
  LinkParams p;
  p.delay = DelayParams{10_ms, 1_ms};
  p.loss = RandomLoss{Probability::from_fraction(0.05), {}};
  std::vector<std::int64_t> times;
  {
    testing::LinkHarness h(p, 21);
    PcapSink sink(path, [](const PacketEvent& e) { return e.kind == PacketEventKind::deliver; });
    h.link.set_observer(&sink);
    h.send_train(500, 1234_ns * 1000 + 7_ns);
    h.engine.run();
    for (const auto& a : h.recorder.arrivals) times.push_back(a.time.ns());
    EXPECT_EQ(sink.writer().records(), times.size());
  }
  ASSERT_GT(times.size(), 400u);
  const auto out = lines(run(std::string(SHAKEDOWN_TSHARK) + " -r " + path +
                             " -T fields -e frame.time_epoch -e ip.src -e udp.dstport -e _ws.expert 2>/dev/null"));
  ASSERT_EQ(out.size(), times.size()) << (out.empty() ? "" : out[0]);
  for (std::size_t i = 0; i < out.size(); ++i) {
    // tshark prints epoch seconds with nine decimals.
    const std::string expected =
        std::to_string(times[i] / 1'000'000'000) + "." + fmt::format("{:09d}", times[i] % 1'000'000'000);
    ASSERT_EQ(out[i], expected + "\t198.18.0.1\t6000\t") << "record " << i;
  }
}

// Wireshark validates checksums: clean packets pass, and every packet the link
// corrupted is flagged (a bad IPv4 or UDP checksum, or a header too broken to decode).
TEST(PcapSink, TsharkFlagsExactlyTheCorruptedPackets) {
  if (!have_tshark()) GTEST_SKIP() << "tshark not installed";
  TempDir dir;
  const std::string path = dir.file("corrupt.pcap");
  std::uint64_t corrupted = 0;
  {
    LinkParams p;
    p.corrupt = Probability::from_fraction(0.10);
    testing::LinkHarness h(p, 5);
    PcapSink sink(path, PcapSink::arrivals_on(0, 0));
    h.link.set_observer(&sink);
    h.send_train(1'000, 1_ms, 60);
    h.engine.run();
    corrupted = h.link.stats().corrupted;
  }
  ASSERT_GT(corrupted, 50u);
  const std::string tshark =
      std::string(SHAKEDOWN_TSHARK) + " -r " + path + " -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE";
  const auto all = lines(run(tshark + " -T fields -e frame.number 2>/dev/null"));
  EXPECT_EQ(all.size(), 1'000u);
  const auto flagged = lines(run(tshark + " -Y '_ws.expert.severity == error || ip.checksum.status == 0 || "
                                          "udp.checksum.status == 0 || !udp' -T fields -e frame.number 2>/dev/null"));
  EXPECT_EQ(flagged.size(), corrupted);
}

TEST(PcapSink, SameSeedGivesByteIdenticalCaptures) {
  TempDir dir;
  auto capture = [&](std::uint64_t seed, const std::string& name) {
    LinkParams p;
    p.delay = DelayParams{5_ms, 2_ms, {}, JitterDistribution::normal, true};
    p.loss = GilbertElliottLoss{Probability::from_fraction(0.02), Probability::from_fraction(0.3)};
    p.duplicate = Probability::from_fraction(0.01);
    p.corrupt = Probability::from_fraction(0.01);
    p.reorder = {Probability::from_fraction(0.05), {}, 1};
    p.rate = DataRate::mbps(20);
    testing::LinkHarness h(p, seed);
    PcapSink sink(dir.file(name), PcapSink::arrivals_on(0, 0));
    h.link.set_observer(&sink);
    h.send_train(3'000, 100_us, 300);
    h.engine.run();
    sink.writer().flush();
    return slurp(dir.file(name));
  };
  const std::string a = capture(99, "a.pcap");
  const std::string b = capture(99, "b.pcap");
  const std::string c = capture(100, "c.pcap");
  EXPECT_GT(a.size(), 3'000u * 300);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

}  // namespace
}  // namespace shakedown
