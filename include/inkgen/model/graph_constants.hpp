#pragma once

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>

#include <array>
#include <cstdint>
#include <optional>

namespace inkgen {

// A graph input that is a constant list of three ints (a 3D kernel, stride or padding), if it is.
inline std::optional<std::array<std::int64_t, 3>> three_ints(torch::jit::Value* value) {
  const auto constant = torch::jit::toIValue(value);
  if (!constant || !constant->isIntList()) return std::nullopt;
  const auto ints = constant->toIntVector();
  if (ints.size() != 3) return std::nullopt;
  return std::array<std::int64_t, 3>{ints[0], ints[1], ints[2]};
}

}  // namespace inkgen
