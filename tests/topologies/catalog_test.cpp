// Every file of the catalog loads, builds and runs: the files the examples, tests and
// benchmarks start from must never rot.
#include <gtest/gtest.h>

#include <filesystem>

#include "controller/build.h"
#include "topologies/loader.h"

namespace shakedown {
namespace {

std::vector<std::string> catalog() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(SHAKEDOWN_CATALOG))
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

class Catalog : public ::testing::TestWithParam<std::string> {};

TEST_P(Catalog, LoadsBuildsAndCompletesItsConnections) {
  const topology::Topology t = topology::load_file(GetParam());
  EXPECT_FALSE(t.name().empty());
  Engine engine;
  PacketPool pool;
  controller::Built built(engine, pool, t);
  engine.run_until(TimePoint::zero() + Duration::seconds(200));
  for (std::size_t i = 0; i < built.workloads.size(); ++i) {
    const auto s = built.workloads.stats(i);
    EXPECT_GT(s.planned, 0u);
    EXPECT_EQ(s.completed, s.planned) << built.workloads.workload(i).name;
  }
}

INSTANTIATE_TEST_SUITE_P(Files, Catalog, ::testing::ValuesIn(catalog()), [](const auto& p) {
  std::string name = std::filesystem::path(p.param).stem().string();
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
});

}  // namespace
}  // namespace shakedown
