// Reading a run's folder for the pictures: one connection's segments and states from
// events.jsonl and connections.csv, and the handshake times.
#include <fstream>
#include <sstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <google/protobuf/text_format.h>
#include <nlohmann/json.hpp>

#include "controller/pictures.h"
#include "controller/pictures_internal.h"
#include "controller/text.h"
#include "topologies/topology.pb.h"

namespace shakedown::controller {

namespace {

using Json = nlohmann::json;

// connections.csv, all of it or the row of one connection id; its troubles are the
// pictures' (a PictureError names the file).
CsvTable connections_csv(const std::string& path, std::uint64_t id) {
  try {
    return read_csv(path, id == 0 ? std::string() : std::to_string(id) + ",");
  } catch (const std::runtime_error& e) {
    throw PictureError(e.what());
  }
}

std::size_t column(const CsvTable& csv, const std::string& name, const std::string& path) {
  try {
    return csv.column(name, path);
  } catch (const std::runtime_error& e) {
    throw PictureError(e.what());
  }
}

}  // namespace

bool has_flag(const std::string& flags, std::string_view f) {
  for (const auto& x : split_fields(flags))
    if (x == f) return true;
  return false;
}

std::uint32_t ConnectionTrace::relative_seq(int side, std::uint32_t seq) const {
  return isn[side] ? seq - *isn[side] : seq;
}

std::uint32_t ConnectionTrace::relative_ack(int side, std::uint32_t ack) const {
  return isn[1 - side] ? ack - *isn[1 - side] : ack;
}

ConnectionTrace read_connection(const std::string& dir, std::uint64_t id) {
  const std::string csv_path = dir + "/connections.csv";
  const CsvTable csv = connections_csv(csv_path, id);
  if (csv.rows.empty()) throw PictureError(fmt::format("{}: no connection {}", csv_path, id));
  const auto& row = csv.rows.front();
  ConnectionTrace c;
  c.id = id;
  const auto get = [&](const char* col) { return row[column(csv, col, csv_path)]; };
  c.name[0] = get("client");
  c.name[1] = get("server");
  c.address[0] = get("client_address");
  c.address[1] = get("server_address");
  c.outcome = get("outcome");
  for (int s = 0; s < 2; ++s) {
    const std::string v = get(s == 0 ? "client_isn" : "server_isn");
    if (!v.empty()) c.isn[s] = static_cast<std::uint32_t>(std::stoul(v));
  }
  // Real hosts, from the topology the run wrote: `real { netns: ... }` on a node.
  if (std::ifstream topo(dir + "/topology.txtpb"); topo) {
    topology::Topology t;
    std::stringstream text;
    text << topo.rdbuf();
    if (google::protobuf::TextFormat::ParseFromString(text.str(), &t))
      for (const auto& n : t.nodes())
        for (int s = 0; s < 2; ++s)
          if (n.has_real() && n.name() == c.name[s]) c.real[s] = true;
  }
  if (std::ifstream summary(dir + "/summary.json"); summary) {
    const Json j = Json::parse(summary, nullptr, false);
    if (j.is_object() && j.contains("name")) c.run_name = j["name"].get<std::string>();
  }

  const std::string events_path = dir + "/events.jsonl";
  std::ifstream in(events_path);
  if (!in) throw PictureError(fmt::format("{}: cannot open: pictures of a connection need the run's events", events_path));
  const std::string tag = fmt::format("\"conn\":{},", id);
  std::map<std::pair<std::string, std::int64_t>, std::size_t> by_packet;  // (src, ipid) -> segment
  const auto side_of = [&](const Json& e) { return e.value("src", std::string()) == c.address[1] ? 1 : 0; };
  const auto key = [](const Json& e) { return std::make_pair(e.value("src", std::string()), e.value("ipid", -1L)); };
  std::size_t segment_lines = 0;
  // A segment that carries sequence space (data, SYN or FIN) starting below what its
  // side already sent is a retransmission, whatever else rides with it (data sent again
  // together with the FIN that followed it).
  std::optional<std::uint32_t> sent_end[2];
  std::set<bool> syn_kinds[2];  // SYN (false) or SYN-ACK (true) already sent
  const auto add_send = [&](const Json& e) {
    ConnectionTrace::Segment s;
    s.from = side_of(e);
    s.sent = e["t"].get<std::int64_t>();
    s.flags = e["flags"].get<std::string>();
    s.seq = e["seq"].get<std::uint32_t>();
    s.ack = e["ack"].get<std::uint32_t>();
    s.len = e["len"].get<std::uint32_t>();
    const std::uint32_t extent = s.len + (has_flag(s.flags, "SYN") ? 1 : 0) + (has_flag(s.flags, "FIN") ? 1 : 0);
    if (extent > 0) {
      auto& end = sent_end[s.from];
      s.retransmission = end && static_cast<std::int32_t>(s.seq - *end) < 0;
      // A SYN is sent again only as the same kind of segment: the SYN-ACK that follows
      // a side's own SYN in a simultaneous open repeats its sequence number but is the
      // handshake's next step (RFC 9293 figure 7), not a retransmission.
      if (has_flag(s.flags, "SYN")) s.retransmission = !syn_kinds[s.from].insert(has_flag(s.flags, "ACK")).second;
      if (!end || static_cast<std::int32_t>(s.seq + extent - *end) > 0) end = s.seq + extent;
    }
    by_packet[key(e)] = c.segments.size();
    c.segments.push_back(s);
  };
  // A recv line of data with "taken": 0 — the receiving TCP took none of it.
  const auto nothing_taken = [](const Json& e, const ConnectionTrace::Segment& s) {
    return s.len > 0 && e.value("taken", s.len) == 0;
  };
  const auto add_arrival = [&](const Json& e, bool drop) {
    const auto it = by_packet.find(key(e));
    std::size_t i = 0;
    if (it != by_packet.end()) {
      i = it->second;
    } else {
      ConnectionTrace::Segment s;
      s.from = side_of(e);
      s.flags = e.value("flags", std::string());
      s.seq = e.value("seq", 0u);
      s.ack = e.value("ack", 0u);
      s.len = e.value("len", 0u);
      i = c.segments.size();
      by_packet[key(e)] = i;
      c.segments.push_back(s);
    }
    if (drop) {
      c.segments[i].dropped = e["t"].get<std::int64_t>();
      c.segments[i].drop_reason = e.value("reason", std::string());
    } else {
      auto& s = c.segments[i];
      if (s.received.empty()) s.not_taken = nothing_taken(e, s);
      s.received.push_back(e["t"].get<std::int64_t>());
    }
  };
  for (std::string line; std::getline(in, line);) {
    if (line.find(tag) == std::string::npos) continue;
    const Json e = Json::parse(line, nullptr, false);
    if (e.is_discarded()) throw PictureError(fmt::format("{}: a line is not JSON: {}", events_path, line.substr(0, 80)));
    const std::string ev = e.value("ev", std::string());
    if (ev == "state") {
      c.states.push_back({e.value("host", std::string()) == c.name[1] && c.name[0] != c.name[1] ? 1 : 0,
                          e["t"].get<std::int64_t>(), e["from"].get<std::string>(), e["to"].get<std::string>()});
    } else if (ev == "send") {
      add_send(e);
      ++segment_lines;
    } else if (ev == "recv") {
      add_arrival(e, false);
      ++segment_lines;
    } else if (ev == "drop" && e.contains("src")) {
      add_arrival(e, true);
    }
  }
  if (segment_lines == 0)
    throw PictureError(fmt::format("{}: no segments of connection {}: run again with --events all (or at least "
                                   "state,segment,drop)",
                                   events_path, id));

  // A segment can belong to two connections' traces: the textbook's old duplicate SYN
  // was sent by one connection and received by another. Find the other half.
  std::set<std::pair<std::string, std::int64_t>> missing;
  for (const auto& [k, i] : by_packet) {
    const auto& s = c.segments[i];
    if (!s.sent || (s.received.empty() && !s.dropped)) missing.insert(k);
  }
  if (!missing.empty()) {
    std::ifstream again(events_path);
    for (std::string line; std::getline(again, line);) {
      if (line.find(tag) != std::string::npos || line.find("\"ipid\":") == std::string::npos) continue;
      const Json e = Json::parse(line, nullptr, false);
      if (e.is_discarded() || !missing.contains(key(e))) continue;
      auto& s = c.segments[by_packet[key(e)]];
      const std::string ev = e.value("ev", std::string());
      const std::optional<std::uint64_t> other =
          e["conn"].is_null() ? std::nullopt : std::optional<std::uint64_t>(e["conn"].get<std::uint64_t>());
      if (ev == "send" && !s.sent) {
        s.sent = e["t"].get<std::int64_t>();
        s.sent_by = other;
      }
      if (ev == "recv" && s.received.empty()) {
        s.not_taken = nothing_taken(e, s);
        s.received.push_back(e["t"].get<std::int64_t>());
        s.received_by = other;
      }
    }
  }
  // A side with no connection of its own (the client of an old duplicate SYN) has no
  // ISN in the table: its SYN names it.
  for (int side = 0; side < 2; ++side)
    for (const auto& s : c.segments)
      if (!c.isn[side] && s.from == side && has_flag(s.flags, "SYN")) c.isn[side] = s.seq;
  std::stable_sort(c.segments.begin(), c.segments.end(), [](const auto& a, const auto& b) {
    const auto t = [](const ConnectionTrace::Segment& s) {
      return s.sent ? *s.sent : (s.received.empty() ? *s.dropped : s.received.front());
    };
    return t(a) < t(b);
  });
  return c;
}

ConnectionTrace within(const ConnectionTrace& c, TimeWindow w) {
  ConnectionTrace out = c;
  const auto in = [&](std::int64_t t) { return t >= w.from && t <= w.to; };
  std::erase_if(out.segments, [&](const ConnectionTrace::Segment& s) {
    bool any = (s.sent && in(*s.sent)) || (s.dropped && in(*s.dropped));
    for (const auto r : s.received) any = any || in(r);
    return !any;
  });
  std::erase_if(out.states, [&](const ConnectionTrace::StateChange& st) { return !in(st.t); });
  return out;
}

std::vector<std::int64_t> read_handshakes(const std::string& dir) {
  const std::string path = dir + "/connections.csv";
  const CsvTable csv = connections_csv(path, 0);
  const auto col = column(csv, "handshake_ns", path);
  std::vector<std::int64_t> out;
  for (const auto& row : csv.rows)
    if (!row[col].empty()) out.push_back(std::stoll(row[col]));
  return out;
}

}  // namespace shakedown::controller
