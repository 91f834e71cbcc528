#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <random>

#include "inkgen/optimize/robustness.hpp"

namespace inkgen {

// Per-sample penalties, shape (N,), differentiable.
at::Tensor l2_to_start(const at::Tensor& x, const at::Tensor& start);
at::Tensor total_variation_3d(const at::Tensor& x);
// The mean cosine similarity between the changes (x_i - start_i) of every pair of samples, a
// scalar: penalizing it makes the starts of one batch find different ways to (un)make ink.
// 0 for a batch of one.
at::Tensor diversity_penalty(const at::Tensor& x, const at::Tensor& start);

// A random circular shift by up to `max_shift` voxels along H and W, drawn from `rng`.
struct Shift {
  int64_t dy = 0;
  int64_t dx = 0;
};
Shift random_shift(int max_shift, std::mt19937_64& rng);
at::Tensor apply_shift(const at::Tensor& x, const Shift& shift);

}  // namespace inkgen
