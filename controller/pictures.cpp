#include "controller/pictures.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "controller/report.h"
#include "controller/text.h"
#include "emulator/time.h"

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

bool has_flag(const std::string& flags, std::string_view f) {
  for (const auto& x : split_fields(flags))
    if (x == f) return true;
  return false;
}

// "SYN seq=0", "SYN,ACK seq=0 ack=1", "ACK seq=1 ack=1", "PSH,ACK seq=1 ack=1 len=1000".
std::string label(const ConnectionTrace& c, const ConnectionTrace::Segment& s) {
  std::string text = s.flags.empty() ? std::string("(no flags)") : s.flags;
  text += fmt::format(" seq={}", c.relative_seq(s.from, s.seq));
  if (has_flag(s.flags, "ACK")) text += fmt::format(" ack={}", c.relative_ack(s.from, s.ack));
  if (s.len > 0) text += fmt::format(" len={}", s.len);
  return text;
}

// Data the receiver's TCP did not take on arrival: refused, when it belongs to another
// connection on the same four-tuple (an old segment turned away by PAWS or by the
// window); otherwise "not taken" (a copy of what it had, or data outside its window).
std::string not_taken_note(const ConnectionTrace::Segment& s) {
  if (!s.not_taken) return "";
  return s.sent_by || s.received_by ? " — refused" : " — not taken";
}

// A label's extent, as the segment of its baseline.
struct Span {
  double x0, y0, x1, y1;
};

double point_to_span(double px, double py, const Span& s) {
  const double dx = s.x1 - s.x0, dy = s.y1 - s.y0;
  const double l2 = dx * dx + dy * dy;
  const double t = l2 > 0 ? std::clamp(((px - s.x0) * dx + (py - s.y0) * dy) / l2, 0.0, 1.0) : 0.0;
  return std::hypot(px - (s.x0 + t * dx), py - (s.y0 + t * dy));
}

// The distance between two spans (zero when they cross).
double distance(const Span& a, const Span& b) {
  const auto cross = [](double ax, double ay, double bx, double by) { return ax * by - ay * bx; };
  const double d1 = cross(a.x1 - a.x0, a.y1 - a.y0, b.x0 - a.x0, b.y0 - a.y0);
  const double d2 = cross(a.x1 - a.x0, a.y1 - a.y0, b.x1 - a.x0, b.y1 - a.y0);
  const double d3 = cross(b.x1 - b.x0, b.y1 - b.y0, a.x0 - b.x0, a.y0 - b.y0);
  const double d4 = cross(b.x1 - b.x0, b.y1 - b.y0, a.x1 - b.x0, a.y1 - b.y0);
  if (((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0))) return 0;
  return std::min({point_to_span(a.x0, a.y0, b), point_to_span(a.x1, a.y1, b), point_to_span(b.x0, b.y0, a),
                   point_to_span(b.x1, b.y1, a)});
}

// A time, exactly: 0, 20ms, 1.02s, 60.04s.
std::string at(std::int64_t ns) { return ns == 0 ? std::string("0") : to_string(Duration::nanoseconds(ns)); }

// Round numbers for an axis from lo to hi: 1, 2 or 5 times a power of ten apart.
std::vector<double> ticks(double lo, double hi, int target = 6) {
  if (hi <= lo) hi = lo + 1;
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (const double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  std::vector<double> out;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push_back(v);
  return out;
}

std::string number(double v) {
  if (std::fabs(v - std::round(v)) < 1e-9) return fmt::format("{}", static_cast<long long>(std::llround(v)));
  return fmt::format("{:g}", v);
}

constexpr const char* kFont = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";

}  // namespace

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

// --- the ladder -------------------------------------------------------------------------

std::string ladder_svg(const ConnectionTrace& c) {
  // Time flows down. Every moment something happens gets its own row, so segments sent
  // at the same instant stack instead of overlapping; the space between rows grows with
  // the time between them, logarithmically, and a long quiet stretch is cut short and
  // marked with its length.
  struct Instant {
    std::int64_t t;
    int order;
  };
  std::vector<Instant> instants;
  int order = 0;
  for (const auto& s : c.segments) {
    if (s.sent) instants.push_back({*s.sent, order++});
    for (const auto r : s.received) instants.push_back({r, order++});
    if (s.dropped) instants.push_back({*s.dropped, order++});
  }
  for (const auto& st : c.states) instants.push_back({st.t, order++});
  std::sort(instants.begin(), instants.end(), [](const Instant& a, const Instant& b) { return a.t < b.t; });

  // y for each distinct time; items at the same time take consecutive rows.
  constexpr double kTop = 110, kRow = 30;
  std::map<std::int64_t, double> first_y;
  std::map<std::int64_t, int> used;
  std::vector<std::pair<double, std::string>> breaks;  // y, "59.99s later"
  double y = kTop;
  std::int64_t prev = instants.empty() ? 0 : instants.front().t;
  std::map<std::int64_t, int> rows_at;
  for (const auto& i : instants) ++rows_at[i.t];
  for (const auto& [t, n] : rows_at) {
    const double dt_ms = static_cast<double>(t - prev) / 1e6;
    if (t != prev) {
      double gap = 14 + 22 * std::log10(1 + dt_ms);
      if (dt_ms > 1000) {
        breaks.emplace_back(y + 22, fmt::format("{} later", at(t - prev)));
        gap = 52;
      }
      y += std::min(gap, 90.0);
    }
    first_y[t] = y;
    y += kRow * (n - 1);
    prev = t;
  }
  const auto y_of = [&](std::int64_t t) { return first_y.at(t) + kRow * used[t]++; };

  constexpr double kWidth = 940, kLeft = 300, kRight = 640;
  const double x_of[2] = {kLeft, kRight};
  std::string body;
  // Rows for arrival ends are taken when the arrow is drawn, in order of sending; a
  // state change at the same instant as an arrival goes below it.
  std::vector<std::string> time_labels;
  std::set<std::pair<int, std::int64_t>> labelled;
  const auto time_label = [&](int side, double yy, std::int64_t t) {
    if (!labelled.insert({side, t}).second) return;  // once per instant and side
    const double x = side == 0 ? 20 : kWidth - 20;
    time_labels.push_back(fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="{}" fill="#888" font-size="11">{}</text>)",
                                      x, yy + 4, side == 0 ? "start" : "end", xml_escape(at(t))));
  };
  // Arrival rows must come after their sends: compute every segment's rows first.
  std::vector<double> send_y(c.segments.size(), 0), drop_y(c.segments.size(), 0);
  std::vector<std::vector<double>> recv_y(c.segments.size());
  std::vector<double> state_y(c.states.size(), 0);
  {
    struct Slot {
      std::int64_t t;
      int priority;  // sends, then arrivals and drops, then states
      std::size_t seq;
      std::function<void(double)> set;
    };
    std::vector<Slot> slots;
    std::size_t n = 0;
    for (std::size_t i = 0; i < c.segments.size(); ++i) {
      const auto& s = c.segments[i];
      // At one instant, in causal order: what arrives, the states it causes, what is
      // sent; an arrival at the instant of its own sending goes last.
      if (s.sent) slots.push_back({*s.sent, 2, n++, [&, i](double v) { send_y[i] = v; }});
      for (std::size_t r = 0; r < s.received.size(); ++r) {
        recv_y[i].push_back(0);
        const int priority = s.sent && *s.sent == s.received[r] ? 3 : 0;
        slots.push_back({s.received[r], priority, n++, [&, i, r](double v) { recv_y[i][r] = v; }});
      }
      if (s.dropped) slots.push_back({*s.dropped, s.sent && *s.sent == *s.dropped ? 3 : 0, n++,
                                      [&, i](double v) { drop_y[i] = v; }});
    }
    for (std::size_t i = 0; i < c.states.size(); ++i)
      slots.push_back({c.states[i].t, 1, n++, [&, i](double v) { state_y[i] = v; }});
    std::stable_sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
      return a.t != b.t ? a.t < b.t : a.priority != b.priority ? a.priority < b.priority : a.seq < b.seq;
    });
    for (auto& s : slots) s.set(y_of(s.t));
  }

  std::vector<Span> labels;  // where arrow labels went, to keep the next ones clear
  std::vector<bool> crossed(c.segments.size(), false);
  for (std::size_t i = 0; i < c.segments.size(); ++i) {
    const auto& a = c.segments[i];
    if (!a.sent || a.received.empty()) continue;
    for (const auto& b : c.segments)
      if (b.from != a.from && b.sent && !b.received.empty() && *b.sent < a.received.front() && b.received.front() > *a.sent)
        crossed[i] = true;
  }
  for (std::size_t i = 0; i < c.segments.size(); ++i) {
    const auto& s = c.segments[i];
    const double x0 = x_of[s.from], x1 = x_of[1 - s.from];
    const std::string colour = s.sent_by ? "#8e44ad" : s.retransmission ? "#c0392b" : "#1f4e79";
    std::string words = label(c, s) + (s.retransmission ? " (retransmission)" : "");
    if (s.sent_by) words += fmt::format(" — sent by connection {}", *s.sent_by);
    if (s.received_by) words += fmt::format(" — arrives in connection {}", *s.received_by);
    words += not_taken_note(s);
    const std::string text = xml_escape(words);
    const double y0 = s.sent ? send_y[i] : (s.received.empty() ? drop_y[i] : recv_y[i][0]) - 40;
    if (s.sent) time_label(s.from, y0, *s.sent);
    const auto arrow = [&](double xe, double ye, bool dashed) {
      body += fmt::format(
          R"~(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="1.6"{} marker-end="url(#head{})"/>)~"
          "\n",
          x0, y0, xe, ye, colour, dashed ? R"( stroke-dasharray="6 4")" : "",
          s.sent_by ? "p" : s.retransmission ? "r" : "");
    };
    const auto caption = [&](double xe, double ye) {
      const double angle = std::atan2(ye - y0, xe - x0) * 180 / M_PI;
      // Along the arrow, where it runs into no label placed before: the middle first
      // (nearer the sender when an arrow from the other side crosses this one, as in a
      // simultaneous open), then further out on either side.
      const double len = std::hypot(xe - x0, ye - y0);
      const double half = std::min(len * 0.45, 3.3 * static_cast<double>(words.size()));
      const double ux = (xe - x0) / len, uy = (ye - y0) / len;
      const std::vector<double> tries =
          crossed[i] ? std::vector<double>{0.3, 0.22, 0.4} : std::vector<double>{0.5, 0.38, 0.62, 0.28, 0.72};
      double f = tries.front(), best = -1;
      for (const double t : tries) {
        const double cx = x0 + (xe - x0) * t, cy = y0 + (ye - y0) * t;
        const Span here{cx - ux * half, cy - uy * half, cx + ux * half, cy + uy * half};
        double nearest = 1e9;
        for (const Span& other : labels) nearest = std::min(nearest, distance(here, other));
        if (nearest > best) {
          best = nearest;
          f = t;
        }
        if (nearest >= 13) break;
      }
      const double mx = x0 + (xe - x0) * f, my = y0 + (ye - y0) * f;
      labels.push_back({mx - ux * half, my - uy * half, mx + ux * half, my + uy * half});
      const double a = s.from == 0 ? angle : angle - 180;
      body += fmt::format(
          R"~(<text x="{:.1f}" y="{:.1f}" text-anchor="middle" font-size="12" fill="{}" transform="rotate({:.2f} {:.1f} {:.1f})">{}</text>)~"
          "\n",
          mx, my - 5, colour, a, mx, my, text);
    };
    for (std::size_t r = 0; r < s.received.size(); ++r) {
      arrow(x1, recv_y[i][r], false);
      time_label(1 - s.from, recv_y[i][r], s.received[r]);
      if (r == 0) caption(x1, recv_y[i][r]);
    }
    // A segment that did not arrive: a short stub from its sender, and its label beside
    // the sender's time line, where it cannot run into the arrows sent after it.
    const auto stub_caption = [&](const std::string& why, const std::string& fill) {
      const bool rightwards = x1 > x0;
      body += fmt::format(
          R"(<text x="{:.1f}" y="{:.1f}" font-size="12" fill="{}" text-anchor="{}">{}</text>)" "\n",
          x0 + (rightwards ? 8 : -8), y0 - 6, fill, rightwards ? "start" : "end", xml_escape(label(c, s) + why));
    };
    if (s.dropped) {
      const double xe = x0 + (x1 - x0) * 0.3, ye = std::max(drop_y[i], y0 + 12);
      body += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="1.6"/>)" "\n",
                          x0, y0, xe, ye, colour);
      body += fmt::format(
          R"(<path d="M{:.1f},{:.1f} l12,12 m0,-12 l-12,12" stroke="#c0392b" stroke-width="2.4"/>)" "\n", xe - 6, ye - 6);
      if (s.received.empty())
        stub_caption(std::string(s.retransmission ? " (retransmission)" : "") + " — lost (" + s.drop_reason + ")", "#c0392b");
    } else if (s.received.empty()) {
      const double xe = x0 + (x1 - x0) * 0.3;
      arrow(xe, y0 + 12, true);
      stub_caption(" — still in the network", colour);
    }
  }
  for (std::size_t i = 0; i < c.states.size(); ++i) {
    const auto& st = c.states[i];
    const double ys = state_y[i];
    const double x = st.side == 0 ? kLeft - 10 : kRight + 10;
    const double w = 8.2 * static_cast<double>(st.to.size()) + 12;
    const double bx = st.side == 0 ? x - w : x;
    body += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="18" rx="3" fill="#fff4d6" stroke="#d4a017"/>)" "\n",
                        bx, ys - 12, w);
    body += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="12" font-weight="bold" text-anchor="middle" fill="#5a4500">{}</text>)" "\n",
                        bx + w / 2, ys + 2, xml_escape(st.to));
    time_label(st.side, ys, st.t);
  }
  const double bottom = y + 50;
  std::string svg = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" viewBox="0 0 {:.0f} {:.0f}" {}>)" "\n",
      kWidth, bottom + 30, kWidth, bottom + 30, kFont);
  svg += R"(<defs><marker id="head" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#1f4e79"/></marker>)";
  svg += R"(<marker id="headr" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#c0392b"/></marker>)";
  svg += R"(<marker id="headp" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#8e44ad"/></marker></defs>)" "\n";
  svg += fmt::format(R"(<rect width="100%" height="100%" fill="white"/>)" "\n");
  svg += fmt::format(R"(<text x="{:.1f}" y="24" font-size="15" font-weight="bold" text-anchor="middle">{}</text>)" "\n",
                     kWidth / 2,
                     xml_escape(fmt::format("{}connection {} — {}", c.run_name.empty() ? "" : c.run_name + ", ", c.id, c.outcome)));
  svg += fmt::format(R"(<text x="{:.1f}" y="42" font-size="11" fill="#666" text-anchor="middle">{}</text>)" "\n", kWidth / 2,
                     xml_escape(fmt::format("seq and ack relative to each side's ISN (client {}, server {}); time flows down, "
                                        "long gaps shortened",
                                        c.isn[0] ? std::to_string(*c.isn[0]) : "?", c.isn[1] ? std::to_string(*c.isn[1]) : "?")));
  for (int s = 0; s < 2; ++s) {
    svg += fmt::format(R"(<text x="{:.1f}" y="74" font-size="14" font-weight="bold" text-anchor="middle">{}</text>)" "\n",
                       x_of[s], xml_escape(c.name[s].empty() ? (s == 0 ? "client" : "server") : c.name[s]));
    svg += fmt::format(R"(<text x="{:.1f}" y="90" font-size="11" fill="#666" text-anchor="middle">{}</text>)" "\n", x_of[s],
                       xml_escape(c.address[s]));
    svg += fmt::format(R"(<line x1="{:.1f}" y1="98" x2="{:.1f}" y2="{:.1f}" stroke="#444" stroke-width="2"/>)" "\n", x_of[s],
                       x_of[s], bottom);
  }
  for (const auto& [by, text] : breaks) {
    // The time lines break; the length of the cut goes in the margin, clear of arrows.
    for (const double x : x_of)
      svg += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="12" height="10" fill="white"/>)" "\n", x - 6, by - 7);
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="11" fill="#888" font-style="italic" text-anchor="end">⋯ {} ⋯</text>)" "\n",
                       kLeft - 16, by + 2, xml_escape(text));
  }
  svg += body;
  for (const auto& t : time_labels) svg += t + "\n";
  svg += fmt::format(R"(<text x="20" y="{:.1f}" font-size="11" fill="#888">time at the client</text>)" "\n", bottom + 20);
  svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="11" fill="#888" text-anchor="end">time at the server</text>)" "\n",
                     kWidth - 20, bottom + 20);
  svg += "</svg>\n";
  return svg;
}

std::string ladder_mermaid(const ConnectionTrace& c) {
  const auto who = [&](int s) { return s == 0 ? "C" : "S"; };
  // Messages in order of sending; at one instant, the state changes first (they
  // follow from what arrived), then what is sent.
  std::string out = "sequenceDiagram\n";
  for (int s = 0; s < 2; ++s)
    out += fmt::format("    participant {} as {} {}\n", who(s), c.name[s].empty() ? (s == 0 ? "client" : "server") : c.name[s],
                       c.address[s]);
  struct Item {
    std::int64_t t;
    int priority;
    std::size_t order;
    std::string line;
  };
  std::vector<Item> items;
  std::size_t n = 0;
  for (const auto& s : c.segments) {
    const std::int64_t t = s.sent ? *s.sent : (s.received.empty() ? *s.dropped : s.received.front());
    std::string when = s.sent ? at(*s.sent) : "?";
    if (!s.received.empty()) when += " → " + at(s.received.front());
    const bool lost = s.received.empty();
    std::string text = label(c, s);
    if (s.retransmission) text += " (retransmission)";
    if (s.sent_by) text += fmt::format(" — sent by connection {}", *s.sent_by);
    text += not_taken_note(s);
    if (s.received_by) text += fmt::format(" — arrives in connection {}", *s.received_by);
    if (lost) text += s.dropped ? " — lost (" + s.drop_reason + ")" : " — still in the network";
    items.push_back({t, 1, n++,
                     fmt::format("    {}{}{}: {} [{}]\n", who(s.from), lost ? "-x" : "->>", who(1 - s.from), text, when)});
    for (std::size_t r = 1; r < s.received.size(); ++r)
      items.push_back({s.received[r], 2, n++,
                       fmt::format("    {}->>{}: {} (duplicate) [{}]\n", who(s.from), who(1 - s.from), text,
                                   at(s.received[r]))});
  }
  for (const auto& st : c.states)
    items.push_back({st.t, 0, n++, fmt::format("    Note {} {}: {} ({})\n", st.side == 0 ? "left of" : "right of",
                                               who(st.side), st.to, at(st.t))});
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.t != b.t ? a.t < b.t : a.priority != b.priority ? a.priority < b.priority : a.order < b.order;
  });
  for (const auto& i : items) out += i.line;
  return out;
}

// --- the time-sequence graph ------------------------------------------------------------

namespace {

struct Plot {
  double left = 80, top = 50, width = 760, height = 420;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  bool log_x = false;
  double px(double x) const {
    if (log_x) return left + (std::log10(x) - std::log10(x0)) / (std::log10(x1) - std::log10(x0)) * width;
    return left + (x - x0) / (x1 - x0) * width;
  }
  double py(double y) const { return top + height - (y - y0) / (y1 - y0) * height; }
};

std::string axes(const Plot& p, const std::string& title, const std::string& xlabel, const std::string& ylabel,
                 const std::vector<double>& xt, const std::vector<double>& yt,
                 const std::function<std::string(double)>& xfmt, const std::function<std::string(double)>& yfmt) {
  std::string s = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0:.0f}" height="{1:.0f}" viewBox="0 0 {0:.0f} {1:.0f}" {2}>)" "\n",
      p.left + p.width + 40, p.top + p.height + 70, kFont);
  s += R"(<rect width="100%" height="100%" fill="white"/>)" "\n";
  s += fmt::format(R"(<text x="{:.1f}" y="28" font-size="15" font-weight="bold" text-anchor="middle">{}</text>)" "\n",
                   p.left + p.width / 2, xml_escape(title));
  for (const double v : xt) {
    const double x = p.px(v);
    s += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#eee"/>)" "\n", x, p.top, p.top + p.height);
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="11" text-anchor="middle" fill="#444">{}</text>)" "\n", x,
                     p.top + p.height + 16, xml_escape(xfmt(v)));
  }
  for (const double v : yt) {
    const double y = p.py(v);
    s += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#eee"/>)" "\n", p.left, y, p.left + p.width, y);
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="11" text-anchor="end" fill="#444">{}</text>)" "\n", p.left - 6,
                     y + 4, xml_escape(yfmt(v)));
  }
  s += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="none" stroke="#444"/>)" "\n", p.left, p.top,
                   p.width, p.height);
  s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="12" text-anchor="middle">{}</text>)" "\n", p.left + p.width / 2,
                   p.top + p.height + 40, xml_escape(xlabel));
  s += fmt::format(R"~(<text x="18" y="{0:.1f}" font-size="12" text-anchor="middle" transform="rotate(-90 18 {0:.1f})">{1}</text>)~" "\n",
                   p.top + p.height / 2, xml_escape(ylabel));
  return s;
}

// Seconds, with as many decimals as the step between ticks needs.
std::function<std::string(double)> seconds_format(const std::vector<double>& t) {
  const double step = t.size() > 1 ? t[1] - t[0] : 1;
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  return [decimals](double v) { return fmt::format("{:.{}f}", v, decimals); };
}

}  // namespace

std::string time_sequence_svg(const ConnectionTrace& c, std::optional<int> side, TimeWindow window) {
  if (!side) {
    std::uint64_t bytes[2] = {0, 0};
    for (const auto& s : c.segments) bytes[s.from] += s.len;
    side = bytes[1] > bytes[0] ? 1 : 0;
  }
  const int me = *side;
  // Data (and SYN/FIN, one sequence number each) the side sent; ACKs that reached it.
  struct Bar {
    double t, lo, hi;
    bool retx;
    bool lost;
  };
  std::vector<Bar> bars;
  std::vector<std::pair<double, double>> acks;
  double t_min = 1e300, t_max = -1e300, s_min = 1e300, s_max = 1;
  const auto inside = [&](std::int64_t t) { return t >= window.from && t <= window.to; };
  for (const auto& s : c.segments) {
    if (s.from == me && s.sent && inside(*s.sent)) {
      const double t = static_cast<double>(*s.sent) / 1e9;
      const double lo = c.relative_seq(me, s.seq);
      const double extent = s.len + (has_flag(s.flags, "SYN") ? 1 : 0) + (has_flag(s.flags, "FIN") ? 1 : 0);
      if (extent == 0) continue;
      bars.push_back({t, lo, lo + extent, s.retransmission, s.received.empty()});
      t_min = std::min(t_min, t);
      t_max = std::max(t_max, t);
      s_min = std::min(s_min, lo);
      s_max = std::max(s_max, lo + extent);
    } else if (s.from != me && !s.received.empty() && inside(s.received.front()) && has_flag(s.flags, "ACK")) {
      acks.emplace_back(static_cast<double>(s.received.front()) / 1e9, c.relative_ack(1 - me, s.ack));
    }
  }
  if (bars.empty())
    throw PictureError(fmt::format("connection {}: {} sent no data{} to plot", c.id, c.name[me],
                                   window.from > 0 || window.to < INT64_MAX ? " in that time window" : ""));
  const bool zoomed = window.from > 0 || window.to < INT64_MAX;
  // ACKs below the window's data would squash it: keep the ones that matter.
  if (zoomed) std::erase_if(acks, [&](const auto& a) { return a.second < s_min - (s_max - s_min) * 0.1; });
  for (const auto& [t, a] : acks) {
    t_min = std::min(t_min, t);
    t_max = std::max(t_max, t);
  }
  Plot p;
  const double pad = std::max((t_max - t_min) * 0.03, 1e-4);
  p.x0 = std::max(0.0, t_min - pad);
  p.x1 = t_max + pad;
  p.y0 = zoomed ? std::max(0.0, s_min - (s_max - s_min) * 0.05) : 0;
  p.y1 = s_max + (s_max - p.y0) * 0.04;
  const auto xt = ticks(p.x0, p.x1), yt = ticks(p.y0, p.y1);
  const std::string role = me == 0 ? "client" : "server";
  std::string svg = axes(p, fmt::format("connection {}: data sent by {}", c.id,
                                        c.name[me] == role ? role : fmt::format("{} (the {})", c.name[me], role)),
                         "time (s)", "relative sequence number (bytes)", xt, yt, seconds_format(xt),
                         [](double v) { return number(v); });
  // ACKs as a step line: what the sender has heard acknowledged.
  std::sort(acks.begin(), acks.end());
  if (!acks.empty()) {
    std::string pts;
    double last = acks.front().second;
    pts += fmt::format("{:.1f},{:.1f} ", p.px(acks.front().first), p.py(last));
    for (const auto& [t, a] : acks) {
      pts += fmt::format("{:.1f},{:.1f} {:.1f},{:.1f} ", p.px(t), p.py(last), p.px(t), p.py(a));
      last = a;
    }
    pts += fmt::format("{:.1f},{:.1f}", p.px(p.x1), p.py(last));
    svg += fmt::format(R"(<polyline points="{}" fill="none" stroke="#27ae60" stroke-width="1.3"/>)" "\n", pts);
    // A duplicate ACK (the same acknowledgement again: something arrived out of order,
    // or twice) as a small circle on the line.
    for (std::size_t i = 1; i < acks.size(); ++i)
      if (acks[i].second == acks[i - 1].second)
        svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.6" fill="none" stroke="#27ae60" stroke-width="1.2"/>)" "\n",
                           p.px(acks[i].first), p.py(acks[i].second));
  }
  for (const auto& b : bars) {
    const std::string colour = b.retx ? "#c0392b" : "#1f4e79";
    const double x = p.px(b.t), ylo = p.py(b.lo), yhi = std::min(p.py(b.hi), ylo - 2);
    svg += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="{3}" stroke-width="{4}"/>)" "\n", x, ylo,
                       yhi, colour, b.retx ? "2.6" : "1.4");
    svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="1"/>)" "\n", x - 2.5, yhi,
                       x + 2.5, yhi, colour);
    if (b.lost)
      svg += fmt::format(R"(<path d="M{:.1f},{:.1f} l6,6 m0,-6 l-6,6" stroke="#c0392b" stroke-width="1.5"/>)" "\n", x - 3,
                         (ylo + yhi) / 2 - 3);
  }
  // Legend.
  const double lx = p.left + 12, ly = p.top + 14;
  svg += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="250" height="78" fill="white" stroke="#ccc"/>)" "\n", lx - 6, ly - 12);
  svg += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#1f4e79" stroke-width="2"/><text x="{3:.1f}" y="{4:.1f}" font-size="11">segment sent (its bytes)</text>)" "\n",
                     lx + 4, ly + 4, ly - 8, lx + 16, ly);
  svg += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#c0392b" stroke-width="2"/><text x="{3:.1f}" y="{4:.1f}" font-size="11">retransmission (× lost)</text>)" "\n",
                     lx + 4, ly + 22, ly + 10, lx + 16, ly + 18);
  svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#27ae60" stroke-width="2"/><text x="{:.1f}" y="{:.1f}" font-size="11">cumulative ACK received</text>)" "\n",
                     lx, ly + 34, lx + 10, ly + 34, lx + 16, ly + 38);
  svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.6" fill="none" stroke="#27ae60" stroke-width="1.2"/><text x="{:.1f}" y="{:.1f}" font-size="11">duplicate ACK</text>)" "\n",
                     lx + 5, ly + 50, lx + 16, ly + 54);
  svg += "</svg>\n";
  return svg;
}

// --- a line chart -----------------------------------------------------------------------

std::string line_chart_svg(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                           const std::vector<double>& xs, const std::vector<Series>& series, bool log_x) {
  if (xs.empty()) throw PictureError("nothing to plot");
  Plot p;
  p.x0 = *std::min_element(xs.begin(), xs.end());
  p.x1 = *std::max_element(xs.begin(), xs.end());
  std::vector<double> xt;
  if (log_x) {
    if (p.x0 <= 0) throw PictureError("a logarithmic axis needs positive values");
    p.log_x = true;
    p.x0 = std::pow(10.0, std::floor(std::log10(p.x0)));
    p.x1 = std::max(std::pow(10.0, std::ceil(std::log10(p.x1))), p.x0 * 10);
    for (double d = p.x0; d <= p.x1 * 1.0001; d *= 10) xt.push_back(d);
  } else {
    if (p.x1 == p.x0) p.x1 = p.x0 + 1;
    xt = ticks(p.x0, p.x1);
  }
  double top = 0;
  for (const auto& s : series)
    for (const double y : s.ys)
      if (!std::isnan(y)) top = std::max(top, y);
  p.y0 = 0;
  p.y1 = top > 0 ? top * 1.08 : 1;
  const auto yt = ticks(p.y0, p.y1);
  std::string svg = axes(p, title, xlabel, ylabel, xt, yt, [](double v) { return number(v); },
                         [](double v) { return number(v); });
  static constexpr const char* kColours[] = {"#1f4e79", "#c0392b", "#27ae60", "#8e44ad", "#d4a017", "#555"};
  for (std::size_t k = 0; k < series.size(); ++k) {
    const char* colour = kColours[k % std::size(kColours)];
    std::string pts;
    for (std::size_t i = 0; i < xs.size() && i < series[k].ys.size(); ++i) {
      const double y = series[k].ys[i];
      if (std::isnan(y)) continue;
      pts += fmt::format("{:.1f},{:.1f} ", p.px(xs[i]), p.py(y));
      svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"/>)" "\n", p.px(xs[i]), p.py(y), colour);
    }
    svg += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>)" "\n", pts, colour);
    const double ly = p.top + 18 + 16 * static_cast<double>(k);
    svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="2"/>)" "\n",
                       p.left + 14, ly - 4, p.left + 34, ly - 4, colour);
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="12">{}</text>)" "\n", p.left + 40, ly,
                       xml_escape(series[k].name));
  }
  svg += "</svg>\n";
  return svg;
}

// --- the CDF of handshake times ---------------------------------------------------------

std::vector<std::int64_t> read_handshakes(const std::string& dir) {
  const std::string path = dir + "/connections.csv";
  const CsvTable csv = connections_csv(path, 0);
  const auto col = column(csv, "handshake_ns", path);
  std::vector<std::int64_t> out;
  for (const auto& row : csv.rows)
    if (!row[col].empty()) out.push_back(std::stoll(row[col]));
  return out;
}

std::string cdf_svg(const std::vector<std::int64_t>& values_ns, const std::string& title) {
  if (values_ns.empty()) throw PictureError("no connection completed its handshake: nothing to plot");
  std::vector<double> ms;
  for (const auto v : values_ns) ms.push_back(static_cast<double>(v) / 1e6);
  std::sort(ms.begin(), ms.end());
  Plot p;
  p.y0 = 0;
  p.y1 = 1;
  const double lo = ms.front(), hi = ms.back();
  p.log_x = lo > 0 && hi / lo > 50;
  std::vector<double> xt;
  if (p.log_x) {
    p.x0 = std::pow(10.0, std::floor(std::log10(lo)));
    p.x1 = std::pow(10.0, std::ceil(std::log10(hi)));
    for (double d = p.x0; d <= p.x1 * 1.0001; d *= 10) xt.push_back(d);
  } else {
    const double pad = std::max((hi - lo) * 0.05, std::max(hi * 0.02, 0.01));
    p.x0 = std::max(0.0, lo - pad);
    p.x1 = hi + pad;
    xt = ticks(p.x0, p.x1);
  }
  const Distribution d = Distribution::of(values_ns);
  std::string svg = axes(p, fmt::format("{} ({} connections)", title, ms.size()), p.log_x ? "handshake time (ms, log scale)" : "handshake time (ms)",
                         "fraction of connections", xt, ticks(0, 1, 5), [](double v) { return number(v); },
                         [](double v) { return fmt::format("{:.1f}", v); });
  std::string pts = fmt::format("{:.1f},{:.1f} ", p.px(ms.front()), p.py(0));
  const double n = static_cast<double>(ms.size());
  // A step at each distinct value, up by the share of connections that took it.
  double below = 0;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    if (i + 1 < ms.size() && ms[i + 1] == ms[i]) continue;
    const double up_to = static_cast<double>(i + 1) / n;
    pts += fmt::format("{:.1f},{:.1f} {:.1f},{:.1f} ", p.px(ms[i]), p.py(below), p.px(ms[i]), p.py(up_to));
    below = up_to;
  }
  pts += fmt::format("{:.1f},{:.1f}", p.px(p.x1), p.py(1));
  svg += fmt::format(R"(<polyline points="{}" fill="none" stroke="#1f4e79" stroke-width="2"/>)" "\n", pts);
  int k = 0;
  for (const auto& [name, v] : {std::pair{"p50", d.p50}, std::pair{"p90", d.p90}, std::pair{"p99", d.p99}}) {
    const double x = p.px(static_cast<double>(v) / 1e6);
    svg += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#c0392b" stroke-dasharray="4 3"/>)" "\n", x,
                       p.top, p.top + p.height);
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="11" fill="#c0392b">{} {}</text>)" "\n", x + 4,
                       p.top + p.height - 10 - 14 * k++, name, xml_escape(pretty_ns(v)));
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace shakedown::controller
