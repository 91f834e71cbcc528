#pragma once

#include <ATen/core/Tensor.h>

#include <random>
#include <string>

#include "inkgen/options/optimize_options.hpp"

namespace inkgen {

// Transformation robustness in 3D: before each forward pass the volume is padded and shifted by
// whole voxels in x, y and z (light), and also scaled a little and rotated about the depth axis
// (strong), at random, on its device. What the optimization then finds must work on any of these
// grids, not on one exact voxel pattern. Light shifts copy voxels exactly: a scaling or rotation
// resamples, which blurs, and a model that reads a film 1-2 layers thick or 4-voxel output cells
// (the bundled one) then sees a different volume from the one the run writes.

struct TransformRanges {
  int pad = 0;              // voxels of constant padding in x and y before transforming
  int shift_xy = 0;         // whole voxels, each direction
  int shift_z = 0;          // whole layers
  double scale = 0.0;       // relative, e.g. 0.05 = 95% .. 105%
  double rotate_deg = 0.0;  // about the depth axis
};
TransformRanges transform_ranges(Robustness robustness);

// A random transform of each sample of `volume` (N, C, D, H, W), drawn from `rng`; the output has
// the input's shape. `fill` is the value of the padding (the middle of the valid range).
// Differentiable with respect to the volume.
at::Tensor random_transform(const at::Tensor& volume, Robustness robustness, double fill,
                            std::mt19937_64& rng);

}  // namespace inkgen
