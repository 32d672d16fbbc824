// Line and bar charts written as PNG files (libpng), for the run report's
// reward curves and evaluation table: axes with numeric ticks, a legend, text
// in a built-in 5x7 font. The same input always gives the same bytes.
#pragma once

#include <string>
#include <vector>

namespace newsrl::launch {

// One named line. x and y have the same length; a point whose x or y is not
// finite is skipped (the line breaks there). `band`, when not empty, has
// y's length and shades y ± band (a non-finite band value leaves a gap).
struct Series {
  std::string name;
  std::vector<double> x, y, band;
};

// One line chart; `series` may be empty (the chart then says "no data").
struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
};

// Where a chart's data landed in the image: pixel (px(x), py(y)) shows the
// data point (x, y). Returned for callers and tests that look at the pixels.
struct PlotFrame {
  int left = 0, top = 0, right = 0, bottom = 0;  // the plot area, pixel bounds (inclusive)
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  int px(double x) const;
  int py(double y) const;
};

// The colour of the i-th series (and bar), as 0xRRGGBB; the legend uses the same.
unsigned series_colour(std::size_t i);

// Writes one line chart. Errors (a folder that cannot be written) throw
// std::invalid_argument naming the path; an existing file is replaced only
// once the new one is complete.
PlotFrame write_line_chart(const std::string& path, const std::string& title, const std::string& x_label,
                           const std::string& y_label, const std::vector<Series>& series, int width = 800,
                           int height = 480);

// Several line charts side by side in one image, `columns` to a row; each
// cell is cell_width x cell_height pixels.
void write_line_charts(const std::string& path, const std::vector<LineChart>& charts, int columns,
                       int cell_width = 480, int cell_height = 320);

// One group of bars per category (e.g. a metric), one bar per series in
// each group (e.g. a method). A non-finite value draws no bar.
struct BarSeries {
  std::string name;
  std::vector<double> values;  // one per category
};
void write_bar_chart(const std::string& path, const std::string& title, const std::string& y_label,
                     const std::vector<std::string>& categories, const std::vector<BarSeries>& series,
                     int width = 800, int height = 480);

}  // namespace newsrl::launch
