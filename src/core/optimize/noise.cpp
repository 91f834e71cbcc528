#include "inkgen/optimize/noise.hpp"

#include <ATen/ATen.h>

#include <random>

#include "inkgen/common/error.hpp"
#include "inkgen/optimize/gaussian_blur.hpp"

namespace inkgen {

at::Tensor make_noise(NoiseKind kind, const std::vector<std::int64_t>& shape, double lo, double hi,
                      std::uint64_t seed) {
  auto out = at::empty(shape, at::kFloat);
  float* p = out.data_ptr<float>();
  const auto n = out.numel();
  std::mt19937_64 rng(seed);
  if (kind == NoiseKind::uniform) {
    std::uniform_real_distribution<double> u(lo, hi);
    for (int64_t i = 0; i < n; ++i)
      p[i] = static_cast<float>(u(rng));
    return out;
  }
  std::normal_distribution<double> g(0.0, 1.0);
  for (int64_t i = 0; i < n; ++i)
    p[i] = static_cast<float>(g(rng));
  if (kind == NoiseKind::smooth) {
    out = gaussian_blur_3d(out, 1.0, 2.0);
    // Blurring shrinks the spread; bring it back to unit deviation so that the range is used.
    out = out / out.std().clamp_min(1e-12);
  }
  const double mid = 0.5 * (lo + hi), sigma = (hi - lo) / 6.0;
  return (out * sigma + mid).clamp(lo, hi);
}

}  // namespace inkgen
