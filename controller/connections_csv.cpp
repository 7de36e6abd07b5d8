#include "controller/connections_csv.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace shakedown::controller {

namespace {

using Buffer = fmt::memory_buffer;

void time_field(Buffer& b, std::int64_t t) {
  if (t != kNever) fmt::format_to(fmt::appender(b), "{}", t);
}
void text(Buffer& b, std::string_view s) { b.append(s); }

// A column of the row as a whole, and one of each side (written client_X, server_X);
// each appends its field.
struct RowColumn {
  const char* name;
  void (*field)(Buffer&, const ConnectionRow&, const TraceNames&);
};
struct SideColumn {
  const char* name;
  void (*field)(Buffer&, const Side&);
};

void host_name(Buffer& b, const Side& s, const TraceNames& n) {
  if (s.present()) text(b, n.node(s.host));
}
void address(Buffer& b, const Side& s) {
  const std::uint32_t a = s.address.value;
  if (a != 0) fmt::format_to(fmt::appender(b), "{}.{}.{}.{}:{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff, s.port);
}

constexpr RowColumn kRowColumns[] = {
    {"id", [](Buffer& b, const ConnectionRow& c, const TraceNames&) { fmt::format_to(fmt::appender(b), "{}", c.id); }},
    {"outcome", [](Buffer& b, const ConnectionRow& c, const TraceNames&) { text(b, to_string(c.outcome())); }},
    {"client", [](Buffer& b, const ConnectionRow& c, const TraceNames& n) { host_name(b, c.side[0], n); }},
    {"client_address", [](Buffer& b, const ConnectionRow& c, const TraceNames&) { address(b, c.side[0]); }},
    {"server", [](Buffer& b, const ConnectionRow& c, const TraceNames& n) { host_name(b, c.side[1], n); }},
    {"server_address", [](Buffer& b, const ConnectionRow& c, const TraceNames&) { address(b, c.side[1]); }},
    {"handshake_ns", [](Buffer& b, const ConnectionRow& c, const TraceNames&) { time_field(b, c.handshake()); }},
    {"teardown_ns", [](Buffer& b, const ConnectionRow& c, const TraceNames&) { time_field(b, c.teardown()); }},
};

#define SIDE_TIME(f) {#f "_ns", [](Buffer& b, const Side& s) { time_field(b, s.f); }}
#define SIDE_NUMBER(name, expr) {name, [](Buffer& b, const Side& s) { fmt::format_to(fmt::appender(b), "{}", expr); }}
constexpr SideColumn kSideColumns[] = {
    SIDE_NUMBER("isn", s.isn),
    SIDE_TIME(syn_sent),
    SIDE_TIME(syn_received),
    SIDE_TIME(synack_sent),
    SIDE_TIME(synack_received),
    SIDE_TIME(established),
    SIDE_TIME(first_data_sent),
    SIDE_TIME(last_data_received),
    SIDE_TIME(fin_sent),
    SIDE_TIME(fin_received),
    SIDE_TIME(time_wait_entered),
    SIDE_TIME(time_wait_left),
    SIDE_TIME(closed),
    SIDE_NUMBER("bytes_sent", s.bytes_sent),
    SIDE_NUMBER("bytes_received", s.bytes_received),
    SIDE_NUMBER("retx_syn", s.retransmissions[kRetransmitSyn]),
    SIDE_NUMBER("retx_syn_ack", s.retransmissions[kRetransmitSynAck]),
    SIDE_NUMBER("retx_data", s.retransmissions[kRetransmitData]),
    SIDE_NUMBER("retx_fin", s.retransmissions[kRetransmitFin]),
    {"outcome", [](Buffer& b, const Side& s) { text(b, to_string(s.outcome)); }},
};
#undef SIDE_TIME
#undef SIDE_NUMBER

// Calls field(i, append) for every column in order.
template <typename F>
void each_field(const ConnectionRow& c, const TraceNames& names, Buffer& b, F&& done) {
  for (const auto& r : kRowColumns) {
    r.field(b, c, names);
    done();
  }
  for (const Side& s : c.side)
    for (const auto& col : kSideColumns) {
      if (s.has_conn) {
        col.field(b, s);
      } else if (s.present() && names.is_real(s.host) && std::string_view(col.name) == "outcome") {
        text(b, "unseen");  // Linux's TCP on a real host: its states are not seen (docs/realtime.md)
      }
      done();
    }
}

}  // namespace

const std::vector<std::string>& connection_columns() {
  static const std::vector<std::string> columns = [] {
    std::vector<std::string> c;
    for (const auto& r : kRowColumns) c.emplace_back(r.name);
    for (const char* who : {"client", "server"})
      for (const auto& s : kSideColumns) c.push_back(fmt::format("{}_{}", who, s.name));
    return c;
  }();
  return columns;
}

std::vector<std::string> connection_fields(const ConnectionRow& c, const TraceNames& names) {
  std::vector<std::string> f;
  f.reserve(connection_columns().size());
  Buffer b;
  each_field(c, names, b, [&] {
    f.emplace_back(b.data(), b.size());
    b.clear();
  });
  return f;
}

void write_connections_csv(const std::string& path, const std::vector<ConnectionRow>& rows, const TraceNames& names) {
  const std::string tmp = path + ".partial";
  std::ofstream out(tmp, std::ios::binary);
  if (!out) throw std::runtime_error(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  out << fmt::format("{}\n", fmt::join(connection_columns(), ","));
  Buffer line;
  for (const ConnectionRow& c : rows) {
    line.clear();
    each_field(c, names, line, [&] { line.push_back(','); });
    line[line.size() - 1] = '\n';
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
  }
  out.close();
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path));
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
}

}  // namespace shakedown::controller
