#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "inkgen/options/optimize_options.hpp"

namespace inkgen {

// A noise volume of the given shape on the CPU with values in [lo, hi]. Drawn with our own
// generator from `seed`, so the same seed gives the same start on every device and LibTorch
// version.
at::Tensor make_noise(NoiseKind kind, const std::vector<std::int64_t>& shape, double lo, double hi,
                      std::uint64_t seed);

}  // namespace inkgen
