#include "topologies/assembler.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "topologies/loader_internal.h"

namespace shakedown::topology {

namespace {

// A piece of text as the file would hold it, parsed on its own: errors point into it.
YAML::Node parse(const std::string& file, const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw LoadError(file, e.mark.line + 1, e.mark.column + 1, "", fmt::format("not valid YAML: {}", e.msg));
  }
}

// The fields `names` of `from` copied into `to`.
void copy_fields(const Direction& from, const std::vector<std::string>& names, Direction& to) {
  const auto& d = *Direction::descriptor();
  const auto& reflection = *Direction::GetReflection();
  for (const std::string& name : names) {
    const google::protobuf::FieldDescriptor* f = d.FindFieldByName(name);
    if (f == nullptr) throw std::logic_error("Direction has no field " + name);
    if (f->message_type() != nullptr) {
      reflection.MutableMessage(&to, f)->CopyFrom(reflection.GetMessage(from, f));
      continue;
    }
    switch (f->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
        reflection.SetInt64(&to, f, reflection.GetInt64(from, f));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
        reflection.SetUInt64(&to, f, reflection.GetUInt64(from, f));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE:
        reflection.SetDouble(&to, f, reflection.GetDouble(from, f));
        break;
      default:
        throw std::logic_error("copy_fields: unexpected type of Direction." + name);
    }
  }
}

}  // namespace

Assembler::Assembler(std::string name) : name_(std::move(name)) {}

Assembler& Assembler::seed(std::uint64_t seed) {
  seed_ = seed;
  return *this;
}
Assembler& Assembler::default_tcp(std::string settings) {
  tcp_ = std::move(settings);
  return *this;
}
Assembler& Assembler::hosts(std::string pattern) {
  hosts_.push_back(std::move(pattern));
  return *this;
}
Assembler& Assembler::router(std::string pattern) {
  routers_.push_back(std::move(pattern));
  return *this;
}
Assembler& Assembler::link(std::string a, std::string b, Direction base, std::vector<std::string> base_set,
                           std::string settings) {
  links_.push_back({std::move(a), std::move(b), std::move(base), std::move(base_set), std::move(settings)});
  return *this;
}
Assembler& Assembler::workload(std::string entry) {
  workloads_.push_back(std::move(entry));
  return *this;
}
Assembler& Assembler::fault(std::string entry) {
  faults_.push_back(std::move(entry));
  return *this;
}
Assembler& Assembler::expect(std::string expectation) {
  expect_.push_back(std::move(expectation));
  return *this;
}

Topology Assembler::build() const {
  const std::string file = name_ + " (built in code)";
  Loader l(file);
  Topology& t = l.topology();
  if (!valid_name(name_)) throw LoadError(file, 0, 0, "name", fmt::format("'{}' is not a valid name: {}", shown(name_), name_rule()));
  t.set_name(name_);
  if (seed_) t.set_seed(*seed_);
  if (!tcp_.empty()) settings::read_tcp(l, parse(file, "{" + tcp_ + "}"), "defaults.tcp", l.default_tcp());
  const YAML::Node none;
  for (const auto& h : hosts_) l.add_named(YAML::Node(h), h, Node::HOST, none, "hosts");
  for (const auto& r : routers_) l.add_named(YAML::Node(r), r, Node::ROUTER, none, "routers");
  std::size_t index = 0;
  for (const LinkPiece& p : links_) {
    // The link's keys, then its ends: the loader reads it as a file's link entry, over
    // the typed fields the builder set.
    YAML::Node item = p.settings.empty() ? YAML::Node(YAML::NodeType::Map) : parse(file, "{" + p.settings + "}");
    YAML::Node ends(YAML::NodeType::Sequence);
    ends.push_back(p.a);
    ends.push_back(p.b);
    item["ends"] = ends;
    Direction forward = settings::default_direction();
    copy_fields(p.base, p.base_set, forward);
    l.link(item, index++, forward, forward);
  }
  l.end_network(YAML::Node(YAML::NodeType::Map), YAML::Node(YAML::NodeType::Undefined));
  index = 0;
  for (const auto& w : workloads_) l.workload(parse(file, "{" + w + "}"), index++);
  l.check_reachable();
  index = 0;
  for (const auto& f : faults_) l.fault(parse(file, f), index++);
  index = 0;
  for (const auto& e : expect_) l.expectation(YAML::Node(e), index++);
  return t;
}

}  // namespace shakedown::topology
