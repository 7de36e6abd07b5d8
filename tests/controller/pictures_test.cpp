// Pictures drawn from real runs: the textbook ladder of two hosts over 10 ms, exactly;
// the old duplicate SYN seen from both of its connections; lost segments; the
// time-sequence graph's retransmissions; the CDF's percentiles.
#include "controller/pictures.h"

#include <algorithm>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "controller/run.h"
#include "support/files.h"

namespace shakedown::controller {
namespace {

using shakedown::testing::TempDir;

const std::string kCatalog = SHAKEDOWN_CATALOG;

std::string run_into(const TempDir& dir, const std::string& file, const std::string& name) {
  RunOptions o;
  o.file = kCatalog + "/" + file;
  o.out = dir.file(name);
  o.quiet = true;
  o.pcap = "none";
  std::FILE* null = std::fopen("/dev/null", "w");
  EXPECT_EQ(run_experiment(o, null, null), 0);
  std::fclose(null);
  return o.out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(Pictures, TheThreeWayHandshakeAndTheFourWayWaveAsMermaid) {
  TempDir dir;
  const auto out = run_into(dir, "two-hosts.yaml", "run");
  const ConnectionTrace c = read_connection(out, 1);
  EXPECT_EQ(ladder_mermaid(c),
            "sequenceDiagram\n"
            "    participant C as client 198.18.0.1:32768\n"
            "    participant S as server 198.18.0.2:80\n"
            "    Note left of C: SYN_SENT (0)\n"
            "    C->>S: SYN seq=0 [0 → 10ms]\n"
            "    Note right of S: SYN_RECEIVED (10ms)\n"
            "    S->>C: SYN,ACK seq=0 ack=1 [10ms → 20ms]\n"
            "    Note left of C: ESTABLISHED (20ms)\n"
            "    Note left of C: FIN_WAIT_1 (20ms)\n"
            "    C->>S: ACK seq=1 ack=1 [20ms → 30ms]\n"
            "    C->>S: FIN,ACK seq=1 ack=1 [20ms → 30ms]\n"
            "    Note right of S: ESTABLISHED (30ms)\n"
            "    Note right of S: CLOSE_WAIT (30ms)\n"
            "    Note right of S: LAST_ACK (30ms)\n"
            "    S->>C: ACK seq=1 ack=2 [30ms → 40ms]\n"
            "    S->>C: FIN,ACK seq=1 ack=2 [30ms → 40ms]\n"
            "    Note left of C: FIN_WAIT_2 (40ms)\n"
            "    Note left of C: TIME_WAIT (40ms)\n"
            "    C->>S: ACK seq=2 ack=2 [40ms → 50ms]\n"
            "    Note right of S: CLOSED (50ms)\n"
            "    Note left of C: CLOSED (60.04s)\n");
}

TEST(Pictures, TheLadderSvgHasAnArrowPerSegmentAndABoxPerState) {
  TempDir dir;
  const auto out = run_into(dir, "two-hosts.yaml", "run");
  const std::string svg = ladder_svg(read_connection(out, 1));
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(count(svg, "marker-end=\"url(#head)\""), 7u) << "seven segments, none retransmitted";
  EXPECT_EQ(count(svg, "<rect x="), 11u + 2u) << "eleven state changes, and the cut in the time lines";
  for (const char* label : {">SYN seq=0<", ">SYN,ACK seq=0 ack=1<", ">FIN,ACK seq=1 ack=1<", ">TIME_WAIT<",
                            ">LAST_ACK<", "⋯ 59.99s later ⋯"})
    EXPECT_NE(svg.find(label), std::string::npos) << label;
  EXPECT_EQ(count(svg, "<svg"), count(svg, "</svg>"));
  EXPECT_EQ(count(svg, "<text"), count(svg, "</text>"));
}

// The held SYN belongs to two rows: sent by the first connection, it is received 90 s
// later by the server's second. Each ladder finds the other half.
TEST(Pictures, TheOldDuplicateSynFromBothSides) {
  TempDir dir;
  const auto out = run_into(dir, "old-duplicate-syn.yaml", "run");
  const ConnectionTrace first = read_connection(out, 1);
  const auto held = std::find_if(first.segments.begin(), first.segments.end(), [](const auto& s) {
    return s.flags == "SYN" && !s.retransmission;
  });
  ASSERT_NE(held, first.segments.end());
  EXPECT_EQ(*held->sent, 0);
  ASSERT_EQ(held->received.size(), 1u);
  EXPECT_EQ(held->received[0], 90'010'000'000) << "held 90 s, then 10 ms on the way";
  EXPECT_EQ(held->received_by, 2u) << "by the server's second connection";

  const std::string ghost = ladder_mermaid(read_connection(out, 2));
  EXPECT_EQ(ghost,
            "sequenceDiagram\n"
            "    participant C as client 198.18.0.1:32768\n"
            "    participant S as server 198.18.0.2:80\n"
            "    C->>S: SYN seq=0 — sent by connection 1 [0 → 90.01s]\n"
            "    Note right of S: SYN_RECEIVED (90.01s)\n"
            "    S->>C: SYN,ACK seq=0 ack=1 [90.01s → 90.02s]\n"
            "    C->>S: RST seq=1 [90.02s → 90.03s]\n"
            "    Note right of S: CLOSED (90.03s)\n");
}

// The TIME_WAIT example's held segment of connection 1 reaches connection 2: with
// timestamps PAWS refuses it, and the ladder says so; without, TCP takes it, and the
// ladder has no such mark.
TEST(Pictures, ASegmentRefusedByPawsIsMarked) {
  TempDir dir;
  for (const bool timestamps : {true, false}) {
    const auto out = run_into(dir, "../../examples/time-wait/" + std::string(timestamps ? "paws.yaml" : "without.yaml"),
                              timestamps ? "paws" : "without");
    const ConnectionTrace second = read_connection(out, 2);
    const auto held = std::find_if(second.segments.begin(), second.segments.end(),
                                   [](const auto& s) { return s.sent_by == 1u; });
    ASSERT_NE(held, second.segments.end()) << "the held segment, sent by connection 1";
    EXPECT_EQ(held->not_taken, timestamps);
    const std::string mermaid = ladder_mermaid(second);
    EXPECT_EQ(count(mermaid, "— sent by connection 1 — refused"), timestamps ? 1u : 0u) << mermaid;
    EXPECT_EQ(count(mermaid, "not taken"), 0u) << "no other segment of this run was left untaken";
  }
}

// On a lossy path: every lost segment is drawn as lost, every retransmission in red,
// and the time-sequence graph marks as many retransmissions as the table counts.
TEST(Pictures, LossAndRetransmissionsAreMarked) {
  TempDir dir;
  const auto out = run_into(dir, "lossy-path.yaml", "run");
  int checked = 0;
  for (std::uint64_t id = 1; id <= 20; ++id) {
    const ConnectionTrace c = read_connection(out, id);
    std::size_t lost = 0, retx[2] = {0, 0};
    for (const auto& s : c.segments) {
      lost += s.dropped ? 1 : 0;
      if (s.retransmission) ++retx[s.from];
    }
    if (lost == 0) continue;
    ++checked;
    const std::string mermaid = ladder_mermaid(c);
    EXPECT_EQ(count(mermaid, " — lost ("), lost) << "connection " << id;
    const std::string svg = ladder_svg(c);
    EXPECT_EQ(count(svg, "lost ("), lost);
    const int side = retx[1] >= retx[0] ? 1 : 0;
    const std::string graph = time_sequence_svg(c, side);
    // Red I-bars: a vertical stroke and its cap.
    EXPECT_EQ(count(graph, "stroke=\"#c0392b\" stroke-width=\"2.6\""), retx[side]) << "connection " << id;
  }
  EXPECT_GT(checked, 3);
}

TEST(Pictures, TheCdfMarksThePercentiles) {
  const std::vector<std::int64_t> ms20(90, 20'000'000);
  std::vector<std::int64_t> values = ms20;
  for (int i = 0; i < 10; ++i) values.push_back(1'020'000'000);
  const std::string svg = cdf_svg(values, "handshake time");
  EXPECT_NE(svg.find("handshake time (100 connections)"), std::string::npos);
  EXPECT_NE(svg.find(">p50 20.0ms<"), std::string::npos);
  EXPECT_NE(svg.find(">p90 20.0ms<"), std::string::npos);
  EXPECT_NE(svg.find(">p99 1.02s<"), std::string::npos);
  EXPECT_NE(svg.find("log scale"), std::string::npos) << "51 times apart: a log axis";
  EXPECT_THROW(cdf_svg({}, "none"), PictureError);
}

TEST(Pictures, ALogarithmicXAxisSpacesPowersOfTenEvenly) {
  const std::vector<double> xs{1e3, 1e4, 1e5, 1e6};
  const std::string svg = line_chart_svg("scaling", "connections", "us", xs, {Series{"wall", {45, 29, 44, 46}}}, true);
  std::vector<double> cx;
  for (std::size_t at = svg.find("<circle cx=\""); at != std::string::npos; at = svg.find("<circle cx=\"", at + 1))
    cx.push_back(std::stod(svg.substr(at + 12)));
  ASSERT_EQ(cx.size(), 4u);
  for (std::size_t i = 2; i < cx.size(); ++i) EXPECT_NEAR(cx[i] - cx[i - 1], cx[1] - cx[0], 0.2) << i;
  // On a linear axis the first three would crowd into the first tenth.
  const std::string linear = line_chart_svg("scaling", "connections", "us", xs, {Series{"wall", {45, 29, 44, 46}}});
  const auto first = linear.find("<circle cx=\"");
  const auto second = linear.find("<circle cx=\"", first + 1);
  EXPECT_LT(std::stod(linear.substr(second + 12)) - std::stod(linear.substr(first + 12)), (cx[1] - cx[0]) / 5);
  EXPECT_THROW(line_chart_svg("t", "x", "y", {0, 1}, {Series{"s", {1, 2}}}, true), PictureError);
}

TEST(Pictures, MissingFilesAndEventsAreClearErrors) {
  TempDir dir;
  EXPECT_THROW(read_connection(dir.file("nothing"), 1), PictureError);
  const auto out = run_into(dir, "two-hosts.yaml", "run");
  EXPECT_THROW(read_connection(out, 2), PictureError) << "there is one connection";
  RunOptions o;
  o.file = kCatalog + "/two-hosts.yaml";
  o.out = dir.file("states");
  o.quiet = true;
  o.events = "state";
  std::FILE* null = std::fopen("/dev/null", "w");
  ASSERT_EQ(run_experiment(o, null, null), 0);
  std::fclose(null);
  try {
    read_connection(o.out, 1);
    FAIL() << "no segments, no ladder";
  } catch (const PictureError& e) {
    EXPECT_NE(std::string(e.what()).find("--events all"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace shakedown::controller
