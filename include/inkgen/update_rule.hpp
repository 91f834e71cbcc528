#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace inkgen {

enum class OptimizerKind {
  adam,  // Adam with bias correction; the default
  sgd,   // plain gradient steps
  seed,  // the original research script: x <- (x - lr * grad) * (1 - decay), loss averaged over the
         // batch
};

OptimizerKind parse_optimizer_kind(const std::string& text);
const char* to_string(OptimizerKind kind);
// The learning rate each optimizer uses when none is given (README "The optimization").
double default_learning_rate(OptimizerKind kind);

struct UpdateRuleOptions {
  OptimizerKind kind = OptimizerKind::adam;
  double lr = 0.01;
  double decay = 0.2;  // seed only
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

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
