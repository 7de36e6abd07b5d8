// The charts: the time-sequence graph of one side of a connection, line charts (sweeps)
// and the CDF of handshake times.
#include "controller/pictures.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/format.h>

#include "controller/pictures_internal.h"
#include "controller/report.h"
#include "controller/svg.h"
#include "controller/text.h"

namespace shakedown::controller {

using svg::axes;
using svg::number;
using svg::Plot;
using svg::seconds_format;
using svg::ticks;

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
