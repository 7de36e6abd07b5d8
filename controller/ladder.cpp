// The ladder (message-sequence) diagram of one connection, as SVG and as Mermaid.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "controller/pictures.h"
#include "controller/pictures_internal.h"
#include "controller/svg.h"
#include "controller/text.h"

namespace shakedown::controller {

using svg::at;

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

// A segment no trace saw arrive: still travelling when the run ended — unless it went
// to a real host, whose receipt no trace can see.
std::string still_in_the_network(const ConnectionTrace& c, const ConnectionTrace::Segment& s) {
  return c.real[1 - s.from] ? " — to the real host (its arrival is not seen)" : " — still in the network";
}

// --- the ladder -------------------------------------------------------------------------

namespace {

constexpr double kTop = 110, kRow = 30;
constexpr double kWidth = 940, kLeft = 300, kRight = 640;

// Where everything of a ladder goes down the page. Time flows down. Every moment
// something happens gets its own row, so segments sent at the same instant stack
// instead of overlapping; the space between rows grows with the time between them,
// logarithmically, and a long quiet stretch is cut short and marked with its length.
struct Rows {
  std::vector<double> send, drop;         // by segment
  std::vector<std::vector<double>> recv;  // by segment, by copy that arrived
  std::vector<double> state;              // by state change
  std::vector<std::pair<double, std::string>> breaks;  // y, "59.99s later"
  double last = kTop;                                  // the last row
};

Rows layout(const ConnectionTrace& c) {
  Rows rows;
  std::map<std::int64_t, int> rows_at;  // how many rows each instant needs
  for (const auto& s : c.segments) {
    if (s.sent) ++rows_at[*s.sent];
    for (const auto r : s.received) ++rows_at[r];
    if (s.dropped) ++rows_at[*s.dropped];
  }
  for (const auto& st : c.states) ++rows_at[st.t];

  // y for each distinct time; items at the same time take consecutive rows.
  std::map<std::int64_t, double> first_y;
  double y = kTop;
  std::int64_t prev = rows_at.empty() ? 0 : rows_at.begin()->first;
  for (const auto& [t, n] : rows_at) {
    const double dt_ms = static_cast<double>(t - prev) / 1e6;
    if (t != prev) {
      double gap = 14 + 22 * std::log10(1 + dt_ms);
      if (dt_ms > 1000) {
        rows.breaks.emplace_back(y + 22, fmt::format("{} later", at(t - prev)));
        gap = 52;
      }
      y += std::min(gap, 90.0);
    }
    first_y[t] = y;
    y += kRow * (n - 1);
    prev = t;
  }
  rows.last = y;

  // At one instant, in causal order: what arrives, the states it causes, what is sent;
  // an arrival at the instant of its own sending goes last.
  rows.send.assign(c.segments.size(), 0);
  rows.drop.assign(c.segments.size(), 0);
  rows.recv.resize(c.segments.size());
  rows.state.assign(c.states.size(), 0);
  struct Slot {
    std::int64_t t;
    int priority;  // arrivals and drops, states, sends, arrivals at their own sending
    std::size_t seq;
    double* y;
  };
  std::vector<Slot> slots;
  std::size_t n = 0;
  for (std::size_t i = 0; i < c.segments.size(); ++i) {
    const auto& s = c.segments[i];
    rows.recv[i].assign(s.received.size(), 0);
  }
  for (std::size_t i = 0; i < c.segments.size(); ++i) {
    const auto& s = c.segments[i];
    if (s.sent) slots.push_back({*s.sent, 2, n++, &rows.send[i]});
    for (std::size_t r = 0; r < s.received.size(); ++r)
      slots.push_back({s.received[r], s.sent && *s.sent == s.received[r] ? 3 : 0, n++, &rows.recv[i][r]});
    if (s.dropped) slots.push_back({*s.dropped, s.sent && *s.sent == *s.dropped ? 3 : 0, n++, &rows.drop[i]});
  }
  for (std::size_t i = 0; i < c.states.size(); ++i) slots.push_back({c.states[i].t, 1, n++, &rows.state[i]});
  std::stable_sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
    return a.t != b.t ? a.t < b.t : a.priority != b.priority ? a.priority < b.priority : a.seq < b.seq;
  });
  std::map<std::int64_t, int> used;
  for (const Slot& slot : slots) *slot.y = first_y.at(slot.t) + kRow * used[slot.t]++;
  return rows;
}

// Segments whose arrows cross one sent from the other side (a simultaneous open):
// their labels go nearer the sender.
std::vector<bool> crossings(const ConnectionTrace& c) {
  std::vector<bool> crossed(c.segments.size(), false);
  for (std::size_t i = 0; i < c.segments.size(); ++i) {
    const auto& a = c.segments[i];
    if (!a.sent || a.received.empty()) continue;
    for (const auto& b : c.segments)
      if (b.from != a.from && b.sent && !b.received.empty() && *b.sent < a.received.front() && b.received.front() > *a.sent)
        crossed[i] = true;
  }
  return crossed;
}

// The marks of a ladder, added segment by segment and state by state, then framed.
class LadderDrawing {
 public:
  LadderDrawing(const ConnectionTrace& c, const Rows& rows) : c_(c), rows_(rows) {}

  void segment(std::size_t i, bool crossed);
  void state(std::size_t i);
  std::string finish() const;

 private:
  // A time in the margin, once per instant and side.
  void time_label(int side, double y, std::int64_t t);
  // The label along an arrow from (x0, y0) to (xe, ye), where it runs into no label
  // placed before.
  void caption(const ConnectionTrace::Segment& s, const std::string& words, const std::string& colour, double x0,
               double y0, double xe, double ye, bool crossed);

  const ConnectionTrace& c_;
  const Rows& rows_;
  const double x_of_[2] = {kLeft, kRight};
  std::string body_;
  std::vector<std::string> time_labels_;
  std::set<std::pair<int, std::int64_t>> labelled_;
  std::vector<svg::Span> labels_;  // where arrow labels went, to keep the next ones clear
};

void LadderDrawing::time_label(int side, double y, std::int64_t t) {
  if (!labelled_.insert({side, t}).second) return;
  const double x = side == 0 ? 20 : kWidth - 20;
  time_labels_.push_back(fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="{}" fill="#888" font-size="11">{}</text>)",
                                     x, y + 4, side == 0 ? "start" : "end", xml_escape(at(t))));
}

void LadderDrawing::caption(const ConnectionTrace::Segment& s, const std::string& words, const std::string& colour,
                            double x0, double y0, double xe, double ye, bool crossed) {
  const double angle = std::atan2(ye - y0, xe - x0) * 180 / M_PI;
  // Along the arrow: the middle first (nearer the sender when an arrow from the other
  // side crosses this one, as in a simultaneous open), then further out on either side.
  const double len = std::hypot(xe - x0, ye - y0);
  const double half = std::min(len * 0.45, 3.3 * static_cast<double>(words.size()));
  const double ux = (xe - x0) / len, uy = (ye - y0) / len;
  const std::vector<double> tries =
      crossed ? std::vector<double>{0.3, 0.22, 0.4} : std::vector<double>{0.5, 0.38, 0.62, 0.28, 0.72};
  double f = tries.front(), best = -1;
  for (const double t : tries) {
    const double cx = x0 + (xe - x0) * t, cy = y0 + (ye - y0) * t;
    const svg::Span here{cx - ux * half, cy - uy * half, cx + ux * half, cy + uy * half};
    double nearest = 1e9;
    for (const svg::Span& other : labels_) nearest = std::min(nearest, svg::distance(here, other));
    if (nearest > best) {
      best = nearest;
      f = t;
    }
    if (nearest >= 13) break;
  }
  const double mx = x0 + (xe - x0) * f, my = y0 + (ye - y0) * f;
  labels_.push_back({mx - ux * half, my - uy * half, mx + ux * half, my + uy * half});
  const double a = s.from == 0 ? angle : angle - 180;
  body_ += fmt::format(
      R"~(<text x="{:.1f}" y="{:.1f}" text-anchor="middle" font-size="12" fill="{}" transform="rotate({:.2f} {:.1f} {:.1f})">{}</text>)~"
      "\n",
      mx, my - 5, colour, a, mx, my, xml_escape(words));
}

void LadderDrawing::segment(std::size_t i, bool crossed) {
  const auto& s = c_.segments[i];
  const double x0 = x_of_[s.from], x1 = x_of_[1 - s.from];
  const std::string colour = s.sent_by ? "#8e44ad" : s.retransmission ? "#c0392b" : "#1f4e79";
  std::string words = label(c_, s) + (s.retransmission ? " (retransmission)" : "");
  if (s.sent_by) words += fmt::format(" — sent by connection {}", *s.sent_by);
  if (s.received_by) words += fmt::format(" — arrives in connection {}", *s.received_by);
  words += not_taken_note(s);
  const double y0 = s.sent ? rows_.send[i] : (s.received.empty() ? rows_.drop[i] : rows_.recv[i][0]) - 40;
  if (s.sent) time_label(s.from, y0, *s.sent);
  const auto arrow = [&](double xe, double ye, bool dashed) {
    body_ += fmt::format(
        R"~(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="1.6"{} marker-end="url(#head{})"/>)~"
        "\n",
        x0, y0, xe, ye, colour, dashed ? R"( stroke-dasharray="6 4")" : "", s.sent_by ? "p" : s.retransmission ? "r" : "");
  };
  for (std::size_t r = 0; r < s.received.size(); ++r) {
    arrow(x1, rows_.recv[i][r], false);
    time_label(1 - s.from, rows_.recv[i][r], s.received[r]);
    if (r == 0) caption(s, words, colour, x0, y0, x1, rows_.recv[i][r], crossed);
  }
  // A segment that did not arrive: a short stub from its sender, and its label beside
  // the sender's time line, where it cannot run into the arrows sent after it.
  const auto stub_caption = [&](const std::string& why, const std::string& fill) {
    const bool rightwards = x1 > x0;
    body_ += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="12" fill="{}" text-anchor="{}">{}</text>)" "\n",
                         x0 + (rightwards ? 8 : -8), y0 - 6, fill, rightwards ? "start" : "end",
                         xml_escape(label(c_, s) + why));
  };
  if (s.dropped) {
    const double xe = x0 + (x1 - x0) * 0.3, ye = std::max(rows_.drop[i], y0 + 12);
    body_ += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="1.6"/>)" "\n",
                         x0, y0, xe, ye, colour);
    body_ += fmt::format(R"(<path d="M{:.1f},{:.1f} l12,12 m0,-12 l-12,12" stroke="#c0392b" stroke-width="2.4"/>)" "\n",
                         xe - 6, ye - 6);
    if (s.received.empty())
      stub_caption(std::string(s.retransmission ? " (retransmission)" : "") + " — lost (" + s.drop_reason + ")", "#c0392b");
  } else if (s.received.empty()) {
    arrow(x0 + (x1 - x0) * 0.3, y0 + 12, true);
    stub_caption(still_in_the_network(c_, s), colour);
  }
}

void LadderDrawing::state(std::size_t i) {
  const auto& st = c_.states[i];
  const double ys = rows_.state[i];
  const double x = st.side == 0 ? kLeft - 10 : kRight + 10;
  const double w = 8.2 * static_cast<double>(st.to.size()) + 12;
  const double bx = st.side == 0 ? x - w : x;
  body_ += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="18" rx="3" fill="#fff4d6" stroke="#d4a017"/>)" "\n",
                       bx, ys - 12, w);
  body_ += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="12" font-weight="bold" text-anchor="middle" fill="#5a4500">{}</text>)" "\n",
                       bx + w / 2, ys + 2, xml_escape(st.to));
  time_label(st.side, ys, st.t);
}

std::string LadderDrawing::finish() const {
  const double bottom = rows_.last + 50;
  std::string svg = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" viewBox="0 0 {:.0f} {:.0f}" {}>)" "\n",
      kWidth, bottom + 30, kWidth, bottom + 30, svg::kFont);
  svg += R"(<defs><marker id="head" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#1f4e79"/></marker>)";
  svg += R"(<marker id="headr" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#c0392b"/></marker>)";
  svg += R"(<marker id="headp" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#8e44ad"/></marker></defs>)" "\n";
  svg += fmt::format(R"(<rect width="100%" height="100%" fill="white"/>)" "\n");
  svg += fmt::format(R"(<text x="{:.1f}" y="24" font-size="15" font-weight="bold" text-anchor="middle">{}</text>)" "\n",
                     kWidth / 2,
                     xml_escape(fmt::format("{}connection {} — {}", c_.run_name.empty() ? "" : c_.run_name + ", ", c_.id, c_.outcome)));
  svg += fmt::format(R"(<text x="{:.1f}" y="42" font-size="11" fill="#666" text-anchor="middle">{}</text>)" "\n", kWidth / 2,
                     xml_escape(fmt::format("seq and ack relative to each side's ISN (client {}, server {}); time flows down, "
                                            "long gaps shortened",
                                            c_.isn[0] ? std::to_string(*c_.isn[0]) : "?", c_.isn[1] ? std::to_string(*c_.isn[1]) : "?")));
  for (int s = 0; s < 2; ++s) {
    svg += fmt::format(R"(<text x="{:.1f}" y="74" font-size="14" font-weight="bold" text-anchor="middle">{}</text>)" "\n",
                       x_of_[s], xml_escape(c_.name[s].empty() ? (s == 0 ? "client" : "server") : c_.name[s]));
    svg += fmt::format(R"(<text x="{:.1f}" y="90" font-size="11" fill="#666" text-anchor="middle">{}</text>)" "\n", x_of_[s],
                       xml_escape(c_.address[s] + (c_.real[s] ? " · real host, states inferred" : "")));
    svg += fmt::format(R"(<line x1="{:.1f}" y1="98" x2="{:.1f}" y2="{:.1f}" stroke="#444" stroke-width="2"/>)" "\n", x_of_[s],
                       x_of_[s], bottom);
  }
  for (const auto& [by, text] : rows_.breaks) {
    // The time lines break; the length of the cut goes in the margin, clear of arrows.
    for (const double x : x_of_)
      svg += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="12" height="10" fill="white"/>)" "\n", x - 6, by - 7);
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="11" fill="#888" font-style="italic" text-anchor="end">⋯ {} ⋯</text>)" "\n",
                       kLeft - 16, by + 2, xml_escape(text));
  }
  svg += body_;
  for (const auto& t : time_labels_) svg += t + "\n";
  svg += fmt::format(R"(<text x="20" y="{:.1f}" font-size="11" fill="#888">time at the client</text>)" "\n", bottom + 20);
  svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="11" fill="#888" text-anchor="end">time at the server</text>)" "\n",
                     kWidth - 20, bottom + 20);
  svg += "</svg>\n";
  return svg;
}

}  // namespace

std::string ladder_svg(const ConnectionTrace& c) {
  const Rows rows = layout(c);
  const std::vector<bool> crossed = crossings(c);
  LadderDrawing drawing(c, rows);
  for (std::size_t i = 0; i < c.segments.size(); ++i) drawing.segment(i, crossed[i]);
  for (std::size_t i = 0; i < c.states.size(); ++i) drawing.state(i);
  return drawing.finish();
}

std::string ladder_mermaid(const ConnectionTrace& c) {
  const auto who = [&](int s) { return s == 0 ? "C" : "S"; };
  // Messages in order of sending; at one instant, the state changes first (they
  // follow from what arrived), then what is sent.
  std::string out = "sequenceDiagram\n";
  for (int s = 0; s < 2; ++s)
    out += fmt::format("    participant {} as {} {}{}\n", who(s), c.name[s].empty() ? (s == 0 ? "client" : "server") : c.name[s],
                       c.address[s], c.real[s] ? " (real host, states inferred)" : "");
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
    const bool unseen = s.received.empty();
    const bool lost = unseen && (s.dropped || !c.real[1 - s.from]);  // to a real host: arrived, unseen
    std::string text = label(c, s);
    if (s.retransmission) text += " (retransmission)";
    if (s.sent_by) text += fmt::format(" — sent by connection {}", *s.sent_by);
    text += not_taken_note(s);
    if (s.received_by) text += fmt::format(" — arrives in connection {}", *s.received_by);
    if (unseen) text += s.dropped ? " — lost (" + s.drop_reason + ")" : still_in_the_network(c, s);
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

}  // namespace shakedown::controller
