#include "inkgen/optimize/update_rule.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>

#include "inkgen/common/error.hpp"

namespace inkgen {

void UpdateRule::apply(at::Tensor& x, const at::Tensor& grad) {
  c10::NoGradGuard no_grad;
  switch (options_.kind) {
    case OptimizerKind::ngd: {
      // Each start alone: its step is lr * sqrt(voxels) long, so lr is the RMS change of a voxel.
      const int64_t n = x.size(0);
      const auto flat = grad.reshape({n, -1});
      const double voxels = static_cast<double>(flat.size(1));
      const auto norm = flat.norm(2, {1}, true).clamp_min(1e-30);
      x.sub_((flat / norm).reshape(x.sizes()) * (options_.lr * std::sqrt(voxels)));
      return;
    }
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
