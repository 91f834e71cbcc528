#pragma once

// Kept out of test_support.hpp, which the LibTorch-free memory-safety suite also compiles.
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "inkgen/model/ink_model.hpp"
#include "inkgen/optimize/start_volume.hpp"

namespace inkgen::test {

// `n` noise starts of the model's card stacked into one (n, C, D, H, W) batch.
inline at::Tensor noise_batch(const InkModel& m, int n, std::uint64_t seed) {
  std::vector<at::Tensor> v;
  for (const auto& s : noise_starts(m.card, n, {}, seed))
    v.push_back(s.values);
  return at::stack(v);
}

}  // namespace inkgen::test
