// Charts drawn into an RGB raster by hand (lines, rectangles, 5x7 text) and
// encoded with libpng's simplified API. Drawing is integer pixel work with no
// anti-aliasing, so the bytes depend only on the input.
#include "launch/png_plot.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "launch/bitmap_font.h"

namespace newsrl::launch {

namespace {

constexpr unsigned kWhite = 0xFFFFFF;
constexpr unsigned kInk = 0x222222;       // text, axes
constexpr unsigned kGrid = 0xE4E4E4;      // grid lines
constexpr unsigned kMuted = 0x888888;     // "no data"
constexpr std::size_t kMaxLegendChars = 24;

unsigned blend_with_white(unsigned colour, double share) {
  auto channel = [&](int shift) {
    const double c = static_cast<double>((colour >> shift) & 0xFF);
    return static_cast<unsigned>(std::lround(c * share + 255.0 * (1.0 - share))) << shift;
  };
  return channel(16) | channel(8) | channel(0);
}

// An RGB image, row-major, top row first; every drawing call clips to it.
class Canvas {
 public:
  Canvas(int width, int height) : width_(width), height_(height), rgb_(static_cast<std::size_t>(width) * height * 3) {
    fill(0, 0, width - 1, height - 1, kWhite);
  }

  void set(int x, int y, unsigned colour) {
    if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
    std::uint8_t* p = &rgb_[(static_cast<std::size_t>(y) * width_ + x) * 3];
    p[0] = static_cast<std::uint8_t>(colour >> 16);
    p[1] = static_cast<std::uint8_t>(colour >> 8);
    p[2] = static_cast<std::uint8_t>(colour);
  }

  void fill(int x0, int y0, int x1, int y1, unsigned colour) {
    if (x0 > x1) std::swap(x0, x1);
    if (y0 > y1) std::swap(y0, y1);
    for (int y = std::max(y0, 0); y <= std::min(y1, height_ - 1); ++y) {
      for (int x = std::max(x0, 0); x <= std::min(x1, width_ - 1); ++x) set(x, y, colour);
    }
  }

  // Bresenham's line; thickness 2 draws each step as a 2x2 square.
  void line(int x0, int y0, int x1, int y1, unsigned colour, int thickness) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
      fill(x0, y0, x0 + thickness - 1, y0 + thickness - 1, colour);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  // Text with its top-left corner at (x, y), each font pixel a scale x scale square.
  void text(int x, int y, const std::string& s, unsigned colour, int scale = 1) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      const int gx = x + static_cast<int>(i) * kGlyphAdvance * scale;
      for (int row = 0; row < kGlyphHeight; ++row) {
        for (int col = 0; col < kGlyphWidth; ++col) {
          if (glyph_pixel(s[i], col, row)) {
            fill(gx + col * scale, y + row * scale, gx + col * scale + scale - 1, y + row * scale + scale - 1, colour);
          }
        }
      }
    }
  }

  // Text turned a quarter counter-clockwise (read bottom to top), for the y
  // axis label; (x, y) is the bottom-left corner of its first letter.
  void text_up(int x, int y, const std::string& s, unsigned colour) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      const int base = y - static_cast<int>(i) * kGlyphAdvance;
      for (int row = 0; row < kGlyphHeight; ++row) {
        for (int col = 0; col < kGlyphWidth; ++col) {
          if (glyph_pixel(s[i], col, row)) set(x + row, base - col, colour);
        }
      }
    }
  }

  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<std::uint8_t>& rgb() const { return rgb_; }

 private:
  int width_, height_;
  std::vector<std::uint8_t> rgb_;
};

int text_width(const std::string& s, int scale = 1) {
  return s.empty() ? 0 : (static_cast<int>(s.size()) * kGlyphAdvance - 1) * scale;
}

std::string shorten(const std::string& s, std::size_t max_chars) {
  return s.size() <= max_chars ? s : s.substr(0, max_chars - 2) + "..";
}

// Axis ticks on round numbers (1, 2 or 5 times a power of ten), about
// `target` of them, covering [lo, hi]; whole numbers only when `whole` (an
// axis of steps has no step 2.5).
struct Ticks {
  double lo = 0, hi = 1, step = 0.2;
  int decimals = 1;
  std::vector<double> values;
};

Ticks nice_ticks(double lo, double hi, int target, bool whole = false) {
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double r = raw / magnitude;
  Ticks t;
  t.step = (r < 1.5 ? 1.0 : r < 3.0 ? 2.0 : r < 7.0 ? 5.0 : 10.0) * magnitude;
  if (whole) t.step = std::max(t.step, 1.0);
  t.lo = std::floor(lo / t.step + 1e-9) * t.step;
  t.hi = std::ceil(hi / t.step - 1e-9) * t.step;
  t.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(t.step) + 1e-9)));
  const int n = static_cast<int>(std::lround((t.hi - t.lo) / t.step));
  for (int i = 0; i <= n; ++i) {
    double v = t.lo + i * t.step;
    if (std::abs(v) < t.step * 1e-9) v = 0;  // no "-0.00"
    t.values.push_back(v);
  }
  return t;
}

std::string tick_label(double v, const Ticks& t) {
  char buf[48];
  if (t.decimals > 6 || std::max(std::abs(t.lo), std::abs(t.hi)) >= 1e7) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*f", t.decimals, v);
  }
  return buf;
}

bool finite(double v) { return std::isfinite(v); }

// The frame of one chart inside a cell of the canvas: title on top, y label
// and tick labels on the left, x tick labels and x label below, legend on
// the right. Fills in the pixel bounds of the plot area.
struct Layout {
  int cell_x, cell_y, cell_w, cell_h;
  int title_scale = 2;
};

PlotFrame place_frame(Canvas& canvas, const Layout& cell, const std::string& title, const std::string& x_label,
                      const std::string& y_label, const std::vector<std::string>& legend, const Ticks& y_ticks) {
  int title_scale = cell.title_scale;
  while (title_scale > 1 && text_width(title, title_scale) > cell.cell_w - 16) --title_scale;
  const int title_h = kGlyphHeight * title_scale;
  canvas.text(cell.cell_x + (cell.cell_w - text_width(title, title_scale)) / 2, cell.cell_y + 8, title, kInk,
              title_scale);

  std::size_t label_chars = 0;
  for (double v : y_ticks.values) label_chars = std::max(label_chars, tick_label(v, y_ticks).size());
  std::size_t legend_chars = 0;
  for (const std::string& name : legend) legend_chars = std::max(legend_chars, shorten(name, kMaxLegendChars).size());
  const int legend_w = legend.empty() ? 0 : 12 + 4 + static_cast<int>(legend_chars) * kGlyphAdvance + 8;

  PlotFrame f;
  f.top = cell.cell_y + 8 + title_h + 12;
  f.left = cell.cell_x + 6 + (y_label.empty() ? 0 : kGlyphHeight + 8) + static_cast<int>(label_chars) * kGlyphAdvance + 8;
  f.right = cell.cell_x + cell.cell_w - 12 - legend_w;
  f.bottom = cell.cell_y + cell.cell_h - 8 - (x_label.empty() ? 0 : kGlyphHeight + 8) - kGlyphHeight - 8;
  if (f.right - f.left < 20 || f.bottom - f.top < 20) {
    throw std::invalid_argument("chart \"" + title + "\": " + std::to_string(cell.cell_w) + "x" +
                                std::to_string(cell.cell_h) + " pixels is too small for its labels");
  }
  if (!x_label.empty()) {
    canvas.text((f.left + f.right - text_width(x_label)) / 2, cell.cell_y + cell.cell_h - 8 - kGlyphHeight, x_label,
                kInk);
  }
  if (!y_label.empty()) {
    const int y_mid = (f.top + f.bottom + text_width(y_label)) / 2;
    canvas.text_up(cell.cell_x + 6, std::min(y_mid, f.bottom), y_label, kInk);
  }
  for (std::size_t i = 0; i < legend.size(); ++i) {
    const int ly = f.top + 4 + static_cast<int>(i) * (kGlyphHeight + 6);
    canvas.fill(f.right + 12, ly + 1, f.right + 12 + 11, ly + kGlyphHeight - 2, series_colour(i));
    canvas.text(f.right + 12 + 16, ly, shorten(legend[i], kMaxLegendChars), kInk);
  }
  return f;
}

// Grid lines and tick labels on the y axis.
void draw_y_axis(Canvas& canvas, const PlotFrame& f, const Ticks& t) {
  for (double v : t.values) {
    const int y = f.py(v);
    canvas.line(f.left, y, f.right, y, kGrid, 1);
    canvas.line(f.left - 4, y, f.left, y, kInk, 1);
    const std::string label = tick_label(v, t);
    canvas.text(f.left - 6 - text_width(label), y - kGlyphHeight / 2, label, kInk);
  }
}

void draw_box(Canvas& canvas, const PlotFrame& f) {
  canvas.line(f.left, f.top, f.right, f.top, kInk, 1);
  canvas.line(f.left, f.bottom, f.right, f.bottom, kInk, 1);
  canvas.line(f.left, f.top, f.left, f.bottom, kInk, 1);
  canvas.line(f.right, f.top, f.right, f.bottom, kInk, 1);
}

void say_no_data(Canvas& canvas, const PlotFrame& f) {
  const std::string msg = "no data";
  canvas.text((f.left + f.right - text_width(msg, 2)) / 2, (f.top + f.bottom - kGlyphHeight * 2) / 2, msg, kMuted, 2);
}

// y ± band between two neighbouring points, filled column by column.
void shade_band(Canvas& canvas, const PlotFrame& f, double x0, double lo0, double hi0, double x1, double lo1, double hi1,
                unsigned colour) {
  const int p0 = f.px(x0), p1 = f.px(x1);
  for (int p = std::min(p0, p1); p <= std::max(p0, p1); ++p) {
    const double t = p1 == p0 ? 0.0 : static_cast<double>(p - p0) / (p1 - p0);
    const double lo = lo0 + t * (lo1 - lo0), hi = hi0 + t * (hi1 - hi0);
    canvas.fill(p, f.py(hi), p, f.py(lo), colour);
  }
}

PlotFrame draw_line_chart(Canvas& canvas, const Layout& cell, const LineChart& chart) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  bool whole_x = true;
  std::vector<std::string> names;
  for (const Series& s : chart.series) {
    if (s.x.size() != s.y.size() || (!s.band.empty() && s.band.size() != s.y.size())) {
      throw std::invalid_argument("chart \"" + chart.title + "\" series \"" + s.name + "\": x, y and band differ in length");
    }
    names.push_back(s.name);
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      if (!finite(s.x[i]) || !finite(s.y[i])) continue;
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      whole_x = whole_x && s.x[i] == std::round(s.x[i]);
      const double b = !s.band.empty() && finite(s.band[i]) ? std::abs(s.band[i]) : 0.0;
      y_lo = std::min(y_lo, s.y[i] - b);
      y_hi = std::max(y_hi, s.y[i] + b);
    }
  }
  const bool has_data = finite(x_lo);
  if (!has_data) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  const Ticks xt = nice_ticks(x_lo, x_hi, 6, whole_x), yt = nice_ticks(y_lo, y_hi, 5);

  PlotFrame f = place_frame(canvas, cell, chart.title, chart.x_label, chart.y_label, names, yt);
  f.x_min = xt.lo, f.x_max = xt.hi, f.y_min = yt.lo, f.y_max = yt.hi;
  draw_y_axis(canvas, f, yt);
  int last_label_end = std::numeric_limits<int>::min();
  for (double v : xt.values) {
    const int x = f.px(v);
    canvas.line(x, f.top, x, f.bottom, kGrid, 1);
    canvas.line(x, f.bottom, x, f.bottom + 4, kInk, 1);
    const std::string label = tick_label(v, xt);
    const int lx = x - text_width(label) / 2;
    if (lx > last_label_end + 6) {  // labels that would touch are left out
      canvas.text(lx, f.bottom + 8, label, kInk);
      last_label_end = lx + text_width(label);
    }
  }
  if (!has_data) {
    draw_box(canvas, f);
    say_no_data(canvas, f);
    return f;
  }

  auto ok = [](const Series& s, std::size_t i) { return finite(s.x[i]) && finite(s.y[i]); };
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const Series& s = chart.series[k];
    if (s.band.empty()) continue;
    const unsigned light = blend_with_white(series_colour(k), 0.25);
    for (std::size_t i = 0; i + 1 < s.y.size(); ++i) {
      if (!ok(s, i) || !ok(s, i + 1) || !finite(s.band[i]) || !finite(s.band[i + 1])) continue;
      const double b0 = std::abs(s.band[i]), b1 = std::abs(s.band[i + 1]);
      shade_band(canvas, f, s.x[i], s.y[i] - b0, s.y[i] + b0, s.x[i + 1], s.y[i + 1] - b1, s.y[i + 1] + b1, light);
    }
  }
  draw_box(canvas, f);
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const Series& s = chart.series[k];
    const unsigned colour = series_colour(k);
    for (std::size_t i = 0; i < s.y.size(); ++i) {
      if (!ok(s, i)) continue;
      const bool joined_before = i > 0 && ok(s, i - 1);
      const bool joined_after = i + 1 < s.y.size() && ok(s, i + 1);
      if (joined_after) {
        canvas.line(f.px(s.x[i]), f.py(s.y[i]), f.px(s.x[i + 1]), f.py(s.y[i + 1]), colour, 2);
      } else if (!joined_before) {  // a lone point: a dot, so it is seen
        canvas.fill(f.px(s.x[i]) - 2, f.py(s.y[i]) - 2, f.px(s.x[i]) + 2, f.py(s.y[i]) + 2, colour);
      }
    }
  }
  return f;
}

// Encodes the canvas and writes it next to `path`, then renames it over
// `path`: a reader never sees half a file.
void write_png(const Canvas& canvas, const std::string& path) {
  auto fresh_image = [&] {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    image.width = static_cast<png_uint_32>(canvas.width());
    image.height = static_cast<png_uint_32>(canvas.height());
    image.format = PNG_FORMAT_RGB;
    return image;
  };
  png_image image = fresh_image();
  png_alloc_size_t size = 0;  // a first call without memory asks for the size
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, canvas.rgb().data(), 0, nullptr)) {
    throw std::invalid_argument(path + ": cannot encode the PNG (" + std::string(image.message) + ")");
  }
  std::vector<char> bytes(size);
  image = fresh_image();
  if (!png_image_write_to_memory(&image, bytes.data(), &size, 0, canvas.rgb().data(), 0, nullptr)) {
    throw std::invalid_argument(path + ": cannot encode the PNG (" + std::string(image.message) + ")");
  }
  const std::filesystem::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(size));
    out.close();
    if (!out) throw std::invalid_argument(path + ": cannot write the PNG");
  }
  std::filesystem::rename(temporary, target, ec);
  if (ec) throw std::invalid_argument(path + ": cannot write the PNG (" + ec.message() + ")");
}

void check_size(const std::string& path, int width, int height) {
  if (width < 120 || height < 100 || width > 8000 || height > 8000) {
    throw std::invalid_argument(path + ": a chart is 120x100 to 8000x8000 pixels, not " + std::to_string(width) + "x" +
                                std::to_string(height));
  }
}

}  // namespace

int PlotFrame::px(double x) const {
  const double t = x_max > x_min ? (x - x_min) / (x_max - x_min) : 0.5;
  return left + static_cast<int>(std::lround(t * (right - left)));
}

int PlotFrame::py(double y) const {
  const double t = y_max > y_min ? (y - y_min) / (y_max - y_min) : 0.5;
  return bottom - static_cast<int>(std::lround(t * (bottom - top)));
}

unsigned series_colour(std::size_t i) {
  // Distinct at a glance and on grey-scale print; repeats after eight.
  static constexpr unsigned kPalette[] = {0x1F77B4, 0xD62728, 0x2CA02C, 0xFF7F0E,
                                          0x9467BD, 0x8C564B, 0xE377C2, 0x17BECF};
  return kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
}

PlotFrame write_line_chart(const std::string& path, const std::string& title, const std::string& x_label,
                           const std::string& y_label, const std::vector<Series>& series, int width, int height) {
  check_size(path, width, height);
  Canvas canvas(width, height);
  const PlotFrame f = draw_line_chart(canvas, Layout{0, 0, width, height}, LineChart{title, x_label, y_label, series});
  write_png(canvas, path);
  return f;
}

void write_line_charts(const std::string& path, const std::vector<LineChart>& charts, int columns, int cell_width,
                       int cell_height) {
  check_size(path, cell_width, cell_height);
  columns = std::max(1, columns);
  const int n = std::max<int>(1, static_cast<int>(charts.size()));
  const int rows = (n + columns - 1) / columns;
  const int cols = std::min(columns, n);
  check_size(path, cell_width * cols, cell_height * rows);
  Canvas canvas(cell_width * cols, cell_height * rows);
  for (std::size_t i = 0; i < charts.size(); ++i) {
    const int c = static_cast<int>(i) % columns, r = static_cast<int>(i) / columns;
    Layout cell{c * cell_width, r * cell_height, cell_width, cell_height};
    cell.title_scale = 1;
    draw_line_chart(canvas, cell, charts[i]);
  }
  if (charts.empty()) draw_line_chart(canvas, Layout{0, 0, cell_width, cell_height}, LineChart{});
  write_png(canvas, path);
}

void write_bar_chart(const std::string& path, const std::string& title, const std::string& y_label,
                     const std::vector<std::string>& categories, const std::vector<BarSeries>& series, int width,
                     int height) {
  check_size(path, width, height);
  double lo = 0, hi = 0;  // bars stand on zero
  bool has_data = false;
  std::vector<std::string> names;
  for (const BarSeries& s : series) {
    if (s.values.size() != categories.size()) {
      throw std::invalid_argument("chart \"" + title + "\" series \"" + s.name + "\": " +
                                  std::to_string(s.values.size()) + " values for " +
                                  std::to_string(categories.size()) + " categories");
    }
    names.push_back(s.name);
    for (double v : s.values) {
      if (!finite(v)) continue;
      has_data = true;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!has_data) hi = 1;
  const Ticks yt = nice_ticks(lo, hi, 5);
  Canvas canvas(width, height);
  PlotFrame f = place_frame(canvas, Layout{0, 0, width, height}, title, "", y_label, names, yt);
  f.y_min = yt.lo, f.y_max = yt.hi;
  draw_y_axis(canvas, f, yt);
  if (!has_data || categories.empty()) {
    draw_box(canvas, f);
    say_no_data(canvas, f);
    write_png(canvas, path);
    return;
  }
  const double group_w = static_cast<double>(f.right - f.left) / static_cast<double>(categories.size());
  const double bar_w = group_w * 0.8 / static_cast<double>(series.size());
  for (std::size_t c = 0; c < categories.size(); ++c) {
    const double group_left = f.left + group_w * static_cast<double>(c) + group_w * 0.1;
    for (std::size_t k = 0; k < series.size(); ++k) {
      const double v = series[k].values[c];
      if (!finite(v)) continue;
      const int x0 = static_cast<int>(std::lround(group_left + bar_w * static_cast<double>(k)));
      const int x1 = static_cast<int>(std::lround(group_left + bar_w * static_cast<double>(k + 1))) - 2;
      canvas.fill(x0, f.py(0), std::max(x0, x1), f.py(v), series_colour(k));
    }
    const std::string label = shorten(categories[c], static_cast<std::size_t>(std::max(3.0, group_w / kGlyphAdvance)));
    const int centre = static_cast<int>(std::lround(f.left + group_w * (static_cast<double>(c) + 0.5)));
    canvas.text(centre - text_width(label) / 2, f.bottom + 8, label, kInk);
  }
  canvas.line(f.left, f.py(0), f.right, f.py(0), kInk, 1);
  draw_box(canvas, f);
  write_png(canvas, path);
}

}  // namespace newsrl::launch
