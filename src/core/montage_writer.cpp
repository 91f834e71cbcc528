#include "inkgen/montage_writer.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "inkgen/atomic_file.hpp"
#include "inkgen/diff_writer.hpp"
#include "inkgen/slice_stack_writer.hpp"

namespace inkgen {

namespace {

const cv::Scalar background(38, 38, 38);
const cv::Scalar ink(235, 235, 235);
constexpr int font = cv::FONT_HERSHEY_SIMPLEX;
constexpr double font_scale = 0.45;
constexpr int gap = 6;
constexpr int label_width = 56;
constexpr int header_height = 26;
constexpr int line_height = 18;

void text(cv::Mat& canvas, const std::string& s, int x, int baseline_y) {
  cv::putText(canvas, s, {x, baseline_y}, font, font_scale, ink, 1, cv::LINE_AA);
}

at::Tensor as_dhw(const at::Tensor& v) {
  return v.dim() == 4 ? v.select(0, 0) : v;
}

std::string format_scale(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", v);
  return buffer;
}

}  // namespace

std::vector<int> montage_slices(int depth, int max_rows) {
  std::vector<int> slices;
  if (depth <= max_rows) {
    for (int z = 0; z < depth; ++z)
      slices.push_back(z);
    return slices;
  }
  for (int i = 0; i < max_rows; ++i) {
    slices.push_back(
        static_cast<int>(std::lround(i * (depth - 1) / static_cast<double>(max_rows - 1))));
  }
  return slices;
}

void write_montage(const std::filesystem::path& path, const MontageContent& c) {
  const auto start = as_dhw(c.start).to(at::kCPU, at::kFloat);
  const auto result = as_dhw(c.result).to(at::kCPU, at::kFloat);
  const auto diff = result - start;
  const int depth = static_cast<int>(start.size(0));
  const int h = static_cast<int>(start.size(1)), w = static_cast<int>(start.size(2));
  // Small crops are enlarged (nearest neighbour, so voxels stay visible) to at least 128 pixels.
  const int zoom = std::max(1, static_cast<int>(std::ceil(128.0 / std::min(h, w))));
  const int tile_w = w * zoom, tile_h = h * zoom;
  const auto slices = montage_slices(depth, c.max_rows);
  const int rows = static_cast<int>(slices.size());
  const int width = label_width + 3 * (tile_w + gap) + gap;
  const int caption_height = (static_cast<int>(c.caption.size()) + 1) * line_height + gap;
  const int height = header_height + rows * (tile_h + gap) + caption_height + 16;
  int text_width = 0;
  for (const auto& line : c.caption) {
    int baseline = 0;
    text_width =
        std::max(text_width, cv::getTextSize(line, font, font_scale, 1, &baseline).width + 12);
  }
  cv::Mat canvas(height, std::max({width, text_width, 420}), CV_8UC3, background);

  const int col[3] = {label_width, label_width + tile_w + gap, label_width + 2 * (tile_w + gap)};
  text(canvas, "start", col[0], 18);
  text(canvas, "result", col[1], 18);
  text(canvas, "diff (+-" + format_scale(c.diff_scale) + ")", col[2], 18);
  for (int r = 0; r < rows; ++r) {
    const int z = slices[r];
    const int y = header_height + r * (tile_h + gap);
    text(canvas, "z=" + std::to_string(z), 6, y + tile_h / 2 + 5);
    cv::Mat tiles[3];
    cv::cvtColor(slice_to_gray8(start.select(0, z), c.lo, c.hi), tiles[0], cv::COLOR_GRAY2BGR);
    cv::cvtColor(slice_to_gray8(result.select(0, z), c.lo, c.hi), tiles[1], cv::COLOR_GRAY2BGR);
    tiles[2] = diff_to_colour(diff.select(0, z), c.diff_scale);
    for (int i = 0; i < 3; ++i) {
      cv::Mat big;
      cv::resize(tiles[i], big, {tile_w, tile_h}, 0, 0, cv::INTER_NEAREST);
      big.copyTo(canvas(cv::Rect(col[i], y, tile_w, tile_h)));
    }
  }
  // A colour bar for the diff and the grey scale's meaning, then the caption.
  int y = header_height + rows * (tile_h + gap) + 4;
  const int bar_w = std::min(tile_w, 200);
  for (int x = 0; x < bar_w; ++x) {
    const double v = 2.0 * x / (bar_w - 1) - 1.0;
    const auto fade = static_cast<uint8_t>(std::lround(255.0 * (1.0 - std::abs(v))));
    cv::line(canvas, {col[2] + x, y}, {col[2] + x, y + 8},
             v >= 0 ? cv::Scalar(fade, fade, 255) : cv::Scalar(255, fade, fade));
  }
  text(canvas, "grey: " + format_scale(c.lo) + " (black) .. " + format_scale(c.hi) + " (white)",
       col[0], y + 10);
  y += 16 + line_height;
  for (const auto& line : c.caption) {
    text(canvas, line, 6, y);
    y += line_height;
  }
  write_image_atomically(path, canvas);
}

}  // namespace inkgen
