#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

namespace inkgen {

// What one montage shows: start, result and diff slices side by side, with labels.
struct MontageContent {
  at::Tensor start;   // (1, D, H, W) or (D, H, W), model scale
  at::Tensor result;  // same shape
  double lo = 0.0;    // the fixed grey scale of start and result (the card's valid range)
  double hi = 1.0;
  double diff_scale = 1.0;           // the symmetric scale of the diff colours
  std::vector<std::string> caption;  // lines under the picture (model, mode, scores)
  int max_rows = 8;                  // at most this many slices, evenly spaced through the depth
  at::Tensor ink_before;             // (h, w) ink probability maps of the model; undefined: none
  at::Tensor ink_after;
  std::vector<double> depth_profile;  // mean |diff| per layer; empty: none
  std::vector<int> layer_numbers;  // the segment's layer of each slice; empty: the window's index
};

// Rows and columns at the bottom and right edges of a (D, H, W) diff that never change, in any
// slice, while something else does: the part of a crop the model's output does not depend on
// (its stride or padding leaves it unread). {0, 0} when none, or when nothing changed at all.
struct UntouchedBorder {
  int rows = 0;
  int cols = 0;
};
UntouchedBorder untouched_border(const at::Tensor& diff);

// The lines a montage adds under its caption: which slices it shows when not all, and an
// untouched border explained.
std::vector<std::string> montage_notes(const MontageContent& content);

// Writes the montage as one PNG, atomically.
void write_montage(const std::filesystem::path& path, const MontageContent& content);

// The depth slices a montage of `depth` slices shows: all when they fit, else evenly spaced.
std::vector<int> montage_slices(int depth, int max_rows);

// The look every montage shares (a run's montage.png, an attribution's): drawn by these, so
// that inkgen's pictures read alike.
namespace montage_style {
constexpr int gap = 6;             // between tiles
constexpr int label_width = 56;    // the "z=N" labels left of the tiles
constexpr int header_height = 26;  // a row of titles above tiles
constexpr int line_height = 18;    // a caption line
// A blank montage of this size in the background colour.
cv::Mat canvas(int height, int width);
void text(cv::Mat& canvas, const std::string& s, int x, int baseline_y);
// The width `text` draws `s` with, plus a margin.
int text_width(const std::string& s);
std::string number(double v);             // "%.3g"
std::string fixed(double v, int digits);  // "%.<digits>f", for scores in captions
// The diff colours' bar, blue (-1) .. white (0) .. red (+1), `width` x 9 pixels from (x, y).
void colour_bar(cv::Mat& canvas, int x, int y, int width);
// How much a h x w slice is enlarged (nearest neighbour, voxels stay visible): to >= 128 px.
int zoom(int h, int w);
}  // namespace montage_style

// A depth profile (mean |change| per layer) as horizontal bars in a tile_w x tile_h BGR picture,
// layer 0 at the top like the slices beside it.
cv::Mat profile_plot(const std::vector<double>& profile, int tile_w, int tile_h);

}  // namespace inkgen
