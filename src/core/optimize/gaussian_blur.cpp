#include "inkgen/optimize/gaussian_blur.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

namespace inkgen {

namespace {

at::Tensor kernel_1d(double sigma, const at::TensorOptions& options) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  std::vector<float> k(2 * radius + 1);
  double sum = 0;
  for (int i = -radius; i <= radius; ++i)
    sum += k[i + radius] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma)));
  for (auto& v : k)
    v = static_cast<float>(v / sum);
  return at::tensor(k).to(options);
}

// Blurs along one spatial axis (2 = D, 3 = H, 4 = W of the (N*C, 1, D, H, W) view).
at::Tensor blur_axis(const at::Tensor& x, double sigma, int axis) {
  if (sigma <= 0) return x;
  const auto k = kernel_1d(sigma, x.options());
  const int64_t r = (k.size(0) - 1) / 2;
  std::vector<int64_t> shape{1, 1, 1, 1, 1};
  shape[axis] = k.size(0);
  std::vector<int64_t> pad(6, 0);  // W, H, D pairs, innermost first
  pad[2 * (4 - axis)] = r;
  pad[2 * (4 - axis) + 1] = r;
  return at::conv3d(at::replication_pad3d(x, pad), k.reshape(shape));
}

}  // namespace

at::Tensor gaussian_blur_3d(const at::Tensor& volume, double sigma_depth, double sigma_plane) {
  const auto sizes = volume.sizes().vec();
  const auto n = sizes.size();
  auto x = volume.reshape({-1, 1, sizes[n - 3], sizes[n - 2], sizes[n - 1]});
  x = blur_axis(x, sigma_depth, 2);
  x = blur_axis(x, sigma_plane, 3);
  x = blur_axis(x, sigma_plane, 4);
  return x.reshape(sizes);
}

}  // namespace inkgen
