#pragma once

#include <ATen/core/Tensor.h>

namespace inkgen {

// Per sample (dimension 0): every value shrunk towards 0 by `fraction` of the sample's largest
// |value|, and what is smaller set to 0. Keeps where a map is strong and drops its diffuse tail.
at::Tensor soft_threshold(const at::Tensor& x, double fraction);

// Per sample: the positive part when it holds at least as much mass as the negative part, else
// the negative part.
at::Tensor keep_dominant_sign(const at::Tensor& x);

}  // namespace inkgen
