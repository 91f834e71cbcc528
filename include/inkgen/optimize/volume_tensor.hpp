#pragma once

#include <ATen/core/Tensor.h>
#include <vector>

#include "inkgen/card/value_scale.hpp"
#include "inkgen/io/raw_volume.hpp"

namespace inkgen {

// Raw segment values -> a (1, D, H, W) float32 volume on the model's scale (one channel).
at::Tensor to_model_scale(const RawVolume& raw, const ValueScale& scale);

// A (1, D, H, W) or (D, H, W) volume on the model's scale -> raw 16-bit values by the inverse of
// the rule, rounded to the nearest level the rule can represent.
RawVolume to_raw_volume(const at::Tensor& volume, const ValueScale& scale);

// A (..., D, H, W) volume's first (D, H, W) on the CPU as `type`: the one volume that writers,
// metrics and pictures read from a start's (1, D, H, W) or a batch's first row.
at::Tensor dhw_on_cpu(const at::Tensor& volume, at::ScalarType type = at::kFloat);

// A tensor's values on the CPU as doubles, in row-major order.
std::vector<double> to_doubles(const at::Tensor& t);

}  // namespace inkgen
