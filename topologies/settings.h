// Each family of settings declared once: TCP (`defaults.tcp`, a host's `tcp:`) and a
// link direction (a link's keys, `defaults.link`, a fault's `set:`). A row says the
// key, its type and unit, the allowed range, the default as a file writes it, one line
// of documentation, and the field of the canonical form it sets. The loader reads the
// file through these tables, the defaults are these rows' defaults read the same way,
// `shakedown settings` prints them, and a test holds docs/tcp.md and docs/links.md to
// them. The C++ structs (tcp::Config, LinkParams) are filled from the canonical form in
// controller/build.cpp; a test checks that every row reaches its struct.
//
// A new setting: a row here, a field in topology.proto, a member of the C++ struct and
// its line in build.cpp.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "topologies/topology.pb.h"
#include "topologies/yaml_reader.h"

namespace shakedown::topology::settings {

enum class Kind : std::uint8_t {
  duration,    // "200ms": a field in nanoseconds, at most the run's horizon
  whole,       // a whole number in [min, max]
  byte_count,  // bytes in a packet: 1500 or "1500B", in [min, max]
  size,        // "64KB", in [min, max]
  boolean,     // true or false
  percent,     // "1%": a fraction
  rate,        // "100Mbps": bits per second, more than zero
  choice,      // one word of a list: a proto enum's values, lower case, or `choices` for a bool
  structured,  // a scalar or a map, read by the row's own function (loss, reorder, ...)
};

struct Setting;
using ReadFn = void (*)(const Reader& r, const Setting& s, const YAML::Node& value, const std::string& path,
                        google::protobuf::Message& m);
// An extra check of a value within range: the message, or empty when it is fine.
using CheckFn = std::string (*)(std::uint64_t value);

struct Setting {
  std::string_view key;
  std::string_view field;           // the field of the proto message it sets
  Kind kind;
  std::string_view fallback;        // the default, as a file writes it; empty: the field's zero
  std::string_view unset;           // what the reference shows when there is no fallback
  std::string_view doc;             // one line
  std::int64_t min = 0, max = 0;    // whole, byte_count, size
  std::string_view choices = {};    // choice on a bool field: "random clock" (false, true)
  bool inverted = false;            // boolean on a field that means the opposite (`up` sets `down`)
  CheckFn check = nullptr;
  ReadFn read = nullptr;            // structured
  std::string_view type_doc = {};   // structured: the forms it takes
};

std::span<const Setting> tcp();
std::span<const Setting> link();

// The keys of a table, in order (for messages and key checks).
std::vector<std::string_view> keys(std::span<const Setting> table);

// The file's TCP settings (a map) over `t`.
void read_tcp(const Reader& r, const YAML::Node& n, const std::string& where, Tcp& t);
// The keys of one direction, applied to `d`. `extra` keys are allowed beside them
// (and left to the caller).
void read_direction(const Reader& r, const YAML::Node& n, const std::string& where, Direction& d,
                    const std::vector<std::string_view>& extra = {});
// Link settings with their per-direction overrides: every key sets both directions,
// then `forward:` and `backward:` change one (links, defaults.link, a generator's link:
// and bottleneck:). `with_ends` allows a link's own `ends`.
void read_sides(const Reader& r, const YAML::Node& n, const std::string& where, Direction& forward,
                Direction& backward, bool with_ends = false);

// Every row's default (Linux's TCP; a link with no impairment, Linux's txqueuelen,
// Ethernet's MTU).
Tcp default_tcp();
Direction default_direction();

// The type column of the reference: "duration", "88..65495 bytes", "cubic · reno · newreno".
std::string type_of(const Setting& s, const google::protobuf::Descriptor& message);
// The default column: the fallback, or what no fallback means.
std::string default_of(const Setting& s);
// A table as Markdown: key, type, default, meaning. `message` is the table's (Tcp,
// Direction).
std::string reference(std::span<const Setting> table, const google::protobuf::Descriptor& message);

}  // namespace shakedown::topology::settings
