#include "inkgen/run/montage_writer.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/optimize/volume_tensor.hpp"
#include "inkgen/run/diff_writer.hpp"
#include "inkgen/run/slice_stack_writer.hpp"

namespace inkgen {

namespace {

using namespace montage_style;

// The middle slice in grey with the model's ink probability over it in red (alpha 0.6 p),
// the map stretched bilinearly over the crop.
cv::Mat ink_overlay(const at::Tensor& slice, const at::Tensor& map, double lo, double hi,
                    int tile_w, int tile_h) {
  cv::Mat grey;
  cv::resize(slice_to_gray8(slice, lo, hi), grey, {tile_w, tile_h}, 0, 0, cv::INTER_NEAREST);
  const auto m = map.to(at::kCPU, at::kFloat).contiguous();
  const cv::Mat small(static_cast<int>(m.size(0)), static_cast<int>(m.size(1)), CV_32FC1,
                      m.data_ptr<float>());
  cv::Mat p;
  cv::resize(small, p, {tile_w, tile_h}, 0, 0,
             small.total() == 1 ? cv::INTER_NEAREST : cv::INTER_LINEAR);
  cv::Mat out(tile_h, tile_w, CV_8UC3);
  for (int y = 0; y < tile_h; ++y) {
    for (int x = 0; x < tile_w; ++x) {
      const double a = 0.6 * std::clamp(static_cast<double>(p.at<float>(y, x)), 0.0, 1.0);
      const double g = grey.at<uint8_t>(y, x);
      out.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uint8_t>(g * (1 - a)), static_cast<uint8_t>(g * (1 - a)),
                    static_cast<uint8_t>(g * (1 - a) + 255 * a));
    }
  }
  return out;
}

}  // namespace

namespace montage_style {

namespace {
const cv::Scalar background(38, 38, 38);
const cv::Scalar ink(235, 235, 235);
constexpr int font = cv::FONT_HERSHEY_SIMPLEX;
constexpr double font_scale = 0.45;
}  // namespace

cv::Mat canvas(int height, int width) {
  return cv::Mat(height, width, CV_8UC3, background);
}

void text(cv::Mat& canvas, const std::string& s, int x, int baseline_y) {
  cv::putText(canvas, s, {x, baseline_y}, font, font_scale, ink, 1, cv::LINE_AA);
}

int text_width(const std::string& s) {
  int baseline = 0;
  return cv::getTextSize(s, font, font_scale, 1, &baseline).width + 12;
}

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", v);
  return buffer;
}

std::string fixed(double v, int digits) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}

void colour_bar(cv::Mat& canvas, int x0, int y, int width) {
  for (int x = 0; x < width; ++x) {
    const double v = 2.0 * x / (width - 1) - 1.0;
    const auto fade = static_cast<uint8_t>(std::lround(255.0 * (1.0 - std::abs(v))));
    cv::line(canvas, {x0 + x, y}, {x0 + x, y + 8},
             v >= 0 ? cv::Scalar(fade, fade, 255) : cv::Scalar(255, fade, fade));
  }
}

int zoom(int h, int w) {
  return std::max(1, static_cast<int>(std::ceil(128.0 / std::min(h, w))));
}

}  // namespace montage_style

cv::Mat profile_plot(const std::vector<double>& profile, int tile_w, int tile_h) {
  cv::Mat out(tile_h, tile_w, CV_8UC3, cv::Scalar(60, 60, 60));
  const double top = *std::max_element(profile.begin(), profile.end());
  const double row = static_cast<double>(tile_h) / static_cast<double>(profile.size());
  for (std::size_t z = 0; z < profile.size(); ++z) {
    const int length = top > 0 ? static_cast<int>(std::lround((tile_w - 2) * profile[z] / top)) : 0;
    const int y0 = static_cast<int>(z * row),
              y1 = std::max(y0 + 1, static_cast<int>((z + 1) * row) - 1);
    cv::rectangle(out, {1, y0}, {1 + length, y1}, cv::Scalar(80, 170, 240), cv::FILLED);
  }
  return out;
}

UntouchedBorder untouched_border(const at::Tensor& diff) {
  const auto moved = dhw_on_cpu(diff, at::kDouble).abs().sum(0) > 0;  // (H, W)
  UntouchedBorder border;
  if (!moved.any().item<bool>()) return border;
  const auto rows_moved = moved.any(1), cols_moved = moved.any(0);
  while (border.rows < rows_moved.size(0) && !rows_moved[-1 - border.rows].item<bool>())
    ++border.rows;
  while (border.cols < cols_moved.size(0) && !cols_moved[-1 - border.cols].item<bool>())
    ++border.cols;
  return border;
}

namespace {

std::string layer_name(const MontageContent& c, int z) {
  return z < static_cast<int>(c.layer_numbers.size()) ? std::to_string(c.layer_numbers[z])
                                                      : std::to_string(z);
}

std::string plural(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::vector<std::string> montage_notes(const MontageContent& c) {
  std::vector<std::string> notes;
  const int depth = static_cast<int>(dhw_on_cpu(c.start).size(0));
  const auto slices = montage_slices(depth, c.max_rows);
  if (static_cast<int>(slices.size()) < depth) {
    std::string shown;
    for (const int z : slices)
      shown += (shown.empty() ? "" : ", ") + layer_name(c, z);
    notes.push_back(std::to_string(slices.size()) + " of " + std::to_string(depth) +
                    " layers shown (" + shown + "); every layer is in start/, result/, diff/");
  }
  const auto border = untouched_border(c.result - c.start);
  if (border.rows > 0 || border.cols > 0) {
    std::string edge;
    if (border.rows > 0) edge = "the last " + plural(border.rows, "row", "rows");
    if (border.cols > 0)
      edge += (edge.empty() ? "the last " : " and ") + plural(border.cols, "column", "columns");
    notes.push_back(edge + " never change: the model's output does not depend on them");
  }
  return notes;
}

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
  const auto start = dhw_on_cpu(c.start);
  const auto result = dhw_on_cpu(c.result);
  const auto diff = result - start;
  const int depth = static_cast<int>(start.size(0));
  const int h = static_cast<int>(start.size(1)), w = static_cast<int>(start.size(2));
  const int tile_w = w * zoom(h, w), tile_h = h * zoom(h, w);
  const auto slices = montage_slices(depth, c.max_rows);
  const int rows = static_cast<int>(slices.size());
  const int width = label_width + 3 * (tile_w + gap) + gap;
  std::vector<std::string> lines = c.caption;
  for (auto& note : montage_notes(c))
    lines.push_back(std::move(note));
  // One line for the colour bar's numbers, one for the grey scale, then the caption.
  const int caption_height = (static_cast<int>(lines.size()) + 2) * line_height + gap;
  const bool extras = c.ink_before.defined() || !c.depth_profile.empty();
  const int extras_height = extras ? header_height + tile_h + gap : 0;
  const int height = header_height + rows * (tile_h + gap) + extras_height + caption_height + 16;
  int widest = 0;
  for (const auto& line : lines)
    widest = std::max(widest, text_width(line));
  cv::Mat canvas = montage_style::canvas(height, std::max({width, widest, 420}));

  const int col[3] = {label_width, label_width + tile_w + gap, label_width + 2 * (tile_w + gap)};
  text(canvas, c.layer_numbers.empty() ? "z" : "layer", 6, 18);
  text(canvas, "start", col[0], 18);
  text(canvas, "result", col[1], 18);
  text(canvas, "diff (+-" + number(c.diff_scale) + ")", col[2], 18);
  for (int r = 0; r < rows; ++r) {
    const int z = slices[r];
    const int y = header_height + r * (tile_h + gap);
    text(canvas, layer_name(c, z), 6, y + tile_h / 2 + 5);
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
  int y = header_height + rows * (tile_h + gap);
  if (extras) {
    const int middle = depth / 2;
    if (c.ink_before.defined()) {
      // A model with one score per crop has no map to paint: its score is written instead.
      const bool scalar = c.ink_before.numel() == 1;
      text(canvas, "ink before", col[0], y + 18);
      text(canvas, "after, layer " + layer_name(c, middle), col[1], y + 18);
      const at::Tensor* maps[2] = {&c.ink_before, &c.ink_after};
      const at::Tensor* volumes[2] = {&start, &result};
      for (int i = 0; i < 2; ++i) {
        const cv::Rect tile(col[i], y + header_height, tile_w, tile_h);
        const at::Tensor slice = volumes[i]->select(0, middle);
        ink_overlay(slice, scalar ? at::zeros({1, 1}) : *maps[i], c.lo, c.hi, tile_w, tile_h)
            .copyTo(canvas(tile));
        if (scalar) {
          cv::rectangle(canvas, {tile.x, tile.y + tile_h / 2 - 16},
                        {tile.x + tile_w - 1, tile.y + tile_h / 2 + 8}, cv::Scalar(38, 38, 38),
                        cv::FILLED);
          text(canvas, "p = " + fixed(maps[i]->item<double>(), 4), tile.x + 6,
               tile.y + tile_h / 2 + 2);
        }
      }
    }
    if (!c.depth_profile.empty()) {
      const double top = *std::max_element(c.depth_profile.begin(), c.depth_profile.end());
      text(canvas, "|diff| 0.." + number(top), col[2], y + 18);
      profile_plot(c.depth_profile, tile_w, tile_h)
          .copyTo(canvas(cv::Rect(col[2], y + header_height, tile_w, tile_h)));
      // Its depth axis: the first and the last layer, at the ends of the bars.
      text(canvas, layer_name(c, 0), col[2] + 3, y + header_height + 13);
      text(canvas, layer_name(c, depth - 1), col[2] + 3, y + header_height + tile_h - 4);
    }
    y += extras_height;
  }
  // A colour bar for the diff with its numbers and the grey scale's meaning, then the caption.
  y += 4;
  const int bar_w = std::min(tile_w, 200);
  colour_bar(canvas, col[2], y, bar_w);
  // Its ends in numbers (white, the middle, is 0).
  text(canvas, "-" + number(c.diff_scale), col[2], y + 24);
  const std::string plus = "+" + number(c.diff_scale);
  text(canvas, plus, col[2] + bar_w - text_width(plus) + 12, y + 24);
  text(canvas, "grey: " + number(c.lo) + " (black) .. " + number(c.hi) + " (white)", col[0],
       y + 10);
  y += 16 + 2 * line_height;
  for (const auto& line : lines) {
    text(canvas, line, 6, y);
    y += line_height;
  }
  write_image_atomically(path, canvas);
}

}  // namespace inkgen
