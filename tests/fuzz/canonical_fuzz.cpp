// Fuzz target for the canonical-form reader (a topology.txtpb given back to `run`):
// any bytes in. The text parser refuses them, or validate() refuses what it parsed
// with a LoadError, or what passes builds and runs a few simulated milliseconds.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include "fuzz/run_small.h"
#include "topologies/loader.h"
#include "topologies/validate.h"

namespace {
class Quiet final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int, int, const std::string&) override {}
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shakedown;
  topology::Topology t;
  google::protobuf::TextFormat::Parser parser;
  Quiet quiet;
  parser.RecordErrorsTo(&quiet);
  if (!parser.ParseFromString(std::string(reinterpret_cast<const char*>(data), size), &t)) return 0;
  try {
    topology::validate(t, "fuzz.txtpb");
  } catch (const topology::LoadError&) {
    return 0;
  }
  fuzz::run_small(t, "canonical_fuzz");
  return 0;
}
