// The loader: what a file expands to, and the exact error (file:line:col, key,
// message) for each kind of malformed input.
#include "topologies/loader.h"

#include <gtest/gtest.h>

#include <string>

namespace shakedown::topology {
namespace {

constexpr const char* kDumbbell = R"(name: dumbbell
seed: 7
defaults:
  link: {delay: 5ms, rate: 1Gbps, queue: 1000}
  tcp: {congestion: newreno, min_rto: 300ms}
hosts:
  client[1..3]: {}
  server: {tcp: {nagle: false}}
routers: [r1, r2]
links:
  - {ends: [client*, r1]}
  - {ends: [r1, r2], delay: 20ms, jitter: 2ms, loss: 1%, reorder: {probability: 5%, gap: 4}, rate: 100Mbps,
     backward: {loss: {p: 1%, r: 10%}}}
  - {ends: [r2, server]}
workload:
  - {app: request-response, from: client*, to: server:8080, start: {poisson: 200/s}, connections: 10,
     request: 1KB, response: 64KB, close: client}
)";

TEST(Loader, ExpandsRangesWildcardsAndDefaults) {
  const Topology t = load_string(kDumbbell, "dumbbell.yaml");
  EXPECT_EQ(t.name(), "dumbbell");
  EXPECT_EQ(t.seed(), 7u);
  ASSERT_EQ(t.nodes_size(), 6);
  EXPECT_EQ(t.nodes(0).name(), "client1");
  EXPECT_EQ(t.nodes(2).name(), "client3");
  EXPECT_EQ(t.nodes(3).name(), "server");
  EXPECT_EQ(t.nodes(4).kind(), Node::ROUTER);
  // Per-host TCP on top of the defaults, which sit on top of Linux's.
  EXPECT_EQ(t.nodes(0).tcp().congestion(), Tcp::NEWRENO);
  EXPECT_EQ(t.nodes(0).tcp().min_rto_ns(), 300'000'000);
  EXPECT_TRUE(t.nodes(0).tcp().nagle());
  EXPECT_FALSE(t.nodes(3).tcp().nagle());
  EXPECT_EQ(t.nodes(3).tcp().min_rto_ns(), 300'000'000);
  EXPECT_EQ(t.nodes(3).tcp().msl_ns(), 30'000'000'000);
  // client[*] -- r1 became three links; then r1 -- r2 and r2 -- server.
  ASSERT_EQ(t.links_size(), 5);
  EXPECT_EQ(t.links(0).a(), 0u);
  EXPECT_EQ(t.links(2).a(), 2u);
  EXPECT_EQ(t.links(2).b(), 4u);
  EXPECT_EQ(t.links(0).forward().delay_ns(), 5'000'000);
  EXPECT_EQ(t.links(0).forward().rate_bps(), 1'000'000'000u);
  const Link& core = t.links(3);
  EXPECT_EQ(core.forward().delay_ns(), 20'000'000);
  EXPECT_EQ(core.forward().jitter_ns(), 2'000'000);
  EXPECT_DOUBLE_EQ(core.forward().random_loss().probability(), 0.01);
  EXPECT_DOUBLE_EQ(core.forward().reorder(), 0.05);
  EXPECT_EQ(core.forward().reorder_gap(), 4u);
  EXPECT_EQ(core.forward().rate_bps(), 100'000'000u);
  EXPECT_TRUE(core.backward().has_gilbert_elliott());
  EXPECT_DOUBLE_EQ(core.backward().gilbert_elliott().r(), 0.10);
  EXPECT_EQ(core.backward().delay_ns(), 20'000'000) << "a direction override keeps the link's other settings";
  ASSERT_EQ(t.workloads_size(), 1);
  const Workload& w = t.workloads(0);
  EXPECT_EQ(w.app(), Workload::REQUEST_RESPONSE);
  EXPECT_EQ(w.clients_size(), 3);
  EXPECT_EQ(w.server(), 3u);
  EXPECT_EQ(w.port(), 8080u);
  EXPECT_EQ(w.connections(), 10u);
  EXPECT_EQ(w.request(), 1000u);
  EXPECT_EQ(w.response(), 64000u);
  EXPECT_EQ(w.start().kind(), Workload::Start::POISSON);
  EXPECT_DOUBLE_EQ(w.start().rate_per_second(), 200.0);
}

TEST(Loader, EveryNetemKnobHasAKeyWithTcsDefaults) {
  const Topology t = load_string(R"(hosts: [a, b]
links:
  - {ends: [a, b], loss: {p13: 2%}, duplicate: {probability: 1%, correlation: 25%}, corrupt: 0.5%,
     rate: 10Mbps, packet_overhead: -14, cell_size: 48, cell_overhead: 5, up: false,
     backward: {loss: {p: 3%}}}
)");
  const Direction& f = t.links(0).forward();
  ASSERT_TRUE(f.has_four_state());
  EXPECT_DOUBLE_EQ(f.four_state().p13(), 0.02);
  EXPECT_DOUBLE_EQ(f.four_state().p31(), 0.98) << "tc: p31 defaults to 1 - p13";
  EXPECT_DOUBLE_EQ(f.four_state().p23(), 1.0) << "tc: p23 defaults to 100%";
  EXPECT_DOUBLE_EQ(f.four_state().p32(), 0.0);
  EXPECT_DOUBLE_EQ(f.duplicate(), 0.01);
  EXPECT_DOUBLE_EQ(f.duplicate_correlation(), 0.25);
  EXPECT_DOUBLE_EQ(f.corrupt(), 0.005);
  EXPECT_DOUBLE_EQ(f.corrupt_correlation(), 0.0);
  EXPECT_EQ(f.packet_overhead(), -14);
  EXPECT_EQ(f.cell_size(), 48u);
  EXPECT_EQ(f.cell_overhead(), 5);
  EXPECT_TRUE(f.down());
  const Direction& b = t.links(0).backward();
  ASSERT_TRUE(b.has_gilbert_elliott());
  EXPECT_DOUBLE_EQ(b.gilbert_elliott().r(), 0.97) << "tc: r defaults to 1 - p";
  EXPECT_DOUBLE_EQ(b.gilbert_elliott().one_minus_h(), 1.0);
  EXPECT_TRUE(b.down()) << "an override keeps the link's other settings";
}

TEST(Loader, APacketFaultOnAGroupIsOneFaultPerLink) {
  const Topology t = load_string(R"(hosts:
  client[1..3]: {}
  server: {}
routers: [r]
links:
  - {ends: [client*, r]}
  - {ends: [r, server]}
faults:
  - {match: {link: [client*, r], flags: SYN}, delay: 90s}
)");
  ASSERT_EQ(t.faults_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.faults(i).packet().link(), static_cast<std::uint32_t>(i));
    EXPECT_EQ(t.faults(i).packet().direction(), 0u) << "from the client";
    EXPECT_EQ(t.faults(i).packet().nth(0), 1u) << "each counts its own matches";
    EXPECT_EQ(t.faults(i).packet().delay_ns(), 90'000'000'000);
  }
  EXPECT_THROW(load_string("hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [b, r]}\n"
                           "faults:\n  - {match: {link: [\"a\", \"b\"], flags: SYN}, drop: true}\n"),
               LoadError)
      << "no link between them";
}

// Byte counts in a packet take a bare number (as tc and Linux write them) or a size.
TEST(Loader, PacketByteCountsTakeANumberOrASize) {
  const Topology t = load_string(R"(hosts: [a]
routers: [r]
defaults: {tcp: {mss: 1.46KB}}
links:
  - {ends: [a, r], mtu: 9000B, rate: 10Mbps, packet_overhead: -4B, cell_size: 48B, cell_overhead: 5}
)");
  EXPECT_EQ(t.nodes(0).tcp().mss(), 1460u);
  EXPECT_EQ(t.links(0).forward().mtu(), 9000u);
  EXPECT_EQ(t.links(0).forward().packet_overhead(), -4);
  EXPECT_EQ(t.links(0).forward().cell_size(), 48u);
  EXPECT_EQ(t.links(0).forward().cell_overhead(), 5);
}

// Issue: forward:/backward: were refused in defaults.link, a generator's link: and
// bottleneck:, and the bottleneck silently took the generator's link: settings.
TEST(Loader, PerDirectionSettingsWhereverLinkSettingsAre) {
  const Topology t = load_string(R"(defaults:
  link: {delay: 1ms, backward: {loss: 1%}}
generate:
  - dumbbell: {left: s, right: d, count: 1, routers: [L, R]}
    link: {jitter: 500us, forward: {rate: 10Mbps}}
    bottleneck: {delay: 20ms, backward: {delay: 30ms}}
)");
  const auto& nodes = t.nodes();
  auto name = [&](std::uint32_t id) { return nodes[static_cast<int>(id)].name(); };
  int seen = 0;
  for (const auto& l : t.links()) {
    if (name(l.a()) == "L" && name(l.b()) == "R") {
      ++seen;
      EXPECT_EQ(l.forward().delay_ns(), 20'000'000);
      EXPECT_EQ(l.backward().delay_ns(), 30'000'000);
      EXPECT_EQ(l.forward().jitter_ns(), 0) << "the bottleneck does not take the access links' jitter";
      EXPECT_FALSE(l.forward().has_random_loss());
      EXPECT_TRUE(l.backward().has_random_loss()) << "defaults.link's backward";
    } else {
      ++seen;
      EXPECT_EQ(l.forward().delay_ns(), 1'000'000);
      EXPECT_EQ(l.forward().jitter_ns(), 500'000);
      EXPECT_EQ(l.forward().rate_bps(), 10'000'000u) << "from the host";
      EXPECT_EQ(l.backward().rate_bps(), 0u);
      EXPECT_TRUE(l.backward().has_random_loss());
    }
  }
  EXPECT_EQ(seen, 3);
  EXPECT_THROW(load_string("hosts: [a]\ndefaults: {link: {ends: [a, a]}}\n"), LoadError) << "ends only on a link";
}

TEST(Loader, WhichMatchesAPacketFaultActsOn) {
  const Topology t = load_string(R"(hosts: [a, b]
routers: [r]
links:
  - {ends: [a, r]}
  - {ends: [r, b]}
faults:
  - {match: {link: [a, r], flags: SYN, nth: [3, 1]}, drop: true}
  - {match: {link: [a, r], flags: SYN, first: 2}, drop: true}
  - {match: {link: [a, r], flags: SYN, nth: every}, drop: true, during: [2s, 5s]}
  - {match: {link: [a, r], flags: SYN}, drop: true}
)");
  ASSERT_EQ(t.faults_size(), 4);
  EXPECT_EQ(std::vector<std::uint32_t>(t.faults(0).packet().nth().begin(), t.faults(0).packet().nth().end()),
            (std::vector<std::uint32_t>{3, 1}));
  EXPECT_EQ(t.faults(1).packet().nth_size(), 0);
  EXPECT_EQ(t.faults(1).packet().first(), 2u);
  EXPECT_EQ(t.faults(2).packet().nth(0), 0u) << "every";
  EXPECT_EQ(t.faults(2).packet().from_ns(), 2'000'000'000);
  EXPECT_EQ(t.faults(2).packet().until_ns(), 5'000'000'000);
  EXPECT_EQ(t.faults(3).packet().nth(0), 1u) << "the first match by default";
  EXPECT_EQ(t.faults(3).packet().until_ns(), 0) << "to the end of the run";
}

TEST(Loader, AddressesComeFromThePlanAroundTheOnesGiven) {
  const Topology t = load_string(R"(addresses: 10.1.0.0/16
hosts:
  a: {}
  b: {address: 10.1.0.2}
  c: {}
routers: [r]
links:
  - {ends: [a, r]}
  - {ends: [b, r]}
  - {ends: [c, r]}
)");
  EXPECT_EQ(t.nodes(0).address(), 0x0a010001u);
  EXPECT_EQ(t.nodes(1).address(), 0x0a010002u);
  EXPECT_EQ(t.nodes(2).address(), 0x0a010003u) << "10.1.0.2 was taken";
  EXPECT_EQ(t.nodes(3).address(), 0u) << "routers have none";
  EXPECT_EQ(load_string("hosts: [a]\n").nodes(0).address(), 0xc6120001u) << "198.18.0.1 by default";
}

TEST(Loader, TheSameFileGivesTheSameCanonicalBytes) {
  EXPECT_EQ(load_string(kDumbbell).SerializeAsString(), load_string(kDumbbell).SerializeAsString());
}

struct Bad {
  const char* name;
  const char* yaml;
  const char* error;  // the whole message, location included
};

// Two lines that every file below shares unless it is about them.
#define NET "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\n"

const Bad kBad[] = {
    {"empty", "", "t.yaml:1:1: the file is empty: a topology needs at least 'hosts' and 'links'"},
    {"comment_only", "# nothing\n", "t.yaml:1:1: the file is empty: a topology needs at least 'hosts' and 'links'"},
    {"not_a_map", "- a\n- b\n", "t.yaml:1:1: expected a map of keys (name, hosts, links, ...), got a list"},
    {"scalar_document", "hello\n", "t.yaml:1:1: expected a map of keys (name, hosts, links, ...), got 'hello'"},
    {"bad_yaml", "hosts: [a, b\n", "t.yaml:2:1: not valid YAML: end of sequence flow not found"},
    {"tab_indent", "hosts:\n\t- a\n", "t.yaml:2:2: not valid YAML: illegal block entry"},
    {"typo_top", "hosst: [a]\n", "t.yaml:1:1: hosst: unknown key; did you mean 'hosts'?"},
    {"unknown_top", "colour: red\n" NET,
     "t.yaml:1:1: colour: unknown key; expected one of: name, seed, ecmp, addresses, defaults, hosts, routers, generate, links, workload, faults, expect, run, limits, partition"},
    {"no_hosts", "name: x\n", "t.yaml:1:1: hosts: missing: a topology needs hosts (or a generator that makes them)"},
    {"hosts_scalar", "hosts: a\n", "t.yaml:1:8: hosts: expected a list of names or a map of name to settings, got 'a'"},
    {"bad_name", "hosts: [1a]\n", "t.yaml:1:9: hosts: '1a' is not a valid name: start with a letter, then letters, digits, '_', '-' or '.', at most 128 characters"},
    {"duplicate_name", "hosts: [a, a]\n", "t.yaml:1:12: hosts: a node named 'a' already exists"},
    {"router_same_name", "hosts: [a]\nrouters: [a]\n", "t.yaml:2:11: routers: a node named 'a' already exists"},
    {"empty_range", "hosts:\n  c[5..1]: {}\n", "t.yaml:2:3: hosts.c[5..1]: 'c[5..1]': the range is empty (5 > 1)"},
    {"range_words", "hosts:\n  c[a..b]: {}\n", "t.yaml:2:3: hosts.c[a..b]: 'c[a..b]': a range's bounds are whole numbers, as in 'client[1..10]'"},
    {"range_too_big", "hosts:\n  c[1..9999999]: {}\n", "t.yaml:2:3: hosts.c[1..9999999]: 'c[1..9999999]' expands to 9999999 nodes, past the limit of 2000000 (raise it with limits: {nodes: N})"},
    {"range_wraps", "hosts:\n  c[0..18446744073709551615]: {}\n", "t.yaml:2:3: hosts.c[0..18446744073709551615]: 'c[0..18446744073709551615]' expands to 2^64 nodes, past the limit of 2000000 (raise it with limits: {nodes: N})"},
    {"star_count_wraps", "generate:\n  - star: {hub: r, hosts: h, count: 18446744073709551615}\n", "t.yaml:2:11: generate[0].star: would make 18446744073709551615 nodes, past the limit of 2000000"},
    {"dumbbell_count_wraps", "generate:\n  - dumbbell: {left: a, right: b, count: 9223372036854775808, routers: [L, R]}\n", "t.yaml:2:15: generate[0].dumbbell: would make 18446744073709551615 nodes, past the limit of 2000000"},
    {"line_hosts_wrap", "generate:\n  - line: {routers: r, hosts: h, count: 9223372036854775808}\n", "t.yaml:2:11: generate[0].line: would make 18446744073709551615 nodes, past the limit of 2000000"},
    {"tree_deep", "generate:\n  - tree: {routers: r, hosts: h, depth: 1000000000000000, fanout: 1}\n", "t.yaml:2:11: generate[0].tree: a tree of depth 1000000000000000 and fanout 1 has more than 2000000 nodes"},
    {"random_too_many_links", "generate:\n  - random: {routers: r, count: 3000, links: 4498500}\n", "t.yaml:2:46: generate[0].random.links: 4498500 links, past the limit of 4000000 (raise it with limits: {links: N})"},
    {"limits_typo", "limits: {node: 5}\n" NET, "t.yaml:1:10: limits.node: unknown key; did you mean 'nodes'?"},
    {"limits_small", "limits: {nodes: 2}\n" NET, "t.yaml:3:11: routers: 'r' expands past the limit of 2 nodes (raise it with limits: {nodes: N})"},
    {"range_no_dots", "hosts:\n  c[1-5]: {}\n", "t.yaml:2:3: hosts.c[1-5]: 'c[1-5]' is not a name or a range such as 'client[1..10]'"},
    {"host_typo_key", "hosts:\n  a: {tpc: {}}\n", "t.yaml:2:7: hosts.a.tpc: unknown key; did you mean 'tcp'?"},
    {"tcp_typo", "hosts:\n  a: {tcp: {nagel: false}}\n", "t.yaml:2:13: hosts.a.tcp.nagel: unknown key; did you mean 'nagle'?"},
    {"tcp_bad_bool", "hosts:\n  a: {tcp: {sack: maybe}}\n", "t.yaml:2:19: hosts.a.tcp.sack: expected true or false, got 'maybe'"},
    {"tcp_bad_cc", "defaults:\n  tcp: {congestion: bbr}\n" NET,
     "t.yaml:2:21: defaults.tcp.congestion: unknown congestion 'bbr'; expected cubic, reno or newreno"},
    {"tcp_mss_range", "defaults:\n  tcp: {mss: 20}\n" NET, "t.yaml:2:14: defaults.tcp.mss: 20 is out of range 88..65495"},
    {"tcp_rto_order", "defaults:\n  tcp: {min_rto: 2s, max_rto: 1s}\n" NET, "t.yaml:2:8: defaults.tcp: min_rto is larger than max_rto"},
    {"duration_no_unit", "defaults:\n  link: {delay: 10}\n" NET,
     "t.yaml:2:17: defaults.link.delay: '10' has no unit: write it with one of ns, us, ms, s, min, h (e.g. '10ms')"},
    {"duration_map", "defaults:\n  link: {delay: {a: 1}}\n" NET, "t.yaml:2:17: defaults.link.delay: expected a duration such as '10ms', got a map"},
    {"link_typo", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], delya: 5ms}\n",
     "t.yaml:4:20: links[0].delya: unknown key; did you mean 'delay'?"},
    {"loss_over_100", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], loss: 150%}\n",
     "t.yaml:4:26: links[0].loss: '150%' is over 100%"},
    {"loss_no_percent", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], loss: 0.01}\n",
     "t.yaml:4:26: links[0].loss: '0.01' is not a percentage: write it with a % sign (e.g. '1%' or '0.5%')"},
    {"four_state_over_100", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], loss: {p13: 1%, p31: 101%}}\n",
     "t.yaml:4:41: links[0].loss.p31: '101%' is over 100%"},
    {"overhead_fraction", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], packet_overhead: 1.5}\n",
     "t.yaml:4:37: links[0].packet_overhead: expected a whole number of bytes (or a size such as '48B'), got '1.5'"},
    {"duplicate_typo", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], duplicate: {probabilty: 1%}}\n",
     "t.yaml:4:32: links[0].duplicate.probabilty: unknown key; did you mean 'probability'?"},
    {"expect_no_unit", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\nexpect:\n  - handshake.p99 < 300\n",
     "t.yaml:7:5: expect[0]: cannot compare a time with a plain number: give the number a unit, as in 300ms"},
    {"expect_field_typo", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\nexpect:\n  - handshake.p98 < 300ms\n",
     "t.yaml:7:15: expect[0]: handshake has no field 'p98'; expected one of count, min, p50, p90, p99, p999, max, mean"},
    {"expect_single_equals", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\nexpect:\n  - connections.completed = 3\n",
     "t.yaml:7:27: expect[0]: '=' is not a comparison: write '=='"},
    {"expect_unknown_host", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\nexpect:\n  - handshake[c*].p99 < 1s\n",
     "t.yaml:7:15: expect[0]: no group 'c': groups come from ranges such as 'c[1..10]'"},
    {"expect_router", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\nexpect:\n  - handshake[r].p99 < 1s\n",
     "t.yaml:7:15: expect[0]: 'r' is a router: expectations select hosts"},
    {"expect_kind", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\nexpect:\n  - b sees SYNACK before 1s\n",
     "t.yaml:7:12: expect[0]: unknown segment kind 'SYNACK'; expected one of SYN, SYN-ACK, ACK, FIN, RST, DATA"},
    {"expect_port", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\nexpect:\n  - connection[a->b:http].outcome == completed\n",
     "t.yaml:7:21: expect[0]: 'http' is not a port"},
    {"expect_state_order", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\nexpect:\n  - connection[a->b:80].state_at(2s) < TIME_WAIT\n",
     "t.yaml:7:5: expect[0]: states compare only with == and !="},
    {"expect_drops_by_host", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\nexpect:\n  - drops[a].loss == 0\n",
     "t.yaml:7:10: expect[0]: drops cannot be selected by host: drops are counted by links and nodes"},
    {"expect_empty", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\nexpect:\n  - \"\"\n",
     "t.yaml:7:6: expect[0]: an empty expectation: write a comparison such as 'connections.failed == 0'"},
    {"expect_trailing", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\nexpect:\n  - connections.failed == 0 and more\n",
     "t.yaml:7:29: expect[0]: unexpected 'and more' after the comparison"},
    {"expect_quoted_column", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, b]}\nexpect:\n  - \"handshake.p99 < 1\"\n",
     "t.yaml:7:6: expect[0]: cannot compare a time with a plain number: give the number a unit, as in 300ms"},
    {"zero_rate", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], rate: 0Mbps}\n",
     "t.yaml:4:26: links[0].rate: a rate must be more than zero (leave it out for an unlimited link)"},
    {"ambiguous_rate", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], rate: 10mbps}\n",
     "t.yaml:4:26: links[0].rate: '10mbps' is ambiguous: write 'Mbps' for bits or 'MBps' for bytes per second"},
    {"mtu_small", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], mtu: 20}\n", "t.yaml:4:25: links[0].mtu: 20 is out of range 68..65535"},
    {"jitter_over_delay", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], delay: 1ms, jitter: 5ms}\n",
     "t.yaml:4:5: links[0].jitter: is larger than the delay: a packet cannot arrive before it was sent"},
    {"links_not_list", "hosts: [a]\nlinks: {a: b}\n", "t.yaml:2:8: links: expected a list of links, got a map"},
    {"link_no_ends", "hosts: [a]\nrouters: [r]\nlinks:\n  - {delay: 1ms}\n", "t.yaml:4:5: links[0]: a link needs 'ends: [A, B]'"},
    {"link_three_ends", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r, r]}\n",
     "t.yaml:4:12: links[0].ends: expected two ends, as in [client, r1], got a list"},
    {"unknown_node", "hosts: [alpha]\nrouters: [r]\nlinks:\n  - {ends: [alpah, r]}\n",
     "t.yaml:4:13: links[0].ends: no node named 'alpah'; did you mean 'alpha'?"},
    {"unknown_group", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [c*, r]}\n",
     "t.yaml:4:13: links[0].ends: no group 'c': groups come from ranges such as 'c[1..10]'"},
    {"self_link", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [r, r]}\n",
     "t.yaml:5:12: links[1].ends: 'r' cannot link to itself"},
    {"host_two_links", "hosts: [a]\nrouters: [r, s]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [a, s]}\n",
     "t.yaml:5:12: links[1].ends: host 'a' already has a link; a host has exactly one (put a router between)"},
    {"many_to_many", "hosts:\n  c[1..2]: {}\nrouters:\n  r[1..2]: {}\nlinks:\n  - {ends: [c*, r*]}\n",
     "t.yaml:6:12: links[0].ends: both ends name several nodes; one end must be a single node"},
    {"host_without_link", "hosts: [a, b]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n", "t.yaml:1:8: hosts: host 'b' has no link"},
    {"workload_no_app", NET "workload:\n  - {from: a, to: b:80}\n", "t.yaml:7:5: workload[0]: a workload needs 'app' (connect, bulk, request-response, echo or stream)"},
    {"workload_bad_app", NET "workload:\n  - {app: upload, from: a, to: b:80}\n",
     "t.yaml:7:11: workload[0].app: unknown application 'upload'; expected connect, bulk, request-response, echo, stream or syn-flood"},
    {"workload_bad_port", NET "workload:\n  - {app: connect, from: a, to: b:99999}\n",
     "t.yaml:7:33: workload[0].to: 'b:99999': the port must be a number from 1 to 65535"},
    {"workload_to_router", NET "workload:\n  - {app: connect, from: a, to: r:80}\n", "t.yaml:7:33: workload[0].to: 'r' is a router, not a host"},
    {"workload_from_router", NET "workload:\n  - {app: connect, from: r, to: b:80}\n", "t.yaml:7:26: workload[0].from: 'r' is a router, not a host"},
    {"workload_bulk_no_bytes", NET "workload:\n  - {app: bulk, from: a, to: b:80}\n", "t.yaml:7:5: workload[0]: bulk needs 'bytes' (a size such as 10MB)"},
    {"workload_bad_close", NET "workload:\n  - {app: connect, from: a, to: b, close: later}\n",
     "t.yaml:7:43: workload[0].close: unknown close mode 'later'; expected client, server, both, abort, server-abort or never"},
    {"workload_bad_poisson", NET "workload:\n  - {app: connect, from: a, to: b, start: {poisson: fast}}\n",
     "t.yaml:7:53: workload[0].start.poisson: expected a positive arrival rate such as '200/s', got 'fast'"},
    {"workload_list_length", NET "workload:\n  - {app: connect, from: a, to: b, connections: 2, start: [1s]}\n",
     "t.yaml:7:59: workload[0].start: the list has 1 times for 2 connections (1 clients × 2)"},
    {"workload_uniform_backwards", NET "workload:\n  - {app: connect, from: a, to: b, start: {uniform: [5s, 1s]}}\n",
     "t.yaml:7:53: workload[0].start.uniform: the interval must end after it begins"},
    {"workload_twice_key", NET "workload:\n  - {app: connect, app: bulk, from: a, to: b}\n", "t.yaml:7:20: workload[0].app: given twice"},
    {"fault_no_kind", NET "faults:\n  - {at: 1s}\n", "t.yaml:7:5: faults[0]: a fault needs one of: down, set, partition, crash, match"},
    {"fault_two_kinds", NET "faults:\n  - {at: 1s, down: 1s, crash: a}\n", "t.yaml:7:5: faults[0]: a fault does one thing: give only one of down, set, partition, crash, match"},
    {"fault_no_link", NET "faults:\n  - {at: 1s, down: 1s}\n", "t.yaml:7:5: faults[0]: needs 'link: [A, B]'"},
    {"fault_unknown_link", NET "faults:\n  - {at: 1s, link: [a, b], down: 1s}\n", "t.yaml:7:20: faults[0].link: there is no link between 'a' and 'b'"},
    {"fault_crash_router", NET "faults:\n  - {at: 1s, crash: r}\n", "t.yaml:7:21: faults[0].crash: only hosts crash (a router can be cut off with partition)"},
    {"fault_restart_without_crash", NET "faults:\n  - {at: 1s, partition: [a], restart: 1s}\n", "t.yaml:7:39: faults[0].restart: goes only with 'crash'"},
    {"fault_match_no_link", NET "faults:\n  - {match: {flags: SYN}, drop: true}\n", "t.yaml:7:13: faults[0].match: needs 'link: [A, B]' (the packet is caught as it enters A's side)"},
    {"fault_match_two_actions", NET "faults:\n  - {match: {link: [a, r]}, drop: true, delay: 1s}\n", "t.yaml:7:5: faults[0]: a match needs exactly one of: drop, delay, duplicate, corrupt"},
    {"fault_bad_flag", NET "faults:\n  - {match: {link: [a, r], flags: SYN+ACKK}, drop: true}\n", "t.yaml:7:35: faults[0].match.flags: unknown flag 'ACKK'; expected FIN, SYN, RST, PSH, ACK or URG, joined by '+'"},
    {"fault_match_at", NET "faults:\n  - {at: 1s, match: {link: [a, r]}, drop: true}\n", "t.yaml:7:10: faults[0].at: a match is active from the start; 'at' does not apply"},
    {"fault_set_typo", NET "faults:\n  - {at: 1s, link: [a, r], set: {los: 1%}}\n", "t.yaml:7:34: faults[0].set.los: unknown key; did you mean 'loss'?"},
    {"fault_nth_and_first", NET "faults:\n  - {match: {link: [a, r], nth: 1, first: 2}, drop: true}\n", "t.yaml:7:43: faults[0].match.first: give 'nth' or 'first', not both ('nth: [1, 2]' is 'first: 2')"},
    {"fault_nth_empty", NET "faults:\n  - {match: {link: [a, r], nth: []}, drop: true}\n", "t.yaml:7:33: faults[0].match.nth: an empty list; give at least one match number, as in [1, 2]"},
    {"fault_nth_zero", NET "faults:\n  - {match: {link: [a, r], nth: [1, 0]}, drop: true}\n", "t.yaml:7:37: faults[0].match.nth: 0 is out of range 1..2147483648"},
    {"fault_during_backwards", NET "faults:\n  - {match: {link: [a, r]}, drop: true, during: [5s, 2s]}\n", "t.yaml:7:54: faults[0].during: the window must end after it begins"},
    {"fault_during_scalar", NET "faults:\n  - {match: {link: [a, r]}, drop: true, during: 2s}\n", "t.yaml:7:49: faults[0].during: expected a time window [FROM, TO], as in [2s, 5s], got '2s'"},
    {"fault_during_without_match", NET "faults:\n  - {at: 1s, link: [a, r], down: 1s, during: [0s, 1s]}\n", "t.yaml:7:46: faults[0].during: goes only with 'match'"},
    {"fault_negative_at", NET "faults:\n  - {at: -1s, link: [a, r], down: 1s}\n", "t.yaml:7:10: faults[0].at: '-1s' is negative: a duration cannot be negative"},
    {"expect_not_list", NET "expect: connections.failed == 0\n", "t.yaml:6:9: expect: expected a list of expectations, got 'connections.failed == 0'"},
    {"address_twice", "hosts:\n  a: {address: 10.0.0.1}\n  b: {address: 10.0.0.1}\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [b, r]}\n", "t.yaml:3:16: hosts.b.address: 10.0.0.1 is already the address of 'a'"},
    {"address_malformed", "hosts:\n  a: {address: 10.0.0.256}\n", "t.yaml:2:16: hosts.a.address: '10.0.0.256' is not an IPv4 host address such as 198.18.0.10"},
    {"address_for_range", "hosts:\n  a[1..2]: {address: 10.0.0.1}\n", "t.yaml:2:22: hosts.a[1..2].address: a range of hosts cannot share one address"},
    {"plan_malformed", "addresses: 10.0.0.0\n" NET, "t.yaml:1:12: addresses: '10.0.0.0' is not a prefix such as 198.18.0.0/15 (length at most 30)"},
    {"plan_bits_past_length", "addresses: 10.0.0.1/24\n" NET, "t.yaml:1:12: addresses: '10.0.0.1/24' has bits set past its length /24"},
    {"plan_too_small", "addresses: 10.0.0.0/30\nhosts: [a, b, c]\nrouters: [r]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [b, r]}\n  - {ends: [c, r]}\n", "t.yaml:1:12: addresses: the address plan 10.0.0.0/30 has no address left for host 'c'"},
    {"unreachable", "hosts: [a, b, c, d]\nrouters: [r, s]\nlinks:\n  - {ends: [a, r]}\n  - {ends: [b, r]}\n  - {ends: [c, s]}\n  - {ends: [d, s]}\nworkload:\n  - {app: connect, from: a, to: c}\n", "t.yaml:9:5: workload[0]: 'a' cannot reach 'c': no path of links and routers joins them"},
    {"workload_from_nobody", NET "workload:\n  - {app: connect, from: [], to: b}\n", "t.yaml:7:26: workload[0].from: names no hosts"},
    {"workload_to_itself", NET "workload:\n  - {app: connect, from: [a, b], to: b}\n", "t.yaml:7:26: workload[0].from: 'b' is the server too: a host cannot connect to itself"},
    {"workload_same_port", NET "workload:\n  - {app: connect, from: a, to: b}\n  - {app: connect, from: a, to: b:80}\n", "t.yaml:8:33: workload[1].to: 'b' port 80 already serves workload[0]; give each workload a port of its own"},
    {"workload_zero_chunk", NET "workload:\n  - {app: stream, from: a, to: b, rate: 1Mbps, duration: 1s, chunk: 0B}\n", "t.yaml:7:69: workload[0].chunk: must be at least 1 byte"},
    {"workload_stream_too_fast", NET "workload:\n  - {app: stream, from: a, to: b, rate: 100Tbps, duration: 1s, chunk: 1B}\n", "t.yaml:7:41: workload[0].rate: is too high for the chunk size: more than one chunk per nanosecond"},
    {"mtu_unit_too_small", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], mtu: 0.02KB}\n", "t.yaml:4:25: links[0].mtu: 0.02KB is out of range 68..65535"},
    {"mss_bad_unit", "hosts: [a]\ndefaults: {tcp: {mss: 1460b}}\n", "t.yaml:2:23: defaults.tcp.mss: '1460b' has an unknown size unit 'b': expected B, KB, MB, GB, KiB, MiB or GiB"},
    {"run_until_zero", "run: {until: 0s}\n" NET, "t.yaml:1:14: run.until: must be more than zero (leave it out to run until nothing is left to do)"},
    {"run_typo", "run: {untill: 1s}\n" NET, "t.yaml:1:7: run.untill: unknown key; did you mean 'until'?"},
    {"expect_rate_vs_time", NET "expect:\n  - goodput.p50 > 1s\n", "t.yaml:7:5: expect[0]: cannot compare a rate with a time"},
    {"name_path", "name: ../x\n" NET, "t.yaml:1:7: name: '../x' is not a valid name: start with a letter, then letters, digits, '_', '-' or '.', at most 128 characters"},
    {"name_absolute", "name: /tmp/x\n" NET, "t.yaml:1:7: name: '/tmp/x' is not a valid name: start with a letter, then letters, digits, '_', '-' or '.', at most 128 characters"},
    {"name_newline", "name: \"a\\nb\"\n" NET, "t.yaml:1:7: name: 'a\nb' is not a valid name: start with a letter, then letters, digits, '_', '-' or '.', at most 128 characters"},
    {"time_past_horizon", NET "workload:\n  - {app: connect, from: a, to: b, start: 9223372036854775807ns}\n", "t.yaml:7:43: workload[0].start: 9223372036.854775807s is past the run's horizon of 1000000s (a longer run says so with run: {until: ...}, up to 100000000s)"},
    {"delay_past_horizon", "hosts: [a]\nrouters: [r]\nlinks:\n  - {ends: [a, r], delay: 2000000s}\n", "t.yaml:4:27: links[0].delay: 2000000s is past the run's horizon of 1000000s (a longer run says so with run: {until: ...}, up to 100000000s)"},
    {"until_past_max", "run: {until: 200000000s}\n" NET, "t.yaml:1:14: run.until: 200000000s is past the run's horizon of 100000000s (a longer run says so with run: {until: ...}, up to 100000000s)"},
    {"receive_buffer_zero", "hosts: [a]\ndefaults: {tcp: {receive_buffer: 0B}}\n", "t.yaml:2:34: defaults.tcp.receive_buffer: 0 bytes is too small: at least 2304 bytes (Linux's minimum)"},
    {"receive_buffer_huge", "hosts: [a]\ndefaults: {tcp: {receive_buffer: 100GB}}\n", "t.yaml:2:34: defaults.tcp.receive_buffer: is larger than the largest window TCP can offer, 1GiB (RFC 7323 2.3)"},
    {"to_unknown_host_located", NET "workload:\n  - {app: connect, from: a, to: bb:80}\n", "t.yaml:7:33: workload[0].to: no node named 'bb'; did you mean 'b'?"},
    {"poisson_infinite", NET "workload:\n  - {app: connect, from: a, to: b, start: {poisson: inf/s}}\n", "t.yaml:7:53: workload[0].start.poisson: expected a positive arrival rate such as '200/s', got 'inf/s'"},
    {"seed_negative", "seed: -1\n" NET, "t.yaml:1:7: seed: expected a whole number, got '-1'"},
};

class Malformed : public ::testing::TestWithParam<Bad> {};

TEST_P(Malformed, SaysWhereAndWhat) {
  try {
    load_string(GetParam().yaml, "t.yaml");
    FAIL() << "accepted";
  } catch (const LoadError& e) {
    EXPECT_EQ(std::string(e.what()), GetParam().error);
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, Malformed, ::testing::ValuesIn(kBad), [](const auto& p) { return p.param.name; });

TEST(Loader, BinaryGarbageAndMissingFilesAreErrorsNotCrashes) {
  EXPECT_THROW(load_file("/nonexistent/shakedown.yaml"), LoadError);
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919) % 256));
  EXPECT_THROW(load_string(garbage, "g.bin"), LoadError);
}

}  // namespace
}  // namespace shakedown::topology
