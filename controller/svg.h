// What the pictures share: the SVG frame of a chart, round axis ticks, numbers and
// times as the pictures print them, and the geometry that keeps labels apart.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace shakedown::controller::svg {

inline constexpr const char* kFont = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";

// A label's extent, as the segment of its baseline.
struct Span {
  double x0, y0, x1, y1;
};
// The distance between two spans (zero when they cross).
double distance(const Span& a, const Span& b);

// A time, exactly: 0, 20ms, 1.02s, 60.04s.
std::string at(std::int64_t ns);
// Round numbers for an axis from lo to hi: 1, 2 or 5 times a power of ten apart.
std::vector<double> ticks(double lo, double hi, int target = 6);
// 3, 2.5: a number without needless decimals.
std::string number(double v);

// A chart's plotting area and scales.
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

// The chart's frame: the SVG element, title, grid, tick labels and axis labels. The
// caller adds its marks and closes the SVG.
std::string axes(const Plot& p, const std::string& title, const std::string& xlabel, const std::string& ylabel,
                 const std::vector<double>& xt, const std::vector<double>& yt,
                 const std::function<std::string(double)>& xfmt, const std::function<std::string(double)>& yfmt);
// Seconds, with as many decimals as the step between ticks needs.
std::function<std::string(double)> seconds_format(const std::vector<double>& t);

}  // namespace shakedown::controller::svg
