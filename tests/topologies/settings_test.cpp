// Each setting declared once: the tables of topologies/settings.h cover every field of
// the canonical form, give the defaults, and are what the reference docs print.
#include "topologies/settings.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace shakedown::topology::settings {
namespace {

std::set<std::string> fields(std::span<const Setting> table) {
  std::set<std::string> out;
  for (const Setting& s : table) out.emplace(s.field);
  return out;
}

TEST(Settings, EveryTcpFieldHasARow) {
  const auto rows = fields(tcp());
  const auto& d = *Tcp::descriptor();
  for (int i = 0; i < d.field_count(); ++i)
    EXPECT_TRUE(rows.contains(d.field(i)->name())) << "Tcp." << d.field(i)->name() << " has no row in settings::tcp()";
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(d.field_count())) << "a row names a field Tcp does not have";
}

TEST(Settings, EveryDirectionFieldHasARowOrBelongsToAStructuredOne) {
  auto rows = fields(link());
  // Set by the structured rows (loss, duplicate, corrupt, reorder) besides their own.
  for (const char* f : {"random_loss", "gilbert_elliott", "four_state", "duplicate_correlation", "corrupt_correlation",
                        "reorder_correlation", "reorder_gap"})
    rows.emplace(f);
  rows.erase("loss");  // a oneof, not a field
  const auto& d = *Direction::descriptor();
  for (int i = 0; i < d.field_count(); ++i)
    EXPECT_TRUE(rows.contains(d.field(i)->name())) << "Direction." << d.field(i)->name() << " has no row";
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(d.field_count()));
}

TEST(Settings, KeysAreUniqueAndDocumented) {
  for (auto table : {tcp(), link()}) {
    std::set<std::string_view> seen;
    for (const Setting& s : table) {
      EXPECT_TRUE(seen.insert(s.key).second) << s.key << " twice";
      EXPECT_FALSE(s.doc.empty()) << s.key;
      EXPECT_FALSE(default_of(s).empty()) << s.key << " shows no default";
      EXPECT_EQ(s.kind == Kind::structured, s.read != nullptr) << s.key;
    }
  }
}

TEST(Settings, DefaultsAreTheRowsReadAsAFileWritesThem) {
  const Tcp t = default_tcp();
  EXPECT_EQ(t.initial_rto_ns(), 1'000'000'000);
  EXPECT_EQ(t.receive_buffer(), 131072u);
  EXPECT_EQ(t.congestion(), Tcp::CUBIC);
  EXPECT_FALSE(t.isn_clock());
  EXPECT_TRUE(t.sack());
  const Direction d = default_direction();
  EXPECT_EQ(d.queue_packets(), 1000u);
  EXPECT_EQ(d.mtu(), 1500u);
  EXPECT_EQ(d.reorder_gap(), 1u);
  EXPECT_FALSE(d.down());
  EXPECT_EQ(d.reorder(), 0.0);
}

// The reference tables in docs/topology-format.md are the output of `shakedown
// settings` (regenerate them with it when a row changes).
TEST(Settings, TheDocsPrintTheTables) {
  std::ifstream in(SHAKEDOWN_DOCS "/topology-format.md");
  ASSERT_TRUE(in) << SHAKEDOWN_DOCS "/topology-format.md";
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const auto block = [&](const std::string& family) {
    const auto start = doc.find("<!-- settings:" + family);
    if (start == std::string::npos) return std::string("(no block)");
    const auto body = doc.find('\n', start) + 1;
    return doc.substr(body, doc.find("<!-- end settings -->", body) - body);
  };
  EXPECT_EQ(block("tcp"), reference(tcp(), *Tcp::descriptor())) << "regenerate with: shakedown settings tcp";
  EXPECT_EQ(block("link"), reference(link(), *Direction::descriptor())) << "regenerate with: shakedown settings link";
}

}  // namespace
}  // namespace shakedown::topology::settings
