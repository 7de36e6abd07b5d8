// The expectation language of a topology file's `expect:` section: comparisons over a
// run's metrics, over single connections, and statements about when a host sees or
// sends a kind of segment. Small on purpose — no variables, no arithmetic, no
// functions but state_at — so that every line reads as what it checks.
// docs/expectations.md is the reference.
//
//   connections.completed == connections.started
//   handshake.p99 < 300ms
//   handshake[client*].max <= 3s
//   retransmissions.syn <= 40
//   connection[client3->server:80].state_at(2s) == TIME_WAIT
//   connection[2].outcome == reset
//   server sees RST before 1s
//
// Parsing happens when the file is loaded (errors point at the column); evaluation
// when the run is over (controller/expectations.h). Host selectors (`[client*]`,
// `client3` in a connection, the host of a sees/sends) are resolved by the loader and
// kept beside the text in the canonical form, in the order they appear.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace shakedown::topology::expect {

struct ParseError : std::runtime_error {
  ParseError(int at, const std::string& message) : std::runtime_error(message), column(at) {}
  int column;  // 1-based, in the expectation's text
};

// A host reference as the file wrote it (a name, group*, group[3], group[2..5]), with
// its place in the text; resolved by the loader.
struct Selector {
  std::string text;
  int column = 0;
};

struct Quantity {
  enum class Unit { none, ns, bytes, fraction, rate };
  Unit unit = Unit::none;
  double value = 0;  // ns, bytes, a fraction (1% is 0.01), bits per second, or a plain number
  std::string text;
};

// connections.completed, handshake[client*].p99, retransmissions.syn, drops.loss ...
struct Metric {
  std::string family;  // connections, handshake, teardown, retransmissions, drops, bytes, goodput, throughput
  std::string field;
  std::optional<Selector> hosts;
};

// connection[ID] or connection[CLIENT->SERVER:PORT#N], then a field.
struct ConnectionRef {
  std::uint64_t id = 0;  // 0: by endpoints
  std::optional<Selector> client, server;
  std::uint16_t port = 0;
  std::uint32_t nth = 1;
  // outcome, handshake, teardown, retransmissions.KIND, state_at, bytes_sent,
  // bytes_received. `side`: 0 client, 1 server, -1 not written (state_at and bytes
  // then mean the client's; retransmissions both sides').
  std::string field;
  int side = -1;
  std::int64_t at_ns = 0;  // state_at(T)
};

// A state or an outcome name: TIME_WAIT, completed.
struct Word {
  std::string text;
};

using Operand = std::variant<Metric, ConnectionRef, Quantity, Word>;

enum class Op { eq, ne, lt, le, gt, ge };
std::string_view to_string(Op op);

struct Comparison {
  Operand left;
  Op op = Op::eq;
  Operand right;
};

// HOST sees|sends KIND before|after TIME, or no HOST sees|sends KIND.
struct Happening {
  Selector host;
  bool sends = false;
  std::string kind;  // SYN, SYN-ACK, ACK, FIN, RST, DATA
  enum class When { before, after, never } when = When::before;
  std::int64_t at_ns = 0;
};

using Expression = std::variant<Comparison, Happening>;

// Throws ParseError with the column of the trouble.
Expression parse(const std::string& text);

// A metric's name alone ("handshake.p99", "connections[client*].completed"); nullopt if
// the text is anything else.
std::optional<Metric> parse_metric(const std::string& text);

// Every selector of an expression, in the order they appear in the text.
std::vector<Selector> selectors(const Expression& e);

}  // namespace shakedown::topology::expect
