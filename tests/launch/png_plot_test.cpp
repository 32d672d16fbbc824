// The PNG charts from outside: a valid PNG file (signature, IHDR, every
// chunk's CRC), which libpng decodes to the asked size with the line's colour
// where the data puts it; the same input gives the same bytes.
#include "launch/png_plot.h"

#include <gtest/gtest.h>
#include <png.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using newsrl::launch::BarSeries;
using newsrl::launch::LineChart;
using newsrl::launch::PlotFrame;
using newsrl::launch::Series;
using newsrl::launch::series_colour;

class PngPlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("png_plot_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::vector<std::uint8_t> bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint32_t big_endian(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

struct Chunk {
  std::string type;
  std::vector<std::uint8_t> data;
};

// Walks the file's chunks, failing the test on a bad signature or CRC.
std::vector<Chunk> chunks_of(const std::vector<std::uint8_t>& file) {
  const std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<Chunk> chunks;
  EXPECT_GE(file.size(), 8u);
  if (file.size() < 8 || !std::equal(signature, signature + 8, file.begin())) {
    ADD_FAILURE() << "not a PNG signature";
    return chunks;
  }
  std::size_t at = 8;
  while (at + 12 <= file.size()) {
    const std::uint32_t length = big_endian(&file[at]);
    if (at + 12 + length > file.size()) {
      ADD_FAILURE() << "chunk at " << at << " runs past the end";
      break;
    }
    Chunk c{std::string(file.begin() + static_cast<long>(at) + 4, file.begin() + static_cast<long>(at) + 8),
            std::vector<std::uint8_t>(file.begin() + static_cast<long>(at) + 8,
                                      file.begin() + static_cast<long>(at) + 8 + length)};
    const std::uint32_t stored = big_endian(&file[at + 8 + length]);
    const auto computed = static_cast<std::uint32_t>(crc32(0L, &file[at + 4], length + 4));  // type and data
    EXPECT_EQ(stored, computed) << "CRC of chunk " << c.type;
    chunks.push_back(std::move(c));
    at += 12 + length;
  }
  EXPECT_EQ(at, file.size()) << "bytes after the last chunk";
  return chunks;
}

struct Image {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
  unsigned at(int x, int y) const {
    const std::uint8_t* p = &rgb[(static_cast<std::size_t>(y) * width + x) * 3];
    return (unsigned{p[0]} << 16) | (unsigned{p[1]} << 8) | p[2];
  }
  int count(unsigned colour) const {
    int n = 0;
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) n += at(x, y) == colour;
    return n;
  }
  // Whether `colour` is within one pixel of (x, y): lines are drawn 2 pixels wide.
  bool near(int x, int y, unsigned colour) const {
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx)
        if (at(x + dx, y + dy) == colour) return true;
    return false;
  }
};

Image decode(const std::string& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  Image out;
  if (!png_image_begin_read_from_file(&image, path.c_str())) {
    ADD_FAILURE() << "libpng cannot read " << path << ": " << image.message;
    return out;
  }
  image.format = PNG_FORMAT_RGB;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.rgb.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.rgb.data(), 0, nullptr)) {
    ADD_FAILURE() << "libpng cannot decode " << path << ": " << image.message;
  }
  return out;
}

Series diagonal(const std::string& name) {
  Series s{name, {}, {}, {}};
  for (int i = 0; i <= 10; ++i) {
    s.x.push_back(i);
    s.y.push_back(i);
  }
  return s;
}

TEST_F(PngPlotTest, LineChartIsAValidPngWithTheLineWhereTheDataIs) {
  const PlotFrame f = newsrl::launch::write_line_chart(path("line.png"), "y = x", "step", "value", {diagonal("a")}, 400, 300);
  const std::vector<Chunk> chunks = chunks_of(bytes_of(path("line.png")));
  ASSERT_GE(chunks.size(), 3u);
  ASSERT_EQ(chunks.front().type, "IHDR");
  EXPECT_EQ(big_endian(&chunks.front().data[0]), 400u);
  EXPECT_EQ(big_endian(&chunks.front().data[4]), 300u);
  EXPECT_EQ(chunks.back().type, "IEND");
  EXPECT_TRUE(std::any_of(chunks.begin(), chunks.end(), [](const Chunk& c) { return c.type == "IDAT"; }));

  const Image image = decode(path("line.png"));
  ASSERT_EQ(image.width, 400);
  ASSERT_EQ(image.height, 300);
  const unsigned colour = series_colour(0);
  for (double v : {1.5, 5.0, 8.5}) EXPECT_TRUE(image.near(f.px(v), f.py(v), colour)) << "no line at " << v;
  EXPECT_FALSE(image.near(f.px(8), f.py(2), colour)) << "line colour away from the line";
  EXPECT_EQ(image.at(f.px(8.3), f.py(2.3)), 0xFFFFFFu) << "the plot's background is white";
  EXPECT_GT(image.count(0x222222), 200) << "title, labels and axes are drawn";
}

TEST_F(PngPlotTest, SameInputSameBytes) {
  Series s = diagonal("a");
  s.band.assign(s.y.size(), 0.5);
  newsrl::launch::write_line_chart(path("one.png"), "t", "x", "y", {s, diagonal("b")});
  newsrl::launch::write_line_chart(path("two.png"), "t", "x", "y", {s, diagonal("b")});
  EXPECT_EQ(bytes_of(path("one.png")), bytes_of(path("two.png")));
  newsrl::launch::write_line_chart(path("three.png"), "t", "x", "y", {s, diagonal("c")});
  EXPECT_NE(bytes_of(path("one.png")), bytes_of(path("three.png"))) << "a legend name is in the image";
}

TEST_F(PngPlotTest, NonFinitePointsBreakTheLine) {
  Series s = diagonal("a");
  s.y[5] = std::nan("");
  s.x[8] = INFINITY;
  const PlotFrame f = newsrl::launch::write_line_chart(path("gap.png"), "gap", "x", "y", {s}, 400, 300);
  const Image image = decode(path("gap.png"));
  const unsigned colour = series_colour(0);
  EXPECT_TRUE(image.near(f.px(2.5), f.py(2.5), colour));
  EXPECT_FALSE(image.near(f.px(5), f.py(5), colour)) << "the missing point is joined";
  EXPECT_FALSE(image.near(f.px(7.5), f.py(7.5), colour));
  EXPECT_TRUE(image.near(f.px(9.5), f.py(9.5), colour));
}

TEST_F(PngPlotTest, BandShadesAroundTheLine) {
  Series s{"flat", {0, 1, 2, 3, 4}, {0.5, 0.5, 0.5, 0.5, 0.5}, {0.2, 0.2, 0.2, 0.2, 0.2}};
  const PlotFrame f = newsrl::launch::write_line_chart(path("band.png"), "band", "x", "y", {s}, 400, 300);
  const Image image = decode(path("band.png"));
  const unsigned inside = image.at(f.px(1.3), f.py(0.62));
  EXPECT_NE(inside, 0xFFFFFFu);
  EXPECT_NE(inside, series_colour(0));
  EXPECT_EQ(image.at(f.px(1.3), f.py(0.38)), inside) << "the band is y +/- band on both sides";
  EXPECT_TRUE(image.near(f.px(1.3), f.py(0.5), series_colour(0)));
  EXPECT_LE(f.py(0.7), f.top + 1) << "the y range takes in the band";
}

TEST_F(PngPlotTest, NoSeriesStillWritesAChartSayingNoData) {
  newsrl::launch::write_line_chart(path("empty.png"), "nothing yet", "step", "reward", {}, 400, 300);
  const Image image = decode(path("empty.png"));
  EXPECT_EQ(image.width, 400);
  EXPECT_GT(image.count(0x888888), 50) << "the grey \"no data\" text";
  newsrl::launch::write_line_chart(path("nan.png"), "all missing", "step", "reward",
                                   {Series{"a", {1, 2}, {NAN, NAN}, {}}}, 400, 300);
  EXPECT_GT(decode(path("nan.png")).count(0x888888), 50);
}

TEST_F(PngPlotTest, GridOfChartsHasEveryCell) {
  newsrl::launch::write_line_charts(path("grid.png"),
                                    {LineChart{"a", "step", "", {diagonal("a")}}, LineChart{"b", "step", "", {}},
                                     LineChart{"c", "step", "", {diagonal("c")}}},
                                    2, 300, 200);
  const Image image = decode(path("grid.png"));
  EXPECT_EQ(image.width, 600);
  EXPECT_EQ(image.height, 400);
  EXPECT_GT(image.count(0x888888), 50) << "chart b says no data";
}

TEST_F(PngPlotTest, BarChartDrawsOneBarPerFiniteValue) {
  newsrl::launch::write_bar_chart(path("bars.png"), "methods", "score", {"Recall@10", "MRR"},
                                  {BarSeries{"grpo", {0.3, 0.2}}, BarSeries{"popular", {NAN, NAN}}}, 400, 300);
  const Image image = decode(path("bars.png"));
  EXPECT_GT(image.count(series_colour(0)), 2000) << "two tall bars";
  EXPECT_LT(image.count(series_colour(1)), 100) << "only popular's legend swatch";
  EXPECT_GT(image.count(series_colour(1)), 0);
}

TEST_F(PngPlotTest, BadInputIsOneClearError) {
  Series ragged{"r", {1, 2, 3}, {1, 2}, {}};
  EXPECT_THROW(newsrl::launch::write_line_chart(path("x.png"), "t", "x", "y", {ragged}), std::invalid_argument);
  EXPECT_THROW(newsrl::launch::write_bar_chart(path("x.png"), "t", "y", {"a", "b"}, {BarSeries{"m", {1}}}),
               std::invalid_argument);
  EXPECT_THROW(newsrl::launch::write_line_chart(path("x.png"), "t", "x", "y", {}, 10, 10), std::invalid_argument);
  std::ofstream(path("file")) << "a file, not a folder";
  try {
    newsrl::launch::write_line_chart(path("file") + "/x.png", "t", "x", "y", {});
    FAIL() << "wrote into a file";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("file/x.png: cannot write"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(path("x.png")));
}

}  // namespace
