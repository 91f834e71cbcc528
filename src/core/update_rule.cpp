#include "inkgen/update_rule.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "inkgen/error.hpp"

namespace inkgen {

OptimizerKind parse_optimizer_kind(const std::string& text) {
  if (text == "adam") return OptimizerKind::adam;
  if (text == "sgd") return OptimizerKind::sgd;
  if (text == "seed") return OptimizerKind::seed;
  throw Error(ErrorKind::usage, "--optimizer '" + text + "' is unknown; use adam, sgd or seed");
}

const char* to_string(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::adam:
      return "adam";
    case OptimizerKind::sgd:
      return "sgd";
    case OptimizerKind::seed:
      return "seed";
  }
  return "adam";
}

double default_learning_rate(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::adam:
      return 0.01;  // a hundredth of a 0..1 input range per step at most
    case OptimizerKind::sgd:
      return 1.0;
    case OptimizerKind::seed:
      return 1e4;  // the research script's value, for its mean-over-batch loss
  }
  return 0.01;
}

void UpdateRule::apply(at::Tensor& x, const at::Tensor& grad) {
  at::NoGradGuard no_grad;
  switch (options_.kind) {
    case OptimizerKind::adam: {
      if (!m_.defined()) {
        m_ = at::zeros_like(x);
        v_ = at::zeros_like(x);
      }
      ++t_;
      m_.mul_(options_.beta1).add_(grad, 1.0 - options_.beta1);
      v_.mul_(options_.beta2).addcmul_(grad, grad, 1.0 - options_.beta2);
      const double c1 = 1.0 - std::pow(options_.beta1, static_cast<double>(t_));
      const double c2 = 1.0 - std::pow(options_.beta2, static_cast<double>(t_));
      const auto denominator = (v_ / c2).sqrt_().add_(options_.eps);
      x.addcdiv_(m_, denominator, -options_.lr / c1);
      return;
    }
    case OptimizerKind::sgd:
      x.add_(grad, -options_.lr);
      return;
    case OptimizerKind::seed:
      x.add_(grad, -options_.lr).mul_(1.0 - options_.decay);
      return;
  }
}

}  // namespace inkgen
