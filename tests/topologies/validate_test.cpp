// The canonical form's own check: what the loader makes passes it, and each kind of
// hostile edit of a topology.txtpb is refused with the field's path.
#include "topologies/validate.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "topologies/loader.h"

namespace shakedown::topology {
namespace {

TEST(Validate, EveryCatalogFileAsLoadedPasses) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(SHAKEDOWN_CATALOG)) {
    if (e.path().extension() != ".yaml") continue;
    EXPECT_NO_THROW(validate(load_file(e.path().string()), e.path().string())) << e.path();
    ++n;
  }
  EXPECT_GT(n, 3);
}

const char* const kBase = R"(hosts: [client, server]
routers: [r]
links:
  - {ends: [client, r], delay: 5ms}
  - {ends: [r, server], delay: 5ms}
workload:
  - {app: bulk, from: client, to: server:80, bytes: 10KB}
faults:
  - {match: {link: [client, r], flags: SYN}, delay: 1s}
  - {at: 1s, crash: server, restart: 1s}
expect:
  - handshake[client].max < 2s
)";

struct Edit {
  const char* name;
  std::function<void(Topology&)> edit;
  const char* error;
};

class HostileEdit : public ::testing::TestWithParam<Edit> {};

TEST_P(HostileEdit, IsRefusedWithTheFieldsPath) {
  Topology t = load_string(kBase, "t.yaml");
  ASSERT_NO_THROW(validate(t, "t.txtpb"));
  GetParam().edit(t);
  try {
    validate(t, "t.txtpb");
    FAIL() << "accepted";
  } catch (const LoadError& e) {
    EXPECT_EQ(std::string(e.what()), GetParam().error);
  }
}

const Edit kEdits[] = {
    {"port", [](Topology& t) { t.mutable_workloads(0)->set_port(70000); },
     "t.txtpb: workloads[0].port: 70000 is outside 1..65535"},
    {"negative_delay", [](Topology& t) { t.mutable_links(0)->mutable_forward()->set_delay_ns(-5); },
     "t.txtpb: links[0].forward.delay_ns: -5 is negative"},
    {"huge_delay", [](Topology& t) { t.mutable_links(0)->mutable_forward()->set_delay_ns(INT64_MAX); },
     "t.txtpb: links[0].forward.delay_ns: 9223372036854775807 is past the run's horizon of 1000000000000000 ns (until_ns raises it, up to 100000000000000000)"},
    {"negative_rto", [](Topology& t) { t.mutable_nodes(0)->mutable_tcp()->set_min_rto_ns(-1); },
     "t.txtpb: nodes[0].tcp.min_rto_ns: -1 is negative"},
    {"server_index", [](Topology& t) { t.mutable_workloads(0)->set_server(99); },
     "t.txtpb: workloads[0].server: node 99 does not exist (there are 3)"},
    {"router_server", [](Topology& t) { t.mutable_workloads(0)->set_server(2); },
     "t.txtpb: workloads[0].server: node 2 ('r') is a router, not a host"},
    {"link_end", [](Topology& t) { t.mutable_links(1)->set_b(5); },
     "t.txtpb: links[1].b: node 5 does not exist (there are 3)"},
    {"crash_router", [](Topology& t) { t.mutable_faults(1)->mutable_crash()->set_host(2); },
     "t.txtpb: faults[1].crash.host: node 2 ('r') is a router, not a host"},
    {"fault_link", [](Topology& t) { t.mutable_faults(0)->mutable_packet()->set_link(7); },
     "t.txtpb: faults[0].packet.link: link 7 does not exist (there are 2)"},
    {"fault_direction", [](Topology& t) { t.mutable_faults(0)->mutable_packet()->set_direction(2); },
     "t.txtpb: faults[0].packet.direction: 2 is outside 0..1"},
    {"loss_over_one", [](Topology& t) { t.mutable_links(0)->mutable_backward()->mutable_random_loss()->set_probability(1.5); },
     "t.txtpb: links[0].backward.random_loss.probability: 1.5 is not a probability from 0 to 1"},
    {"enum", [](Topology& t) { t.mutable_workloads(0)->set_app(static_cast<Workload::App>(42)); },
     "t.txtpb: workloads[0].app: is not an application"},
    {"receive_buffer", [](Topology& t) { t.mutable_nodes(1)->mutable_tcp()->set_receive_buffer(0); },
     "t.txtpb: nodes[1].tcp.receive_buffer: 0 is outside 2304..1073741824"},
    {"name", [](Topology& t) { t.mutable_nodes(0)->set_name("../x"); },
     "t.txtpb: nodes[0].name: '../x' is not a valid name"},
    {"selector", [](Topology& t) { t.mutable_expectations(0)->mutable_selectors(0)->set_nodes(0, 9); },
     "t.txtpb: expectations[0].selectors[0].nodes[0]: node 9 does not exist (there are 3)"},
    {"expectation_text", [](Topology& t) { t.mutable_expectations(0)->set_text("handshake.p98 < 1s"); },
     "t.txtpb: expectations[0].text: 'handshake.p98 < 1s': handshake has no field 'p98'; expected one of count, min, p50, p90, p99, p999, max, mean"},
    {"second_link", [](Topology& t) { auto* l = t.add_links(); *l = t.links(0); },
     "t.txtpb: links[2]: host 'client' has a second link; a host has exactly one"},
    {"until", [](Topology& t) { t.set_until_ns(-1); }, "t.txtpb: until_ns: -1 is outside 0..100000000000000000"},
    {"port_twice", [](Topology& t) { *t.add_workloads() = t.workloads(0); },
     "t.txtpb: workloads[1].port: port 80 of node 1 already serves another workload"},
};

INSTANTIATE_TEST_SUITE_P(Canonical, HostileEdit, ::testing::ValuesIn(kEdits),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace shakedown::topology
