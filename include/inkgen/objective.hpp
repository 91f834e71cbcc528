#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "inkgen/optimize_options.hpp"

namespace inkgen {



// The per-sample loss (N,) that a step descends, from the output's per-cell ink logits (N, M).
at::Tensor sample_loss(const at::Tensor& cell_logits, Objective objective, Direction direction);

}  // namespace inkgen
