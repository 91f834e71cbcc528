#include "inkgen/optimize/volume_tensor.hpp"

#include <ATen/ATen.h>

namespace inkgen {

at::Tensor to_model_scale(const RawVolume& raw, const ValueScale& scale) {
  auto out = at::empty({1, raw.depth, raw.height, raw.width}, at::kFloat);
  float* p = out.data_ptr<float>();
  for (std::size_t i = 0; i < raw.voxels.size(); ++i)
    p[i] = scale.to_model(raw.voxels[i]);
  return out;
}

RawVolume to_raw_volume(const at::Tensor& volume, const ValueScale& scale) {
  const auto v = volume.detach().to(at::kCPU, at::kDouble).contiguous();
  const auto sizes = v.sizes();
  const auto n = sizes.size();
  RawVolume raw;
  raw.depth = static_cast<int>(sizes[n - 3]);
  raw.height = static_cast<int>(sizes[n - 2]);
  raw.width = static_cast<int>(sizes[n - 1]);
  raw.voxels.resize(static_cast<std::size_t>(v.numel()));
  const double* p = v.data_ptr<double>();
  for (std::size_t i = 0; i < raw.voxels.size(); ++i)
    raw.voxels[i] = scale.to_raw16(p[i]);
  return raw;
}

at::Tensor dhw_on_cpu(const at::Tensor& volume, at::ScalarType type) {
  at::Tensor v = volume;
  while (v.dim() > 3)
    v = v.select(0, 0);
  return v.to(at::kCPU, type);
}

std::vector<double> to_doubles(const at::Tensor& t) {
  const auto v = t.to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

}  // namespace inkgen
