#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace inkgen {

// What the optimizer moves. `pixel`: the voxels themselves. `fourier`: the coefficients of a 3D
// real FFT over (D, H, W), scaled by 1 / max(f, 1/N)^decay (f in cycles per voxel, N the longest
// side), so that a step of the same size moves low frequencies most: the result is built from
// broad shapes first instead of the voxel-level noise a model also responds to (as Lucid does
// for 2D images).
enum class ParamKind { pixel, fourier };
ParamKind parse_param_kind(const std::string& text);
const char* to_string(ParamKind kind);

// How a Fourier volume is kept inside the card's valid range [lo, hi].
enum class FourierRange {
  sigmoid,             // x = lo + (hi - lo) * sigmoid(irfft(...)): for noise starts
  clamp_around_start,  // x = clamp(start + irfft(...), lo, hi): for real crops, which start
                       // unchanged
};

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
