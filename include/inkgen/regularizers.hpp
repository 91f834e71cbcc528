#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <random>

#include "inkgen/robustness.hpp"

namespace inkgen {

// What keeps a result readable rather than high-frequency noise the model happens to like. All
// off by default (README "Regularizers").
struct Regularizers {
  double l2 = 0.0;     // weight of the mean squared distance to the start, per sample
  double tv = 0.0;     // weight of the mean absolute 3D finite difference (total variation)
  int jitter = 0;      // shift the volume by up to this many voxels in x and y before each forward
  int blur_every = 0;  // blur the volume every this many steps (0: never)
  double blur_sigma = 0.5;              // in voxels, in D, H and W
  Robustness robust = Robustness::off;  // random 3D transforms before each forward
  double diversity = 0.0;  // weight of the similarity between the starts' changes (batch > 1)
};

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
