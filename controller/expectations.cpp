#include "controller/expectations.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "topologies/expect.h"

namespace shakedown::controller {

namespace ex = topology::expect;

namespace {

// A value of either side of a comparison.
struct Value {
  enum class Kind { number, time, bytes, fraction, rate, word, missing } kind = Kind::number;
  double number = 0;
  std::string word;
  std::string show() const {
    switch (kind) {
      case Kind::time:
        return to_string(Duration::nanoseconds(static_cast<std::int64_t>(number)));
      case Kind::bytes:
        return fmt::format("{}B", static_cast<std::int64_t>(number));
      case Kind::fraction:
        return fmt::format("{}%", number * 100);
      case Kind::rate:
        return pretty_bps(number);
      case Kind::word:
        return word;
      case Kind::missing:
        return "none";
      case Kind::number:
        break;
    }
    if (number == std::floor(number) && std::fabs(number) < 1e15) return fmt::format("{}", static_cast<std::int64_t>(number));
    return fmt::format("{}", number);
  }
};

bool compare(const Value& a, ex::Op op, const Value& b) {
  if (a.kind == Value::Kind::missing || b.kind == Value::Kind::missing) return op == ex::Op::ne;
  if (a.kind == Value::Kind::word || b.kind == Value::Kind::word) {
    const bool eq = a.word == b.word;
    return op == ex::Op::eq ? eq : op == ex::Op::ne ? !eq : false;
  }
  switch (op) {
    case ex::Op::eq:
      return a.number == b.number;
    case ex::Op::ne:
      return a.number != b.number;
    case ex::Op::lt:
      return a.number < b.number;
    case ex::Op::le:
      return a.number <= b.number;
    case ex::Op::gt:
      return a.number > b.number;
    case ex::Op::ge:
      return a.number >= b.number;
  }
  return false;
}

std::string_view state_name(tcp::State s) { return tcp::to_string(s); }

class Evaluator {
 public:
  Evaluator(const topology::Expectation& e, const Recorder& r, Network& n, const Summary& s, const std::string& dir)
      : e_(e), recorder_(r), network_(n), summary_(s), dir_(dir) {}

  ExpectationResult run() {
    ExpectationResult res;
    res.text = e_.text();
    res.where = fmt::format("{}:{}:{}", e_.file(), e_.line(), e_.column());
    const ex::Expression expr = ex::parse(e_.text());
    if (const auto* h = std::get_if<ex::Happening>(&expr)) {
      happening(*h, res);
      return res;
    }
    const auto& c = std::get<ex::Comparison>(expr);
    const Value left = value(c.left), right = value(c.right);
    res.passed = compare(left, c.op, right);
    res.actual = left.show();
    if (!std::holds_alternative<ex::Quantity>(c.right) && !std::holds_alternative<ex::Word>(c.right))
      res.actual += fmt::format(" {} {}", ex::to_string(c.op), right.show());
    if (!res.passed) res.detail = where_to_look(c.left, c.op, right);
    return res;
  }

 private:
  std::set<std::uint32_t> next_selector() {
    const auto& set = e_.selectors(selector_++);
    return {set.nodes().begin(), set.nodes().end()};
  }

  // Connections whose client is in `hosts` (all when empty).
  std::vector<const ConnectionRow*> selected(const std::set<std::uint32_t>* hosts) const {
    std::vector<const ConnectionRow*> out;
    for (const ConnectionRow& c : recorder_.connections())
      if (hosts == nullptr || (c.side[0].present() && hosts->contains(c.side[0].host))) out.push_back(&c);
    return out;
  }

  Value metric(const ex::Metric& m) {
    std::set<std::uint32_t> hosts;
    if (m.hosts) hosts = next_selector();
    const std::set<std::uint32_t>* filter = m.hosts ? &hosts : nullptr;
    last_filter_ = hosts;
    last_filtered_ = m.hosts.has_value();
    if (m.family == "connections") {
      Summary s;
      for (const ConnectionRow* c : selected(filter)) count(s, *c);
      const std::map<std::string, std::uint64_t> f = {
          {"total", s.connections}, {"started", s.started},     {"established", s.established},
          {"completed", s.completed}, {"failed", s.failed()},   {"reset", s.reset},
          {"refused", s.refused},   {"timed_out", s.timed_out}, {"crashed", s.crashed},
          {"open", s.open}, {"not_started", summary_.not_started}};
      return {Value::Kind::number, static_cast<double>(f.at(m.field)), {}};
    }
    if (m.family == "handshake" || m.family == "teardown") {
      std::vector<std::int64_t> v;
      for (const ConnectionRow* c : selected(filter)) {
        const auto x = m.family == "handshake" ? c->handshake() : c->teardown();
        if (x != kNever) v.push_back(x);
      }
      const Distribution d = Distribution::of(v);
      if (m.field == "count") return {Value::Kind::number, static_cast<double>(d.count), {}};
      if (d.count == 0) return {Value::Kind::missing, 0, {}};
      const std::map<std::string, double> f = {
          {"min", static_cast<double>(d.min)}, {"p50", static_cast<double>(d.p50)}, {"p90", static_cast<double>(d.p90)},
          {"p99", static_cast<double>(d.p99)}, {"p999", static_cast<double>(d.p999)}, {"max", static_cast<double>(d.max)},
          {"mean", d.mean}};
      return {Value::Kind::time, f.at(m.field), {}};
    }
    if (m.family == "goodput" || m.family == "throughput") {
      const Rates r = Rates::of(selected(filter), m.family == "goodput");
      const Distribution& d = r.per_connection;
      if (m.field == "count") return {Value::Kind::number, static_cast<double>(d.count), {}};
      if (d.count == 0) return {Value::Kind::missing, 0, {}};
      const std::map<std::string, double> f = {
          {"min", static_cast<double>(d.min)}, {"p50", static_cast<double>(d.p50)}, {"p90", static_cast<double>(d.p90)},
          {"p99", static_cast<double>(d.p99)}, {"p999", static_cast<double>(d.p999)}, {"max", static_cast<double>(d.max)},
          {"mean", d.mean},                    {"total", r.total_bps}};
      return {Value::Kind::rate, f.at(m.field), {}};
    }
    if (m.family == "retransmissions") {
      std::uint64_t n = 0;
      for (const ConnectionRow& c : recorder_.connections())
        for (const Side& side : c.side) {
          if (!side.has_conn || (filter && !filter->contains(side.host))) continue;
          for (int k = 0; k < kRetransmitKinds; ++k)
            if (m.field == "total" || m.field == retransmit_kind_name(k)) n += side.retransmissions[k];
        }
      return {Value::Kind::number, static_cast<double>(n), {}};
    }
    if (m.family == "drops") {
      std::uint64_t n = 0;
      for (int r = 0; r < kDropReasonCount; ++r)
        if (m.field == "total" || m.field == to_string(static_cast<DropReason>(r))) n += summary_.drops[static_cast<std::size_t>(r)];
      return {Value::Kind::number, static_cast<double>(n), {}};
    }
    // bytes
    std::uint64_t n = 0;
    if (m.field == "delivered") {
      for (const ConnectionRow& c : recorder_.connections())
        for (const Side& side : c.side)
          if (side.has_conn && (filter == nullptr || filter->contains(side.host))) n += side.bytes_received;
      return {Value::Kind::bytes, static_cast<double>(n), {}};
    }
    for (std::uint32_t h = 0; h < network_.node_count(); ++h) {
      if (!network_.is_host(h) || (filter && !filter->contains(h))) continue;
      const HostStats& st = network_.host(h).stats();
      n += m.field == "verified" ? st.payload_bytes_verified
           : m.field == "stale"  ? st.payload_bytes_stale
                                 : st.payload_bytes_wrong;
    }
    return {Value::Kind::bytes, static_cast<double>(n), {}};
  }

  const ConnectionRow* find(const ex::ConnectionRef& r) {
    if (r.id != 0) {
      if (r.id > recorder_.connections().size()) return nullptr;
      return &recorder_.connections()[r.id - 1];
    }
    const auto clients = next_selector(), servers = next_selector();
    std::uint32_t n = 0;
    for (const ConnectionRow& c : recorder_.connections()) {
      if (!c.side[0].present() || !c.side[1].present() || !c.side[0].has_conn) continue;
      if (!clients.contains(c.side[0].host) || !servers.contains(c.side[1].host) || c.side[1].port != r.port) continue;
      if (++n == r.nth) return &c;
    }
    return nullptr;
  }

  Value connection(const ex::ConnectionRef& r) {
    const ConnectionRow* c = find(r);
    if (c == nullptr) {
      missing_connection_ = true;
      return {Value::Kind::missing, 0, {}};
    }
    last_connection_ = c->id;
    const int side = r.side < 0 ? 0 : r.side;
    const Side& s = c->side[side];
    if (r.field == "outcome") return {Value::Kind::word, 0, std::string(to_string(c->outcome()))};
    if (r.field == "handshake" || r.field == "teardown") {
      const auto x = r.field == "handshake" ? c->handshake() : c->teardown();
      if (x == kNever) return {Value::Kind::missing, 0, {}};
      return {Value::Kind::time, static_cast<double>(x), {}};
    }
    if (r.field == "state_at") {
      tcp::State st = tcp::State::closed;
      for (const auto& [t, to] : s.timeline) {
        if (t > r.at_ns) break;
        st = to;
      }
      return {Value::Kind::word, 0, std::string(state_name(st))};
    }
    if (r.field == "goodput" || r.field == "throughput") {
      const double bps = r.field == "goodput" ? c->goodput_bps() : c->throughput_bps();
      if (bps < 0) return {Value::Kind::missing, 0, {}};
      return {Value::Kind::rate, bps, {}};
    }
    if (r.field == "bytes_sent") return {Value::Kind::bytes, static_cast<double>(s.bytes_sent), {}};
    if (r.field == "bytes_received") return {Value::Kind::bytes, static_cast<double>(s.bytes_received), {}};
    // retransmissions.KIND
    const std::string kind = r.field.substr(r.field.find('.') + 1);
    std::uint64_t n = 0;
    for (int i = 0; i < 2; ++i) {
      if (r.side >= 0 && i != r.side) continue;
      for (int k = 0; k < kRetransmitKinds; ++k)
        if (kind == "total" || kind == retransmit_kind_name(k)) n += c->side[i].retransmissions[k];
    }
    return {Value::Kind::number, static_cast<double>(n), {}};
  }

  Value value(const ex::Operand& o) {
    if (const auto* m = std::get_if<ex::Metric>(&o)) return metric(*m);
    if (const auto* r = std::get_if<ex::ConnectionRef>(&o)) return connection(*r);
    if (const auto* q = std::get_if<ex::Quantity>(&o)) {
      switch (q->unit) {
        case ex::Quantity::Unit::ns:
          return {Value::Kind::time, q->value, {}};
        case ex::Quantity::Unit::bytes:
          return {Value::Kind::bytes, q->value, {}};
        case ex::Quantity::Unit::fraction:
          return {Value::Kind::fraction, q->value, {}};
        case ex::Quantity::Unit::rate:
          return {Value::Kind::rate, q->value, {}};
        case ex::Quantity::Unit::none:
          return {Value::Kind::number, q->value, {}};
      }
    }
    return {Value::Kind::word, 0, std::get<ex::Word>(o).text};
  }

  void happening(const ex::Happening& h, ExpectationResult& res) {
    const auto hosts = next_selector();
    const int cls = segment_class(h.kind);
    // The earliest first sighting and the latest last one over the hosts.
    Seen all;
    for (const std::uint32_t host : hosts) {
      const Seen& s = recorder_.seen(host, cls, h.sends);
      if (s.first != kNever && (all.first == kNever || s.first < all.first)) {
        all.first = s.first;
        all.first_row = s.first_row;
      }
      if (s.last != kNever && (all.last == kNever || s.last > all.last)) {
        all.last = s.last;
        all.last_row = s.last_row;
      }
    }
    const std::string verb = h.sends ? "sent" : "saw";
    const auto conn = [](std::uint32_t row) { return row == 0 ? std::string() : fmt::format(" (connection {})", row); };
    const auto at = [](std::int64_t t) { return to_string(Duration::nanoseconds(t)); };
    switch (h.when) {
      case ex::Happening::When::before:
        res.passed = all.first != kNever && all.first < h.at_ns;
        res.actual = all.first == kNever ? fmt::format("never {} {}", verb, h.kind)
                                         : fmt::format("first {} {} at {}{}", verb, h.kind, at(all.first), conn(all.first_row));
        break;
      case ex::Happening::When::after:
        res.passed = all.last != kNever && all.last > h.at_ns;
        res.actual = all.last == kNever ? fmt::format("never {} {}", verb, h.kind)
                                        : fmt::format("last {} {} at {}{}", verb, h.kind, at(all.last), conn(all.last_row));
        break;
      case ex::Happening::When::never:
        res.passed = all.first == kNever;
        res.actual = all.first == kNever ? fmt::format("never {} {}", verb, h.kind)
                                         : fmt::format("first {} {} at {}{}", verb, h.kind, at(all.first), conn(all.first_row));
        break;
    }
    if (!res.passed && all.first != kNever)
      res.detail = inspect_hint(h.when == ex::Happening::When::after ? all.last_row : all.first_row);
  }

  // The command that shows one connection of this run (its folder quoted for a shell
  // when it needs to be).
  std::string inspect_hint(std::uint64_t conn) const {
    const bool plain = !dir_.empty() && dir_.find_first_not_of(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@") == std::string::npos;
    std::string quoted = "'";
    for (char c : dir_) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted += "'";
    return fmt::format("shakedown inspect {} --conn {}", dir_.empty() ? "RUN_FOLDER" : plain ? dir_ : quoted, conn);
  }

  // The connections that made a failed comparison fail, worst first.
  std::string where_to_look(const ex::Operand& left, ex::Op op, const Value& right) {
    if (missing_connection_) return "no such connection: see connections.csv for ids and endpoints";
    if (std::holds_alternative<ex::ConnectionRef>(left))
      return inspect_hint(last_connection_);
    const auto* m = std::get_if<ex::Metric>(&left);
    if (m == nullptr) return {};
    const std::set<std::uint32_t>* filter = last_filtered_ ? &last_filter_ : nullptr;
    std::vector<std::pair<double, std::uint64_t>> worst;  // value, id
    std::string unit;
    if (m->family == "connections") {
      std::map<std::string, std::vector<std::uint64_t>> by_outcome;
      for (const ConnectionRow* c : selected(filter))
        if (c->outcome() != Outcome::completed) by_outcome[std::string(to_string(c->outcome()))].push_back(c->id);
      std::string out;
      for (const auto& [outcome, ids] : by_outcome) {
        std::vector<std::uint64_t> head(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(ids.size(), 5)));
        out += fmt::format("{}{} {}: {}{}", out.empty() ? "" : "; ", ids.size(), outcome, fmt::join(head, ", "),
                           ids.size() > head.size() ? ", ..." : "");
      }
      return out.empty() ? std::string() : "connections not completed — " + out;
    }
    if (m->family == "handshake" || m->family == "teardown") {
      for (const ConnectionRow* c : selected(filter)) {
        const auto x = m->family == "handshake" ? c->handshake() : c->teardown();
        if (x != kNever) worst.emplace_back(static_cast<double>(x), c->id);
      }
      // A bound from above fails on the slowest; from below, on the fastest.
      const bool high = op == ex::Op::lt || op == ex::Op::le || op == ex::Op::eq || op == ex::Op::ne;
      std::sort(worst.begin(), worst.end(), [&](const auto& a, const auto& b) {
        return high ? (a.first != b.first ? a.first > b.first : a.second < b.second)
                    : (a.first != b.first ? a.first < b.first : a.second < b.second);
      });
      std::vector<std::string> parts;
      for (std::size_t i = 0; i < worst.size() && i < 5; ++i) {
        if (high && op != ex::Op::eq && op != ex::Op::ne && compare(Value{Value::Kind::time, worst[i].first, {}}, op, right))
          break;
        parts.push_back(fmt::format("{} ({})", worst[i].second,
                                    to_string(Duration::nanoseconds(static_cast<std::int64_t>(worst[i].first)))));
      }
      return parts.empty() ? std::string() : fmt::format("{} connections: {}", high ? "slowest" : "fastest", fmt::join(parts, ", "));
    }
    if (m->family == "retransmissions") {
      for (const ConnectionRow* c : selected(nullptr)) {
        std::uint64_t n = 0;
        for (const Side& side : c->side) {
          if (!side.has_conn || (filter && !filter->contains(side.host))) continue;
          for (int k = 0; k < kRetransmitKinds; ++k)
            if (m->field == "total" || m->field == retransmit_kind_name(k)) n += side.retransmissions[k];
        }
        if (n > 0) worst.emplace_back(static_cast<double>(n), c->id);
      }
      std::sort(worst.begin(), worst.end(),
                [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
      std::vector<std::string> parts;
      for (std::size_t i = 0; i < worst.size() && i < 5; ++i)
        parts.push_back(fmt::format("{} ({})", worst[i].second, static_cast<std::uint64_t>(worst[i].first)));
      return parts.empty() ? std::string() : fmt::format("most retransmissions: connections {}", fmt::join(parts, ", "));
    }
    if (m->family == "drops") return "drop lines of events.jsonl say where each was lost";
    return {};
  }

  const topology::Expectation& e_;
  const Recorder& recorder_;
  Network& network_;
  const Summary& summary_;
  const std::string& dir_;
  int selector_ = 0;
  std::set<std::uint32_t> last_filter_;
  bool last_filtered_ = false;
  bool missing_connection_ = false;
  std::uint64_t last_connection_ = 0;
};

}  // namespace

ExpectationNeeds needs(const topology::Topology& topology) {
  ExpectationNeeds n;
  for (const auto& e : topology.expectations()) {
    const ex::Expression expr = ex::parse(e.text());
    const auto* c = std::get_if<ex::Comparison>(&expr);
    if (c == nullptr) {
      n.seen = true;
      continue;
    }
    for (const ex::Operand* o : {&c->left, &c->right}) {
      if (const auto* r = std::get_if<ex::ConnectionRef>(o); r && r->field == "state_at") n.timelines = true;
      if (const auto* m = std::get_if<ex::Metric>(o); m && m->family == "bytes" && m->field == "wrong")
        n.wrong_bytes = true;
    }
  }
  return n;
}

void prepare(Recorder& recorder, const topology::Topology& topology) {
  const ExpectationNeeds n = needs(topology);
  if (n.seen) recorder.keep_seen();
  if (n.timelines) recorder.keep_timelines();
}

std::vector<ExpectationResult> evaluate(const topology::Topology& topology, const Recorder& recorder,
                                        Network& network, const Summary& summary, const std::string& run_dir) {
  std::vector<ExpectationResult> out;
  for (const auto& e : topology.expectations())
    out.push_back(Evaluator(e, recorder, network, summary, run_dir).run());
  return out;
}

nlohmann::ordered_json to_json(const std::vector<ExpectationResult>& results) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    nlohmann::ordered_json j;
    j["expectation"] = r.text;
    j["where"] = r.where;
    j["passed"] = r.passed;
    j["actual"] = r.actual;
    if (!r.detail.empty()) j["look_at"] = r.detail;
    a.push_back(j);
  }
  return a;
}

std::vector<ExpectationResult> expectations_from_json(const nlohmann::json& array) {
  std::vector<ExpectationResult> out;
  if (!array.is_array()) return out;
  for (const auto& e : array) {
    if (!e.is_object()) continue;
    ExpectationResult x;
    x.text = e.value("expectation", "");
    x.where = e.value("where", "");
    x.passed = e.value("passed", false);
    x.actual = e.value("actual", "");
    x.detail = e.value("look_at", "");
    out.push_back(std::move(x));
  }
  return out;
}

std::string human(const std::vector<ExpectationResult>& results) {
  if (results.empty()) return {};
  const auto failed = std::count_if(results.begin(), results.end(), [](const auto& r) { return !r.passed; });
  std::string out = fmt::format("  {:<16}{} passed, {} failed\n", "expectations", results.size() - static_cast<std::size_t>(failed), failed);
  for (const auto& r : results) {
    if (r.passed) continue;
    out += fmt::format("    FAIL {}: {}\n         actual: {}\n", r.where, r.text, r.actual);
    if (!r.detail.empty()) out += fmt::format("         look at: {}\n", r.detail);
  }
  return out;
}

}  // namespace shakedown::controller
