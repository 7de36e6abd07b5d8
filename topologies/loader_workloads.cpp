// The loader's room for workloads: who connects to whom, when, with how much data and
// how they close (docs/workloads.md).
#include "topologies/loader_internal.h"

#include <charconv>
#include <cmath>

namespace shakedown::topology {

// Whether a workload runs a server on its port (a syn-flood, or `listen: false`, does not).
static bool serves(const Workload& w) { return w.app() != Workload::SYN_FLOOD && !w.no_listener(); }

void Loader::workloads(const YAML::Node& n) {
  if (!n.IsSequence()) fail(n, "workload", fmt::format("expected a list of workloads, got {}", kind_of(n)));
  std::size_t index = 0;
  for (const YAML::Node& item : n) workload(item, index++);
}

void Loader::workload(const YAML::Node& item, std::size_t index) {
  const std::string where = fmt::format("workload[{}]", index);
  workload_at_.push_back(item);
  Workload* w = topo_.add_workloads();
  w->set_port(80);
  w->set_connections(1);
  w->set_repetitions(1);
  w->set_chunk(1448);
  w->set_backlog(kDefaultBacklog);
  w->set_syn_backlog(kDefaultSynBacklog);
  bool have_app = false, have_from = false, have_to = false;
  static const std::vector<std::string_view> keys = {
      "name",     "app",   "from",     "to",         "connections", "start",   "bytes",
      "request",  "response", "repetitions", "think", "rate",        "duration", "chunk",
      "close",    "half_close", "backlog", "syn_backlog", "client_port", "listen"};
  for_each_key(item, where, keys, [&](const std::string& k, const YAML::Node& v, const std::string& path) {
    if (k == "name") {
      const std::string name = scalar(v, path, "a name");
      if (!valid_name(name)) fail(v, path, fmt::format("'{}' is not a valid name: {}", shown(name), name_rule()));
      w->set_name(name);
    }
    if (k == "app") {
      have_app = true;
      const std::string s = scalar(v, path, "an application");
      static const std::vector<std::pair<std::string_view, Workload::App>> apps = {
          {"connect", Workload::CONNECT}, {"bulk", Workload::BULK}, {"request-response", Workload::REQUEST_RESPONSE},
          {"echo", Workload::ECHO},       {"stream", Workload::STREAM},
          {"syn-flood", Workload::SYN_FLOOD}};
      const auto it = std::find_if(apps.begin(), apps.end(), [&](const auto& p) { return p.first == s; });
      if (it == apps.end())
        fail(v, path,
             fmt::format("unknown application '{}'; expected connect, bulk, request-response, echo, stream or "
                         "syn-flood",
                         s));
      w->set_app(it->second);
    }
    if (k == "from") {
      have_from = true;
      for (std::uint32_t id : resolve(v, path)) w->add_clients(id);
    }
    if (k == "to") {
      have_to = true;
      const std::string s = scalar(v, path, "HOST:PORT, as in server:80");
      const auto colon = s.rfind(':');
      std::string host = s;
      if (colon != std::string::npos) {
        host = s.substr(0, colon);
        std::uint32_t port = 0;
        const std::string p = s.substr(colon + 1);
        const auto r = std::from_chars(p.data(), p.data() + p.size(), port);
        if (r.ec != std::errc() || r.ptr != p.data() + p.size() || port == 0 || port > 65535)
          fail(v, path, fmt::format("'{}': the port must be a number from 1 to 65535", s));
        w->set_port(port);
      }
      const auto ids = resolve(v, path, host);
      w->set_server(ids.front());
    }
    if (k == "connections") w->set_connections(static_cast<std::uint32_t>(integer(v, path, 1, kMaxConnectionsPerClient)));
    if (k == "bytes") w->set_bytes(bytes(v, path));
    if (k == "request") w->set_request(bytes(v, path));
    if (k == "response") w->set_response(bytes(v, path));
    if (k == "repetitions") w->set_repetitions(static_cast<std::uint32_t>(integer(v, path, 1, 1'000'000'000)));
    if (k == "think") w->set_think_ns(duration_ns(v, path));
    if (k == "rate") w->set_rate_bps(rate_bps(v, path));
    if (k == "duration") w->set_duration_ns(duration_ns(v, path));
    if (k == "chunk") {
      const std::uint64_t b = bytes(v, path);
      if (b > (1u << 30)) fail(v, path, "is larger than 1GiB: write a stream in smaller chunks");
      w->set_chunk(static_cast<std::uint32_t>(b));
    }
    if (k == "close") {
      const std::string s = scalar(v, path, "who closes");
      static const std::vector<std::pair<std::string_view, Workload::Close>> modes = {
          {"client", Workload::CLIENT}, {"server", Workload::SERVER},          {"both", Workload::BOTH},
          {"abort", Workload::ABORT},   {"server-abort", Workload::SERVER_ABORT}, {"never", Workload::NEVER}};
      const auto it = std::find_if(modes.begin(), modes.end(), [&](const auto& p) { return p.first == s; });
      if (it == modes.end())
        fail(v, path,
             fmt::format("unknown close mode '{}'; expected client, server, both, abort, server-abort or never", s));
      w->set_close(it->second);
    }
    if (k == "half_close") w->set_half_close(boolean(v, path));
    if (k == "listen") w->set_no_listener(!boolean(v, path));
    if (k == "backlog") w->set_backlog(static_cast<std::uint32_t>(integer(v, path, 1, 1u << 30)));
    if (k == "syn_backlog") w->set_syn_backlog(static_cast<std::uint32_t>(integer(v, path, 1, 1u << 30)));
    if (k == "client_port") w->set_client_port(static_cast<std::uint32_t>(integer(v, path, 1, 65535)));
    if (k == "start") {
      auto* st = w->mutable_start();
      if (v.IsScalar()) {
        st->set_kind(Workload::Start::AT);
        st->set_at_ns(duration_ns(v, path));
        return;
      }
      if (v.IsSequence()) {
        st->set_kind(Workload::Start::LIST);
        for (const YAML::Node& t : v) st->add_times_ns(duration_ns(t, path));
        return;
      }
      for_each_key(v, path, {"at", "uniform", "poisson", "from"}, [&](const std::string& sk, const YAML::Node& sv,
                                                                      const std::string& spath) {
        if (sk == "at") {
          st->set_kind(Workload::Start::AT);
          st->set_at_ns(duration_ns(sv, spath));
        }
        if (sk == "from") st->set_from_ns(duration_ns(sv, spath));
        if (sk == "uniform") {
          if (!sv.IsSequence() || sv.size() != 2)
            fail(sv, spath, fmt::format("expected an interval [FROM, TO], as in [0s, 10s], got {}", kind_of(sv)));
          st->set_kind(Workload::Start::UNIFORM);
          st->set_from_ns(duration_ns(sv[0], spath));
          st->set_to_ns(duration_ns(sv[1], spath));
          if (st->to_ns() <= st->from_ns()) fail(sv, spath, "the interval must end after it begins");
        }
        if (sk == "poisson") {
          const std::string s = scalar(sv, spath, "a rate such as '200/s'");
          double rate = 0;
          const auto slash = s.find("/s");
          const auto r = std::from_chars(s.data(), s.data() + (slash == std::string::npos ? s.size() : slash), rate);
          if (slash == std::string::npos || slash + 2 != s.size() || r.ec != std::errc() ||
              r.ptr != s.data() + slash || !(rate > 0) || !std::isfinite(rate))
            fail(sv, spath, fmt::format("expected a positive arrival rate such as '200/s', got '{}'", s));
          st->set_kind(Workload::Start::POISSON);
          st->set_rate_per_second(rate);
        }
      });
    }
  });
  if (!have_app) fail(item, where, "a workload needs 'app' (connect, bulk, request-response, echo or stream)");
  if (!have_from) fail(item, where, "a workload needs 'from' (the client hosts)");
  if (!have_to) fail(item, where, "a workload needs 'to' (the server, as HOST:PORT)");
  for (std::uint32_t c : w->clients())
    if (topo_.nodes(c).kind() != Node::HOST)
      fail(item["from"], where + ".from", fmt::format("'{}' is a router, not a host", topo_.nodes(c).name()));
  if (topo_.nodes(w->server()).kind() != Node::HOST)
    fail(item["to"], where + ".to", fmt::format("'{}' is a router, not a host", topo_.nodes(w->server()).name()));
  const bool needs_request = w->app() == Workload::REQUEST_RESPONSE || w->app() == Workload::ECHO;
  if (needs_request && w->request() == 0) fail(item, where, "this application needs 'request' (a size such as 1KB)");
  if (w->app() == Workload::BULK && w->bytes() == 0) fail(item, where, "bulk needs 'bytes' (a size such as 10MB)");
  if (w->app() == Workload::STREAM && (w->rate_bps() == 0 || w->duration_ns() <= 0))
    fail(item, where, "stream needs 'rate' and 'duration'");
  if (w->chunk() == 0) fail(item["chunk"], where + ".chunk", "must be at least 1 byte");
  // A stream writes one chunk per tick of chunk / rate: at least a nanosecond.
  if (w->app() == Workload::STREAM &&
      static_cast<std::uint64_t>(w->chunk()) * 8u * 1'000'000'000u < w->rate_bps())  // chunk <= 2^30: no overflow
    fail(item["rate"], where + ".rate", "is too high for the chunk size: more than one chunk per nanosecond");
  if (w->clients_size() == 0) fail(item["from"], where + ".from", "names no hosts");
  for (std::uint32_t c : w->clients())
    if (c == w->server())
      fail(item["from"], where + ".from",
           fmt::format("'{}' is the server too: a host cannot connect to itself",
                       topo_.nodes(static_cast<int>(c)).name()));
  for (int j = 0; j + 1 < topo_.workloads_size(); ++j)
    if (topo_.workloads(j).server() == w->server() && topo_.workloads(j).port() == w->port() && serves(topo_.workloads(j)) &&
        serves(*w))
      fail(item["to"], where + ".to",
           fmt::format("'{}' port {} already serves workload[{}]; give each workload a port of its own",
                       topo_.nodes(static_cast<int>(w->server())).name(), w->port(), j));
  if (w->start().kind() == Workload::Start::LIST &&
      static_cast<std::uint64_t>(w->start().times_ns_size()) !=
          static_cast<std::uint64_t>(w->clients_size()) * w->connections())
    fail(item["start"], where + ".start",
         fmt::format("the list has {} times for {} connections ({} clients × {})", w->start().times_ns_size(),
                     static_cast<std::uint64_t>(w->clients_size()) * w->connections(), w->clients_size(),
                     w->connections()));
  if (w->name().empty()) w->set_name(fmt::format("workload{}", index + 1));
}

}  // namespace shakedown::topology
