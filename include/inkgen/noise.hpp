#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace inkgen {

enum class NoiseKind {
  uniform,   // independent voxels, uniform over the range
  gaussian,  // independent voxels, centred in the range, 6 sigma wide, clipped to it
  smooth,    // low-pass noise (Gaussian-blurred, sigma 1 layer and 2 pixels), more like papyrus
};

NoiseKind parse_noise_kind(const std::string& text);
const char* to_string(NoiseKind kind);

// A noise volume of the given shape on the CPU with values in [lo, hi]. Drawn with our own
// generator from `seed`, so the same seed gives the same start on every device and LibTorch
// version.
at::Tensor make_noise(NoiseKind kind, const std::vector<std::int64_t>& shape, double lo, double hi,
                      std::uint64_t seed);

}  // namespace inkgen
