#pragma once

#include <ATen/core/Tensor.h>

namespace inkgen {

// Separable Gaussian blur of volumes (..., D, H, W) over their last three axes, with edges
// replicated (a zero border would darken the faces of the volume). A sigma of 0 leaves that axis
// alone. Differentiable; runs on the tensor's device.
at::Tensor gaussian_blur_3d(const at::Tensor& volume, double sigma_depth, double sigma_plane);

}  // namespace inkgen
