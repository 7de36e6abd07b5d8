#include "controller/svg.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "controller/text.h"
#include "emulator/time.h"

namespace shakedown::controller::svg {

namespace {

double point_to_span(double px, double py, const Span& s) {
  const double dx = s.x1 - s.x0, dy = s.y1 - s.y0;
  const double l2 = dx * dx + dy * dy;
  const double t = l2 > 0 ? std::clamp(((px - s.x0) * dx + (py - s.y0) * dy) / l2, 0.0, 1.0) : 0.0;
  return std::hypot(px - (s.x0 + t * dx), py - (s.y0 + t * dy));
}

}  // namespace

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
std::vector<double> ticks(double lo, double hi, int target) {
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


std::function<std::string(double)> seconds_format(const std::vector<double>& t) {
  const double step = t.size() > 1 ? t[1] - t[0] : 1;
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  return [decimals](double v) { return fmt::format("{:.{}f}", v, decimals); };
}


}  // namespace shakedown::controller::svg
