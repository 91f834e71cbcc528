#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <opencv2/core/mat.hpp>

namespace inkgen {

// One slice (H, W) as an 8-bit picture on a fixed scale: lo -> 0, hi -> 255, linear, clipped.
// Every slice of every volume of a run uses the same lo and hi (the card's valid range), so that
// grey levels can be compared between slices, runs and models of one scale; never per-slice
// min-max, which made the research script's pictures incomparable.
cv::Mat slice_to_gray8(const at::Tensor& slice, double lo, double hi);

// dir/NN.png for each depth slice of a (1, D, H, W) or (D, H, W) volume, on that scale.
void write_slice_stack(const std::filesystem::path& dir, const at::Tensor& volume, double lo,
                       double hi);

}  // namespace inkgen
