#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core/mat.hpp>

namespace inkgen {

// What had to change: result minus start, on the model's input scale.
struct DiffSummary {
  double scale = 0.0;        // the symmetric colour scale: +scale is full red, -scale full blue
  double max_added = 0.0;    // largest increase
  double max_removed = 0.0;  // largest decrease (a positive number)
  double mean_abs = 0.0;
  nlohmann::json to_json() const;
};

DiffSummary summarize_diff(const at::Tensor& diff);

// A diverging colour picture (BGR) of one diff slice: blue = removed, white = unchanged,
// red = added, on the symmetric scale [-scale, scale].
cv::Mat diff_to_colour(const at::Tensor& slice, double scale);

// Writes out_dir/diff/NN.png (one colour scale for the whole volume) and out_dir/diff.tif (the
// exact values, float32, one page per slice). Volumes are (1, D, H, W) or (D, H, W).
DiffSummary write_diff(const std::filesystem::path& out_dir, const at::Tensor& start,
                       const at::Tensor& result);

// A multi-page float32 TIFF, one page per depth slice of a (D, H, W) volume; atomically.
void write_float_tiff_stack(const std::filesystem::path& path, const at::Tensor& volume);

}  // namespace inkgen
