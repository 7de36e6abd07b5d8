#include "topologies/settings.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cctype>

namespace shakedown::topology::settings {

namespace {

namespace pb = google::protobuf;

const pb::FieldDescriptor& field_of(const pb::Message& m, std::string_view name) {
  const pb::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(std::string(name));
  if (f == nullptr) throw std::logic_error(fmt::format("{} has no field {}", m.GetDescriptor()->name(), name));
  return *f;
}

// Sets a numeric or boolean field, whatever its width.
template <typename T>
void set_number(pb::Message& m, std::string_view name, T v) {
  const pb::FieldDescriptor& f = field_of(m, name);
  const pb::Reflection& r = *m.GetReflection();
  switch (f.cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      r.SetInt32(&m, &f, static_cast<std::int32_t>(v));
      break;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      r.SetInt64(&m, &f, static_cast<std::int64_t>(v));
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      r.SetUInt32(&m, &f, static_cast<std::uint32_t>(v));
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      r.SetUInt64(&m, &f, static_cast<std::uint64_t>(v));
      break;
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      r.SetDouble(&m, &f, static_cast<double>(v));
      break;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      r.SetBool(&m, &f, v != 0);
      break;
    default:
      throw std::logic_error(fmt::format("field {} is not a number", name));
  }
}

// The words of a choice: its enum's values in lower case, or the bool's two words.
std::vector<std::string> choice_words(const Setting& s, const pb::Descriptor& message) {
  std::vector<std::string> words;
  if (!s.choices.empty()) {
    std::string w;
    for (const char c : s.choices) {
      if (c == ' ') {
        words.push_back(w);
        w.clear();
      } else {
        w += c;
      }
    }
    words.push_back(w);
    return words;
  }
  const pb::FieldDescriptor* f = message.FindFieldByName(std::string(s.field));
  if (f == nullptr || f->enum_type() == nullptr)
    throw std::logic_error(fmt::format("{} has no enum field {}", message.name(), s.field));
  const pb::EnumDescriptor& e = *f->enum_type();
  for (int i = 0; i < e.value_count(); ++i) {
    std::string name = e.value(i)->name();
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    words.push_back(name);
  }
  return words;
}

// "a, b or c".
std::string one_of(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

// --- the structured link keys ------------------------------------------------------------

// A random loss percentage, {probability, correlation}, Gilbert–Elliott {p, r, 1-h,
// 1-k} or 4-state {p13, p31, p32, p23, p14}.
void read_loss(const Reader& r, const Setting&, const YAML::Node& v, const std::string& path, pb::Message& m) {
  auto& d = static_cast<Direction&>(m);
  if (v.IsScalar()) {
    d.mutable_random_loss()->set_probability(r.percent(v, path));
  } else if (v.IsMap() && v["p13"]) {
    // tc's defaults: p31 = 1 - p13, p32 = 0, p23 = 100%, p14 = 0.
    auto* fs = d.mutable_four_state();
    bool p31 = false;
    r.for_each_key(v, path, {"p13", "p31", "p32", "p23", "p14"},
                   [&](const std::string& fk, const YAML::Node& fv, const std::string& fpath) {
                     if (fk == "p13") fs->set_p13(r.percent(fv, fpath));
                     if (fk == "p31") {
                       fs->set_p31(r.percent(fv, fpath));
                       p31 = true;
                     }
                     if (fk == "p32") fs->set_p32(r.percent(fv, fpath));
                     if (fk == "p23") fs->set_p23(r.percent(fv, fpath));
                     if (fk == "p14") fs->set_p14(r.percent(fv, fpath));
                   });
    if (!v["p23"]) fs->set_p23(1.0);
    if (!p31) fs->set_p31(1.0 - fs->p13());
  } else if (v.IsMap() && v["p"]) {
    // tc's defaults: r = 1 - p, 1-h = 100%, 1-k = 0%.
    auto* ge = d.mutable_gilbert_elliott();
    ge->set_one_minus_h(1.0);
    bool has_r = false;
    r.for_each_key(v, path, {"p", "r", "1-h", "1-k"},
                   [&](const std::string& gk, const YAML::Node& gv, const std::string& gpath) {
                     if (gk == "p") ge->set_p(r.percent(gv, gpath));
                     if (gk == "r") {
                       ge->set_r(r.percent(gv, gpath));
                       has_r = true;
                     }
                     if (gk == "1-h") ge->set_one_minus_h(r.percent(gv, gpath));
                     if (gk == "1-k") ge->set_one_minus_k(r.percent(gv, gpath));
                   });
    if (!has_r) ge->set_r(1.0 - ge->p());
  } else {
    auto* rl = d.mutable_random_loss();
    r.for_each_key(v, path, {"probability", "correlation"},
                   [&](const std::string& rk, const YAML::Node& rv, const std::string& rpath) {
                     if (rk == "probability") rl->set_probability(r.percent(rv, rpath));
                     if (rk == "correlation") rl->set_correlation(r.percent(rv, rpath));
                   });
  }
}

// duplicate and corrupt: a percentage or {probability, correlation}; the fields are
// KEY and KEY_correlation.
void read_chance(const Reader& r, const Setting& s, const YAML::Node& v, const std::string& path, pb::Message& m) {
  double p = 0, corr = 0;
  if (v.IsScalar()) {
    p = r.percent(v, path);
  } else {
    r.for_each_key(v, path, {"probability", "correlation"},
                   [&](const std::string& ck, const YAML::Node& cv, const std::string& cpath) {
                     if (ck == "probability") p = r.percent(cv, cpath);
                     if (ck == "correlation") corr = r.percent(cv, cpath);
                   });
  }
  set_number(m, s.field, p);
  set_number(m, fmt::format("{}_correlation", s.field), corr);
}

// netem's reorder: a percentage or {probability, correlation, gap}.
void read_reorder(const Reader& r, const Setting&, const YAML::Node& v, const std::string& path, pb::Message& m) {
  auto& d = static_cast<Direction&>(m);
  if (v.IsScalar()) {
    d.set_reorder(r.percent(v, path));
    return;
  }
  r.for_each_key(v, path, {"probability", "correlation", "gap"},
                 [&](const std::string& rk, const YAML::Node& rv, const std::string& rpath) {
                   if (rk == "probability") d.set_reorder(r.percent(rv, rpath));
                   if (rk == "correlation") d.set_reorder_correlation(r.percent(rv, rpath));
                   if (rk == "gap") d.set_reorder_gap(static_cast<std::uint32_t>(r.integer(rv, rpath, 1, 1'000'000)));
                 });
}

// Below Linux's SOCK_MIN_RCVBUF the window never opens far enough to move a segment (0
// never opens at all: a run that never ends); above 1 GiB it cannot be offered (RFC
// 7323 2.3: 65535 << 14).
std::string check_receive_buffer(std::uint64_t b) {
  if (b < 2304) return fmt::format("{} bytes is too small: at least 2304 bytes (Linux's minimum)", b);
  if (b > (1u << 30)) return "is larger than the largest window TCP can offer, 1GiB (RFC 7323 2.3)";
  return {};
}

using K = Kind;

// Linux's defaults, exactly those of tcp::Config (a controller test compares them).
constexpr Setting kTcp[] = {
    {"initial_rto", "initial_rto_ns", K::duration, "1s", {}, "the RTO before the first RTT sample (RFC 6298 2.1)"},
    {"min_rto", "min_rto_ns", K::duration, "200ms", {}, "the smallest RTO (Linux TCP_RTO_MIN; RFC 6298 2.4 says 1 s)"},
    {"max_rto", "max_rto_ns", K::duration, "120s", {}, "the largest RTO (Linux TCP_RTO_MAX)"},
    {"syn_retries", "syn_retries", K::whole, "6", {}, "SYN retransmissions before giving up (tcp_syn_retries)", 0, 255},
    {"synack_retries", "synack_retries", K::whole, "5", {}, "SYN-ACK retransmissions (tcp_synack_retries)", 0, 255},
    {"data_retries", "data_retries", K::whole, "15", {}, "data retransmissions before giving up (tcp_retries2)", 0, 255},
    {"msl", "msl_ns", K::duration, "30s", {}, "maximum segment lifetime: TIME_WAIT lasts 2 MSL"},
    {"fin_wait_2_timeout", "fin_wait_2_timeout_ns", K::duration, "60s", {},
     "how long a closed connection waits in FIN_WAIT_2 (tcp_fin_timeout)"},
    {"mss", "mss", K::byte_count, "1460", {}, "the MSS this host announces", 88, 65495},
    {"receive_buffer", "receive_buffer", K::size, "131072B", {},
     "the receive buffer: the largest window offered (2304 B to 1 GiB)", 0, 0, {}, false, check_receive_buffer},
    {"initial_window", "initial_window", K::whole, "10", {}, "the initial congestion window, in segments (RFC 6928)", 1,
     1000},
    {"congestion", "congestion", K::choice, "cubic", {}, "the congestion control algorithm"},
    {"dupack_threshold", "dupack_threshold", K::whole, "3", {}, "duplicate ACKs that trigger fast retransmit", 1, 1000},
    {"sack", "sack", K::boolean, "true", {}, "offer SACK (RFC 2018)"},
    {"timestamps", "timestamps", K::boolean, "true", {}, "offer timestamps (RFC 7323)"},
    {"window_scaling", "window_scaling", K::boolean, "true", {}, "offer window scaling (RFC 7323)"},
    {"application_reads", "application_reads", K::boolean, "false", {},
     "unread data fills the receive buffer until the application reads it"},
    {"keepalive", "keepalive", K::boolean, "false", {}, "send keepalive probes (SO_KEEPALIVE)"},
    {"keepalive_time", "keepalive_time_ns", K::duration, "7200s", {}, "idle time before the first probe"},
    {"keepalive_interval", "keepalive_interval_ns", K::duration, "75s", {}, "time between probes"},
    {"keepalive_probes", "keepalive_probes", K::whole, "9", {}, "unanswered probes before giving up", 1, 1000},
    {"nagle", "nagle", K::boolean, "true", {}, "Nagle's algorithm (RFC 896); false is TCP_NODELAY"},
    {"delayed_ack", "delayed_ack_ns", K::duration, "40ms", {}, "the delayed-ACK timeout; 0 turns delayed ACKs off"},
    {"two_way_handshake", "two_way_handshake", K::boolean, "false", {},
     "the teaching variant: a connection opens in two steps"},
    {"isn", "isn_clock", K::choice, "random", {}, "initial sequence numbers: random, or a 4 us clock (RFC 6528)", 0, 0,
     "random clock"},
    {"syn_loss_window_after", "syn_loss_window_after", K::whole, "2", {},
     "the initial window is one segment after this many SYN or SYN-ACK retransmissions; 0 never", 0, 255},
    {"strict_paws", "strict_paws", K::boolean, "false", {}, "RFC 7323 5.3 PAWS instead of Linux's tcp_paws_discard"},
};

// LinkParams' defaults: no impairment, Linux's txqueuelen, Ethernet's MTU.
constexpr Setting kLink[] = {
    {"delay", "delay_ns", K::duration, {}, "0", "one-way propagation delay"},
    {"jitter", "jitter_ns", K::duration, {}, "0", "± around the delay; no larger than the delay unless jitter_reorders"},
    {"jitter_correlation", "jitter_correlation", K::percent, {}, "0%", "netem's correlation of successive jitters"},
    {"distribution", "distribution", K::choice, "uniform", {}, "jitter's distribution"},
    {"jitter_reorders", "jitter_reorders", K::boolean, "false", {}, "let jitter reorder packets, as netem does"},
    {"loss", "loss", K::structured, {}, "none", "the bursty models take tc's defaults: r = 1 − p, 1-h = 100%, 1-k = 0%; p31 = 1 − p13, p23 = 100%, p32 = p14 = 0%", 0, 0, {}, false, nullptr,
     read_loss, "percent, {probability, correlation}, {p, r, 1-h, 1-k} or {p13, p31, p32, p23, p14}"},
    {"duplicate", "duplicate", K::structured, {}, "0%", "send a second copy", 0, 0, {}, false, nullptr, read_chance,
     "percent or {probability, correlation}"},
    {"corrupt", "corrupt", K::structured, {}, "0%", "flip one random bit of the packet", 0, 0, {}, false, nullptr,
     read_chance, "percent or {probability, correlation}"},
    {"reorder", "reorder", K::structured, "{probability: 0%, gap: 1}", {}, "netem's reorder: send at once, gap apart", 0,
     0, {}, false, nullptr, read_reorder, "percent or {probability, correlation, gap}"},
    {"rate", "rate_bps", K::rate, {}, "unlimited", "serialization rate; more than zero"},
    {"packet_overhead", "packet_overhead", K::byte_count, {}, "0", "bytes added to each packet's size for the rate (netem's overhead); may be negative",
     -65535, 65535},
    {"cell_size", "cell_size", K::byte_count, {}, "0", "serialize in whole cells of this size (ATM: 48)", 0, 65535},
    {"cell_overhead", "cell_overhead", K::byte_count, {}, "0", "bytes each cell costs more (ATM: 5)", -65535, 65535},
    {"queue", "queue_packets", K::whole, "1000", {}, "drop-tail queue limit in packets; 0 is no packet limit", 0,
     100'000'000},
    {"queue_bytes", "queue_bytes", K::size, {}, "none", "drop-tail queue limit in bytes"},
    {"mtu", "mtu", K::byte_count, "1500", {}, "larger IPv4 datagrams are dropped", 68, 65535},
    {"up", "down", K::boolean, "true", {}, "false: the link starts down (a fault can bring it up)", 0, 0, {}, true},
};

void read_one(const Reader& r, const Setting& s, const YAML::Node& v, const std::string& path, pb::Message& m) {
  switch (s.kind) {
    case K::duration:
      set_number(m, s.field, r.duration_ns(v, path));
      break;
    case K::whole:
      set_number(m, s.field, r.integer(v, path, static_cast<std::uint64_t>(s.min), static_cast<std::uint64_t>(s.max)));
      break;
    case K::byte_count:
      set_number(m, s.field, r.byte_count(v, path, s.min, s.max));
      break;
    case K::size: {
      const std::uint64_t b = r.bytes(v, path);
      if (s.check != nullptr)
        if (const std::string problem = s.check(b); !problem.empty()) r.fail(v, path, problem);
      set_number(m, s.field, b);
      break;
    }
    case K::boolean:
      set_number(m, s.field, r.boolean(v, path) != s.inverted);
      break;
    case K::percent:
      set_number(m, s.field, r.percent(v, path));
      break;
    case K::rate:
      set_number(m, s.field, r.rate_bps(v, path));
      break;
    case K::choice: {
      const std::vector<std::string> words = choice_words(s, *m.GetDescriptor());
      const std::string w = r.scalar(v, path, one_of(words));
      const auto it = std::find(words.begin(), words.end(), w);
      if (it == words.end()) r.fail(v, path, fmt::format("unknown {} '{}'; expected {}", s.key, w, one_of(words)));
      const int index = static_cast<int>(it - words.begin());
      const pb::FieldDescriptor& f = field_of(m, s.field);
      if (f.cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM)
        m.GetReflection()->SetEnumValue(&m, &f, f.enum_type()->value(index)->number());
      else
        set_number(m, s.field, index);
      break;
    }
    case K::structured:
      s.read(r, s, v, path, m);
      break;
  }
}

// Every key of the map `n` read into `m` through `table`, with `extra` keys allowed.
void read_table(std::span<const Setting> table, const Reader& r, const YAML::Node& n, const std::string& where,
                pb::Message& m, const std::vector<std::string_view>& extra) {
  std::vector<std::string_view> allowed = keys(table);
  allowed.insert(allowed.end(), extra.begin(), extra.end());
  r.for_each_key(n, where, allowed, [&](const std::string& k, const YAML::Node& v, const std::string& path) {
    for (const Setting& s : table)
      if (s.key == k) read_one(r, s, v, path, m);
  });
}

// The rows' defaults, read as a file would write them.
template <typename Message>
Message defaults_of(std::span<const Setting> table) {
  const Reader r("<defaults>");
  Message m;
  for (const Setting& s : table)
    if (!s.fallback.empty()) read_one(r, s, YAML::Load(std::string(s.fallback)), std::string(s.key), m);
  return m;
}

}  // namespace

std::span<const Setting> tcp() { return kTcp; }
std::span<const Setting> link() { return kLink; }

std::vector<std::string_view> keys(std::span<const Setting> table) {
  std::vector<std::string_view> out;
  out.reserve(table.size());
  for (const Setting& s : table) out.push_back(s.key);
  return out;
}

void read_tcp(const Reader& r, const YAML::Node& n, const std::string& where, Tcp& t) {
  read_table(kTcp, r, n, where, t, {});
  if (t.min_rto_ns() <= 0) r.fail(n, where + ".min_rto", "must be more than zero");
  if (t.min_rto_ns() > t.max_rto_ns()) r.fail(n, where, "min_rto is larger than max_rto");
  if (t.initial_rto_ns() <= 0) r.fail(n, where + ".initial_rto", "must be more than zero");
}

void read_direction(const Reader& r, const YAML::Node& n, const std::string& where, Direction& d,
                    const std::vector<std::string_view>& extra) {
  read_table(kLink, r, n, where, d, extra);
  if (d.jitter_ns() > 0 && d.jitter_ns() > d.delay_ns() && !d.jitter_reorders())
    r.fail(n, where + ".jitter", "is larger than the delay: a packet cannot arrive before it was sent");
}

void read_sides(const Reader& r, const YAML::Node& n, const std::string& where, Direction& forward, Direction& backward,
                bool with_ends) {
  std::vector<std::string_view> extra = {"forward", "backward"};
  if (with_ends) extra.push_back("ends");
  read_direction(r, n, where, forward, extra);
  read_direction(r, n, where, backward, extra);
  if (n["forward"]) read_direction(r, n["forward"], where + ".forward", forward);
  if (n["backward"]) read_direction(r, n["backward"], where + ".backward", backward);
}

Tcp default_tcp() {
  static const Tcp t = defaults_of<Tcp>(kTcp);
  return t;
}

Direction default_direction() {
  static const Direction d = defaults_of<Direction>(kLink);
  return d;
}

std::string type_of(const Setting& s, const pb::Descriptor& message) {
  switch (s.kind) {
    case K::duration:
      return "duration (`10ms`)";
    case K::whole:
      return fmt::format("whole number, {}–{}", s.min, s.max);
    case K::byte_count:
      return fmt::format("bytes (`1500` or `1500B`), {}–{}", s.min, s.max);
    case K::size:
      return "size (`64KB`)";
    case K::boolean:
      return "bool";
    case K::percent:
      return "percent (`1%`)";
    case K::rate:
      return "rate (`100Mbps`, `10MBps`)";
    case K::choice: {
      std::string out;
      for (const std::string& w : choice_words(s, message)) out += fmt::format("{}`{}`", out.empty() ? "" : " · ", w);
      return out;
    }
    case K::structured:
      return std::string(s.type_doc);
  }
  return {};
}

std::string default_of(const Setting& s) {
  if (s.fallback.empty()) return std::string(s.unset);
  if (s.kind == K::structured && s.key == "reorder") return "0% (gap 1)";
  return std::string(s.fallback);
}

std::string reference(std::span<const Setting> table, const pb::Descriptor& message) {
  std::string out = "| key | type | default | meaning |\n|---|---|---|---|\n";
  for (const Setting& s : table)
    out += fmt::format("| `{}` | {} | {} | {} |\n", s.key, type_of(s, message), default_of(s), s.doc);
  return out;
}

}  // namespace shakedown::topology::settings
