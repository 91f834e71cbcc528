#pragma once

#include <ATen/core/Tensor.h>

#include "inkgen/raw_volume.hpp"
#include "inkgen/value_scale.hpp"

namespace inkgen {

// Raw segment values -> a (1, D, H, W) float32 volume on the model's scale (one channel).
at::Tensor to_model_scale(const RawVolume& raw, const ValueScale& scale);

// A (1, D, H, W) or (D, H, W) volume on the model's scale -> raw 16-bit values by the inverse of
// the rule, rounded to the nearest level the rule can represent.
RawVolume to_raw_volume(const at::Tensor& volume, const ValueScale& scale);

}  // namespace inkgen
