#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "inkgen/options/optimize_options.hpp"

namespace inkgen {

// Moves the input volume against the gradient of the loss. Our own few lines rather than
// torch::optim: the parameter is the input, there is one of it, and the state stays on its device.
class UpdateRule {
 public:
  explicit UpdateRule(const UpdateRuleOptions& options) : options_(options) {}
  // x <- x - step(grad), in place, without autograd.
  void apply(at::Tensor& x, const at::Tensor& grad);
  const UpdateRuleOptions& options() const { return options_; }

 private:
  UpdateRuleOptions options_;
  at::Tensor m_, v_;  // Adam's moments
  long t_ = 0;
};

}  // namespace inkgen
