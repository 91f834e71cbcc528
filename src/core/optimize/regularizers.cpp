#include "inkgen/optimize/regularizers.hpp"

#include <ATen/ATen.h>

namespace inkgen {

at::Tensor l2_to_start(const at::Tensor& x, const at::Tensor& start) {
  return (x - start).pow(2).flatten(1).mean(1);
}

at::Tensor total_variation_3d(const at::Tensor& x) {
  const auto dz =
      (x.narrow(2, 1, x.size(2) - 1) - x.narrow(2, 0, x.size(2) - 1)).abs().flatten(1).mean(1);
  const auto dy =
      (x.narrow(3, 1, x.size(3) - 1) - x.narrow(3, 0, x.size(3) - 1)).abs().flatten(1).mean(1);
  const auto dx =
      (x.narrow(4, 1, x.size(4) - 1) - x.narrow(4, 0, x.size(4) - 1)).abs().flatten(1).mean(1);
  // A one-layer volume has no depth differences (mean of nothing is NaN).
  return (x.size(2) > 1 ? dz : at::zeros_like(dy)) + dy + dx;
}

at::Tensor diversity_penalty(const at::Tensor& x, const at::Tensor& start) {
  const int64_t n = x.size(0);
  if (n < 2) return at::zeros({}, x.options());
  const auto change = (x - start).flatten(1);
  // The epsilon keeps the gradient finite at the first step, when nothing has changed yet.
  const auto unit = change / (change.norm(2, {1}, true) + 1e-8);
  const auto similarity = at::mm(unit, unit.t());
  const auto off_diagonal = similarity.sum() - similarity.diagonal().sum();
  return off_diagonal / static_cast<double>(n * (n - 1));
}

Shift random_shift(int max_shift, std::mt19937_64& rng) {
  if (max_shift <= 0) return {};
  std::uniform_int_distribution<int> d(-max_shift, max_shift);
  const int dy = d(rng);
  return {dy, d(rng)};
}

at::Tensor apply_shift(const at::Tensor& x, const Shift& shift) {
  if (shift.dy == 0 && shift.dx == 0) return x;
  return at::roll(x, {shift.dy, shift.dx}, {3, 4});
}

}  // namespace inkgen
