#include "inkgen/optimize/soft_threshold.hpp"

#include <ATen/ATen.h>

#include <vector>

namespace inkgen {

namespace {

// A (N) tensor viewed as (N, 1, ..., 1) to broadcast against x.
at::Tensor per_sample(const at::Tensor& v, const at::Tensor& x) {
  std::vector<int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[0] = x.size(0);
  return v.reshape(shape);
}

}  // namespace

at::Tensor soft_threshold(const at::Tensor& x, double fraction) {
  const auto cut = per_sample(x.abs().reshape({x.size(0), -1}).amax(1) * fraction, x);
  return at::sign(x) * at::clamp_min(x.abs() - cut, 0.0);
}

at::Tensor keep_dominant_sign(const at::Tensor& x) {
  const auto flat = x.reshape({x.size(0), -1});
  const auto positive = per_sample(flat.clamp_min(0).sum(1) >= (-flat).clamp_min(0).sum(1), x);
  return at::where(positive, x.clamp_min(0), x.clamp_max(0));
}

}  // namespace inkgen
