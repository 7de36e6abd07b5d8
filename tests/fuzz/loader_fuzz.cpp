// Fuzz target for the topology loader: any bytes in, and the only way out is a
// canonical topology or a LoadError. Anything else — another exception, a crash, a
// hang, a sanitizer report — is a bug. What loads is also built (when small), so the
// builder never meets a topology the loader should have refused.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "fuzz/run_small.h"
#include "topologies/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shakedown;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    fuzz::run_small(topology::load_string(text, "fuzz.yaml"), "loader_fuzz");
  } catch (const topology::LoadError&) {
    // The expected way to refuse input.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loader_fuzz: unexpected exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
