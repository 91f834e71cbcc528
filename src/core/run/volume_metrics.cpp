#include "inkgen/run/volume_metrics.hpp"

#include <ATen/ATen.h>

#include "inkgen/optimize/volume_tensor.hpp"

namespace inkgen {

std::vector<double> depth_profile(const at::Tensor& start, const at::Tensor& result) {
  return to_doubles(
      (dhw_on_cpu(result, at::kDouble) - dhw_on_cpu(start, at::kDouble)).abs().mean({1, 2}));
}

double low_frequency_fraction(const at::Tensor& volume, double fraction_of_nyquist) {
  auto v = dhw_on_cpu(volume, at::kDouble);
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
