#pragma once

#include <cstdint>

#include "inkgen/model/ink_model.hpp"

namespace inkgen {

// Multiply-accumulates of the convolutions and matrix products in one forward pass of a batch of
// `batch` samples, counted from the shapes the operators actually see (LibTorch's RecordFunction
// hooks), so that any TorchScript model can be measured without knowing its architecture.
std::int64_t forward_macs(const InkModel& model, int batch = 1);

struct ForwardCounts {
  std::int64_t macs = 0;
  // Values of the tensors that convolutions and matrix products take in: what autograd keeps
  // for their backward, so the bulk of a training-style step's activation memory.
  std::int64_t operand_values = 0;
};
// Both counts of one forward pass, from the same hooks.
ForwardCounts count_forward(const InkModel& model, int batch = 1);

}  // namespace inkgen
