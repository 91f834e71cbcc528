#include "inkgen/volume_metrics.hpp"

#include <ATen/ATen.h>

namespace inkgen {

namespace {

// (D, H, W) of a volume given as (D, H, W), (1, D, H, W) or (1, 1, D, H, W).
at::Tensor as_dhw(const at::Tensor& v) {
  return v.reshape({v.size(-3), v.size(-2), v.size(-1)}).to(at::kCPU, at::kDouble);
}

}  // namespace

std::vector<double> depth_profile(const at::Tensor& start, const at::Tensor& result) {
  const auto change = (as_dhw(result) - as_dhw(start)).abs().mean({1, 2}).contiguous();
  return std::vector<double>(change.data_ptr<double>(), change.data_ptr<double>() + change.numel());
}

double low_frequency_fraction(const at::Tensor& volume, double fraction_of_nyquist) {
  auto v = as_dhw(volume);
  v = v - v.mean();
  // Mirrored along each axis, the volume's periodic continuation has no jumps between opposite
  // faces (the DCT's view of it), so a smooth volume shows no edge energy at high frequencies.
  for (int64_t axis = 0; axis < 3; ++axis)
    v = at::cat({v, v.flip({axis})}, axis);
  const int64_t d = v.size(0), h = v.size(1), w = v.size(2);
  const auto power = at::fft_rfftn(v, c10::nullopt, std::vector<int64_t>{0, 1, 2}).abs().pow(2);
  const auto options = at::TensorOptions().dtype(at::kDouble);
  const auto fz = at::fft_fftfreq(d, 1.0, options).reshape({d, 1, 1});
  const auto fy = at::fft_fftfreq(h, 1.0, options).reshape({1, h, 1});
  const auto fx = at::fft_rfftfreq(w, 1.0, options).reshape({1, 1, w / 2 + 1});
  const auto radius = (fz * fz + fy * fy + fx * fx).sqrt() / 0.5;  // in units of Nyquist
  // The half spectrum holds the coefficients of x > 0 once for two, except x = 0 and Nyquist;
  // the weights make the fraction that of the full spectrum.
  auto weight = at::full({1, 1, w / 2 + 1}, 2.0, options);
  weight.select(2, 0).fill_(1.0);
  weight.select(2, w / 2).fill_(1.0);  // w is even after mirroring
  const auto weighted = power * weight;
  const double total = weighted.sum().item<double>();
  if (total <= 0) return 1.0;  // a constant volume has no detail at all
  return (weighted * (radius < fraction_of_nyquist)).sum().item<double>() / total;
}

}  // namespace inkgen
