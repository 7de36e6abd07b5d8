#include "topologies/expect.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "emulator/units.h"

namespace shakedown::topology::expect {

namespace {

struct Family {
  std::string_view name;
  std::vector<std::string_view> fields;
  bool selectable;
};

const std::vector<Family>& families() {
  static const std::vector<Family> f = {
      {"connections",
       {"total", "started", "established", "completed", "failed", "reset", "refused", "timed_out", "crashed", "open",
        "not_started"},
       true},
      {"handshake", {"count", "min", "p50", "p90", "p99", "p999", "max", "mean"}, true},
      {"teardown", {"count", "min", "p50", "p90", "p99", "p999", "max", "mean"}, true},
      {"retransmissions", {"syn", "syn_ack", "data", "fin", "total"}, true},
      {"drops",
       {"loss", "queue_full", "link_down", "corrupt", "mtu", "ttl", "no_route", "no_listener", "fault", "host_down",
        "total"},
       false},
      {"bytes", {"delivered", "verified", "wrong", "stale"}, true},
      {"goodput", {"count", "min", "p50", "p90", "p99", "p999", "max", "mean", "total"}, true},
      {"throughput", {"count", "min", "p50", "p90", "p99", "p999", "max", "mean", "total"}, true},
  };
  return f;
}

const std::vector<std::string_view> kWords = {
    "CLOSED",   "LISTEN",   "SYN_SENT",  "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
    "CLOSING",  "LAST_ACK", "TIME_WAIT", "open",         "completed",   "reset",      "refused",    "timed_out",
    "crashed"};

const std::vector<std::string_view> kKinds = {"SYN", "SYN-ACK", "ACK", "FIN", "RST", "DATA"};

const std::vector<std::string_view> kConnectionFields = {"outcome",    "handshake",      "teardown",
                                                         "state_at",   "bytes_sent",     "bytes_received",
                                                         "retransmissions", "goodput",   "throughput"};

std::string join(const std::vector<std::string_view>& v) { return fmt::format("{}", fmt::join(v, ", ")); }

bool contains(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {}

  Expression expression() {
    skip();
    if (at_end()) fail("an empty expectation: write a comparison such as 'connections.failed == 0'");
    if (auto h = happening()) return *h;
    Comparison c;
    c.left = operand();
    skip();
    c.op = op();
    skip();
    c.right = operand();
    skip();
    if (!at_end()) fail(fmt::format("unexpected '{}' after the comparison", rest()));
    check_types(c);
    return c;
  }

  std::optional<Metric> metric_alone() {
    skip();
    if (at_end()) return std::nullopt;
    const Operand o = operand();
    skip();
    const auto* m = std::get_if<Metric>(&o);
    if (!at_end() || m == nullptr) return std::nullopt;
    return *m;
  }

 private:
  [[noreturn]] void fail(const std::string& message, std::size_t at = std::string::npos) const {
    throw ParseError(static_cast<int>((at == std::string::npos ? i_ : at) + 1), message);
  }
  bool at_end() const { return i_ >= s_.size(); }
  void skip() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  std::string rest() const { return s_.substr(i_, 20); }
  static bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '*';
  }
  // A run of letters, digits and '_' (no dots: dots separate fields).
  std::string word() {
    const std::size_t start = i_;
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) ++i_;
    return s_.substr(start, i_ - start);
  }
  void expect(char c, std::string_view what) {
    if (at_end() || s_[i_] != c) fail(fmt::format("expected '{}' {}", c, what));
    ++i_;
  }
  // The text up to the ']' that closes an already consumed '[' (selectors may hold
  // their own brackets: client[2..5]).
  std::string bracketed(std::size_t& start) {
    start = i_;
    int depth = 1;
    while (!at_end()) {
      if (s_[i_] == '[') ++depth;
      if (s_[i_] == ']' && --depth == 0) break;
      ++i_;
    }
    if (at_end()) fail("a '[' is never closed", start - 1);
    std::string inside = s_.substr(start, i_ - start);
    ++i_;
    return inside;
  }

  std::optional<Happening> happening() {
    const std::size_t save = i_;
    bool negated = false;
    std::size_t host_at = i_;
    std::string first = token();
    if (first == "no") {
      negated = true;
      skip();
      host_at = i_;
      first = token();
    }
    skip();
    const std::size_t verb_at = i_;
    const std::string verb = token();
    if (verb != "sees" && verb != "sends") {
      if (negated) fail("expected 'sees' or 'sends' after 'no HOST'", verb_at);
      i_ = save;
      return std::nullopt;
    }
    Happening h;
    h.host = Selector{first, static_cast<int>(host_at + 1)};
    h.sends = verb == "sends";
    skip();
    const std::size_t kind_at = i_;
    h.kind = token();
    if (!contains(kKinds, h.kind))
      fail(fmt::format("unknown segment kind '{}'; expected one of {}", h.kind, join(kKinds)), kind_at);
    skip();
    if (negated) {
      h.when = Happening::When::never;
    } else {
      const std::size_t when_at = i_;
      const std::string when = token();
      if (when != "before" && when != "after")
        fail(fmt::format("expected 'before' or 'after' and a time, got '{}'", when), when_at);
      h.when = when == "before" ? Happening::When::before : Happening::When::after;
      skip();
      h.at_ns = duration();
    }
    skip();
    if (!at_end()) fail(fmt::format("unexpected '{}'", rest()));
    return h;
  }
  // A whitespace-delimited token.
  std::string token() {
    const std::size_t start = i_;
    while (!at_end() && !std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    return s_.substr(start, i_ - start);
  }

  std::int64_t duration() {
    const std::size_t start = i_;
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.')) ++i_;
    const std::string text = s_.substr(start, i_ - start);
    try {
      return parse_duration(text).ns();
    } catch (const UnitError& e) {
      fail(e.what(), start);
    }
  }

  Op op() {
    static const std::pair<std::string_view, Op> ops[] = {{"==", Op::eq}, {"!=", Op::ne}, {"<=", Op::le},
                                                          {">=", Op::ge}, {"<", Op::lt},  {">", Op::gt}};
    for (const auto& [text, o] : ops) {
      if (s_.compare(i_, text.size(), text) == 0) {
        i_ += text.size();
        return o;
      }
    }
    if (!at_end() && s_[i_] == '=') fail("'=' is not a comparison: write '=='");
    fail(fmt::format("expected a comparison (==, !=, <, <=, >, >=), got '{}'", rest()));
  }

  Operand operand() {
    if (at_end()) fail("expected a metric or a value");
    const char c = s_[i_];
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-') return quantity();
    const std::size_t start = i_;
    const std::string name = word();
    if (name.empty()) fail(fmt::format("expected a metric or a value, got '{}'", rest()));
    if (name == "connection") return connection(start);
    const auto f = std::find_if(families().begin(), families().end(), [&](const Family& x) { return x.name == name; });
    if (f != families().end()) return metric(*f);
    if (contains(kWords, name)) return Word{name};
    std::vector<std::string_view> known;
    for (const auto& x : families()) known.push_back(x.name);
    fail(fmt::format("unknown metric '{}'; expected one of {}, connection[...], a value such as 300ms, or a state "
                     "or outcome name",
                     name, join(known)),
         start);
  }

  Metric metric(const Family& f) {
    Metric m;
    m.family = std::string(f.name);
    if (!at_end() && s_[i_] == '[') {
      if (!f.selectable) fail(fmt::format("{} cannot be selected by host: drops are counted by links and nodes", f.name));
      ++i_;
      std::size_t start = 0;
      const std::string sel = bracketed(start);
      if (sel.empty()) fail("an empty host selector", start);
      m.hosts = Selector{sel, static_cast<int>(start + 1)};
    }
    expect('.', fmt::format("and a field of {} ({})", f.name, join(f.fields)));
    const std::size_t at = i_;
    m.field = word();
    if (!contains(f.fields, m.field))
      fail(fmt::format("{} has no field '{}'; expected one of {}", f.name, m.field, join(f.fields)), at);
    return m;
  }

  ConnectionRef connection(std::size_t start) {
    ConnectionRef r;
    expect('[', "after 'connection': connection[ID] or connection[CLIENT->SERVER:PORT]");
    std::size_t in_at = 0;
    const std::string inside = bracketed(in_at);
    if (!inside.empty() && std::all_of(inside.begin(), inside.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); })) {
      std::from_chars(inside.data(), inside.data() + inside.size(), r.id);
      if (r.id == 0) fail("connection ids start at 1", in_at);
    } else {
      std::size_t arrow = inside.find("->");
      std::size_t arrow_len = 2;
      if (arrow == std::string::npos) {
        arrow = inside.find("→");
        arrow_len = std::string_view("→").size();
      }
      const std::size_t colon = inside.rfind(':');
      if (arrow == std::string::npos || colon == std::string::npos || colon < arrow)
        fail(fmt::format("expected connection[ID] or connection[CLIENT->SERVER:PORT], got '{}'", inside), in_at);
      std::string port = inside.substr(colon + 1);
      if (const auto hash = port.find('#'); hash != std::string::npos) {
        const std::string nth = port.substr(hash + 1);
        const auto [p, ec] = std::from_chars(nth.data(), nth.data() + nth.size(), r.nth);
        if (ec != std::errc() || p != nth.data() + nth.size() || r.nth == 0)
          fail(fmt::format("'#{}': expected the connection's number among those of its endpoints, from 1", nth),
               in_at + colon + 1 + hash);
        port = port.substr(0, hash);
      }
      unsigned value = 0;
      const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
      if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535)
        fail(fmt::format("'{}' is not a port", port), in_at + colon + 1);
      r.port = static_cast<std::uint16_t>(value);
      const auto trim = [](std::string x) {
        while (!x.empty() && x.back() == ' ') x.pop_back();
        std::size_t b = 0;
        while (b < x.size() && x[b] == ' ') ++b;
        return x.substr(b);
      };
      r.client = Selector{trim(inside.substr(0, arrow)), static_cast<int>(in_at + 1)};
      r.server = Selector{trim(inside.substr(arrow + arrow_len, colon - arrow - arrow_len)),
                          static_cast<int>(in_at + arrow + arrow_len + 1)};
      if (r.client->text.empty() || r.server->text.empty())
        fail("a connection needs a client and a server: connection[client3->server:80]", in_at);
    }
    expect('.', fmt::format("and a field of the connection ({})", join(kConnectionFields)));
    std::size_t at = i_;
    std::string field = word();
    if (field == "client" || field == "server") {
      r.side = field == "server" ? 1 : 0;
      expect('.', "and a field of that side");
      at = i_;
      field = word();
    }
    if (!contains(kConnectionFields, field))
      fail(fmt::format("a connection has no field '{}'; expected one of {}", field, join(kConnectionFields)), at);
    r.field = field;
    if (field == "state_at") {
      expect('(', "and a time: state_at(2s)");
      skip();
      r.at_ns = duration();
      skip();
      expect(')', "after the time of state_at");
    } else if (field == "retransmissions") {
      expect('.', "and a kind: syn, syn_ack, data, fin or total");
      const std::size_t kat = i_;
      const std::string kind = word();
      if (!contains({"syn", "syn_ack", "data", "fin", "total"}, kind))
        fail(fmt::format("unknown kind '{}'; expected syn, syn_ack, data, fin or total", kind), kat);
      r.field += "." + kind;
    }
    (void)start;
    return r;
  }

  Quantity quantity() {
    const std::size_t start = i_;
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' || s_[i_] == '%' ||
                         s_[i_] == '-'))
      ++i_;
    Quantity q;
    q.text = s_.substr(start, i_ - start);
    std::size_t digits = 0;
    while (digits < q.text.size() && (std::isdigit(static_cast<unsigned char>(q.text[digits])) || q.text[digits] == '.' ||
                                      q.text[digits] == '-'))
      ++digits;
    const std::string unit = q.text.substr(digits);
    try {
      if (unit.empty()) {
        double v = 0;
        const auto [p, ec] = std::from_chars(q.text.data(), q.text.data() + q.text.size(), v);
        if (ec != std::errc() || p != q.text.data() + q.text.size()) fail(fmt::format("'{}' is not a number", q.text), start);
        q.value = v;
      } else if (unit == "%") {
        q.unit = Quantity::Unit::fraction;
        q.value = parse_percent(q.text).fraction();
      } else if (unit.ends_with("bps") || unit.ends_with("Bps") || unit.ends_with("bit")) {
        q.unit = Quantity::Unit::rate;
        q.value = static_cast<double>(parse_rate(q.text).bits_per_second());
      } else if (unit.back() == 'B') {
        q.unit = Quantity::Unit::bytes;
        q.value = static_cast<double>(parse_bytes(q.text));
      } else {
        q.unit = Quantity::Unit::ns;
        q.value = static_cast<double>(parse_duration(q.text).ns());
      }
    } catch (const UnitError& e) {
      fail(e.what(), start);
    }
    return q;
  }

  // Durations compare with durations, counts with plain numbers, states and outcomes
  // with their names.
  void check_types(const Comparison& c) const {
    const auto kind = [](const Operand& o) -> std::string {
      if (const auto* m = std::get_if<Metric>(&o)) {
        if (m->family == "handshake" || m->family == "teardown") return m->field == "count" ? "count" : "time";
        if (m->family == "bytes") return "bytes";
        if (m->family == "goodput" || m->family == "throughput") return m->field == "count" ? "count" : "rate";
        return "count";
      }
      if (const auto* r = std::get_if<ConnectionRef>(&o)) {
        if (r->field == "outcome") return "outcome";
        if (r->field == "state_at") return "state";
        if (r->field == "handshake" || r->field == "teardown") return "time";
        if (r->field.starts_with("bytes")) return "bytes";
        if (r->field == "goodput" || r->field == "throughput") return "rate";
        return "count";
      }
      if (const auto* q = std::get_if<Quantity>(&o)) {
        switch (q->unit) {
          case Quantity::Unit::ns:
            return "time";
          case Quantity::Unit::bytes:
            return "bytes";
          case Quantity::Unit::fraction:
            return "fraction";
          case Quantity::Unit::rate:
            return "rate";
          case Quantity::Unit::none:
            return "number";
        }
      }
      const auto& w = std::get<Word>(o).text;
      return std::isupper(static_cast<unsigned char>(w[0])) ? "state" : "outcome";
    };
    const std::string a = kind(c.left), b = kind(c.right);
    const auto numeric = [](const std::string& k) { return k == "count" || k == "number"; };
    const bool ok = a == b || (numeric(a) && numeric(b)) || (a == "bytes" && b == "number") ||
                    (a == "number" && b == "bytes");
    const auto noun = [](const std::string& k) -> std::string {
      if (k == "time") return "a time";
      if (k == "count") return "a count";
      if (k == "number") return "a plain number";
      if (k == "bytes") return "a size";
      if (k == "rate") return "a rate";
      if (k == "fraction") return "a percentage";
      if (k == "state") return "a state";
      return "an outcome";
    };
    if (!ok)
      fail(fmt::format("cannot compare {} with {}{}", noun(a), noun(b),
                       (a == "time" && b == "number") || (b == "time" && a == "number")
                           ? ": give the number a unit, as in 300ms"
                           : ""),
           0);
    if ((a == "state" || a == "outcome") && c.op != Op::eq && c.op != Op::ne)
      fail(fmt::format("{}s compare only with == and !=", a), 0);
  }

  const std::string& s_;
  std::size_t i_ = 0;
};

}  // namespace

std::string_view to_string(Op op) {
  switch (op) {
    case Op::eq:
      return "==";
    case Op::ne:
      return "!=";
    case Op::lt:
      return "<";
    case Op::le:
      return "<=";
    case Op::gt:
      return ">";
    case Op::ge:
      return ">=";
  }
  return "?";
}

Expression parse(const std::string& text) { return Parser(text).expression(); }

std::optional<Metric> parse_metric(const std::string& text) {
  try {
    return Parser(text).metric_alone();
  } catch (const ParseError&) {
    return std::nullopt;
  }
}

std::vector<Selector> selectors(const Expression& e) {
  std::vector<Selector> out;
  const auto of = [&](const Operand& o) {
    if (const auto* m = std::get_if<Metric>(&o); m && m->hosts) out.push_back(*m->hosts);
    if (const auto* r = std::get_if<ConnectionRef>(&o); r && r->client) {
      out.push_back(*r->client);
      out.push_back(*r->server);
    }
  };
  if (const auto* c = std::get_if<Comparison>(&e)) {
    of(c->left);
    of(c->right);
  } else {
    out.push_back(std::get<Happening>(e).host);
  }
  return out;
}

}  // namespace shakedown::topology::expect
