#include "inkgen/optimize/parameterization.hpp"

#include <ATen/ATen.h>

#include <algorithm>

#include "inkgen/common/error.hpp"

namespace inkgen {

namespace {

const std::vector<int64_t> spatial_dims{-3, -2, -1};

// |f| of every rfftn coefficient of a D x H x W volume, in cycles per voxel.
at::Tensor frequency_magnitude(int64_t d, int64_t h, int64_t w, const at::TensorOptions& options) {
  const auto fz = at::fft_fftfreq(d, 1.0, options).reshape({d, 1, 1});
  const auto fy = at::fft_fftfreq(h, 1.0, options).reshape({1, h, 1});
  const auto fx = at::fft_rfftfreq(w, 1.0, options).reshape({1, 1, w / 2 + 1});
  return (fz * fz + fy * fy + fx * fx).sqrt();
}

}  // namespace

Parameterization::Parameterization(ParamKind kind, const at::Tensor& start, double lo, double hi,
                                   FourierRange range, double decay)
    : kind_(kind), range_(range), lo_(lo), hi_(hi), start_(start) {
  if (kind_ == ParamKind::pixel) {
    initial_ = start.clone();
    return;
  }
  const auto d = start.size(-3), h = start.size(-2), w = start.size(-1);
  size_ = {d, h, w};
  const double longest = static_cast<double>(std::max({d, h, w}));
  const auto options = start.options().dtype(at::kFloat);
  scale_ = frequency_magnitude(d, h, w, options).clamp_min(1.0 / longest).pow(-decay);
  if (range_ == FourierRange::clamp_around_start) {
    // No change yet: all coefficients zero, the volume is the real crop.
    initial_ = at::zeros({start.size(0), start.size(1), d, h, w / 2 + 1, 2}, options);
    return;
  }
  // Invert x = lo + (hi - lo) * sigmoid(v): v = logit of the start, kept just inside (0, 1) so a
  // start at the range's edge does not need an infinite coefficient.
  const auto unit = ((start - lo) / (hi - lo)).clamp(1e-3, 1 - 1e-3);
  const auto v = at::log(unit / (1 - unit));
  initial_ = at::view_as_real(at::fft_rfftn(v, size_, spatial_dims, "ortho") / scale_).contiguous();
}

at::Tensor Parameterization::volume(const at::Tensor& theta) const {
  if (kind_ == ParamKind::pixel) return theta;
  const auto v = at::fft_irfftn(at::view_as_complex(theta) * scale_, size_, spatial_dims, "ortho");
  if (range_ == FourierRange::sigmoid) return lo_ + (hi_ - lo_) * at::sigmoid(v);
  return (start_ + v).clamp(lo_, hi_);
}

}  // namespace inkgen
