#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "inkgen/options/optimize_options.hpp"

namespace inkgen {

class Parameterization {
 public:
  // `start` is (N, C, D, H, W) on the device. The initial parameters give back `start` (within
  // float rounding for `sigmoid`, whose start is first clamped just inside the range).
  Parameterization(ParamKind kind, const at::Tensor& start, double lo, double hi,
                   FourierRange range, double decay);

  ParamKind kind() const { return kind_; }
  const at::Tensor& initial() const { return initial_; }
  // The volume the model sees for parameters `theta`; differentiable.
  at::Tensor volume(const at::Tensor& theta) const;

 private:
  ParamKind kind_;
  FourierRange range_;
  double lo_, hi_;
  at::Tensor start_;  // (N, C, D, H, W)
  at::Tensor scale_;  // (D, H, W/2+1): the spectrum's weights
  at::Tensor
      initial_;  // pixel: the start; fourier: (N, C, D, H, W/2+1, 2) real view of the coefficients
  std::vector<int64_t> size_;
};

}  // namespace inkgen
