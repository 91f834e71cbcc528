#include "inkgen/optimize/update_rule.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

TEST(UpdateRule, AdamFirstStepMovesByLrAgainstTheGradientSign) {
  UpdateRule rule({OptimizerKind::adam, 0.01});
  auto x = at::zeros({3});
  rule.apply(x, at::tensor({2.0f, -0.5f, 0.0f}));
  // With bias correction the first Adam step is lr * g / (|g| + eps).
  EXPECT_NEAR(x[0].item<double>(), -0.01, 1e-6);
  EXPECT_NEAR(x[1].item<double>(), 0.01, 1e-6);
  EXPECT_NEAR(x[2].item<double>(), 0.0, 1e-9);
}

TEST(UpdateRule, NormalizedStepsMoveEachStartByLrTimesTheRootOfItsVoxels) {
  UpdateRule rule({OptimizerKind::ngd, 0.01});
  auto x = at::zeros({2, 1, 2, 3, 4});
  auto g = at::randn({2, 1, 2, 3, 4});
  g[1].mul_(1000);  // a start's step does not depend on its gradient's size, nor on the other's
  rule.apply(x, g);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NEAR(x[i].norm().item<double>(), 0.01 * std::sqrt(24.0), 1e-6);
    const double cosine = (x[i] * g[i]).sum().item<double>() /
                          (x[i].norm().item<double>() * g[i].norm().item<double>());
    EXPECT_NEAR(cosine, -1.0, 1e-5);  // straight against the gradient
  }
  auto still = at::zeros({1, 4});
  rule.apply(still, at::zeros({1, 4}));  // a zero gradient moves nothing (no division by zero)
  EXPECT_EQ(still.abs().sum().item<double>(), 0.0);
}

TEST(UpdateRule, AdamMatchesItsFormulaOverSteps) {
  UpdateRuleOptions o{OptimizerKind::adam, 0.1};
  UpdateRule rule(o);
  auto x = at::zeros({1});
  double m = 0, v = 0, ref = 0;
  const double grads[] = {1.0, -2.0, 0.5, 3.0};
  for (int t = 1; t <= 4; ++t) {
    const double g = grads[t - 1];
    rule.apply(x, at::tensor({static_cast<float>(g)}));
    m = o.beta1 * m + (1 - o.beta1) * g;
    v = o.beta2 * v + (1 - o.beta2) * g * g;
    ref -= o.lr * (m / (1 - std::pow(o.beta1, t))) /
           (std::sqrt(v / (1 - std::pow(o.beta2, t))) + o.eps);
    EXPECT_NEAR(x.item<double>(), ref, 1e-6) << "step " << t;
  }
}

TEST(UpdateRule, SgdAndTheResearchScriptsRule) {
  auto x = at::full({2}, 1.0f);
  UpdateRule({OptimizerKind::sgd, 0.5}).apply(x, at::tensor({1.0f, -1.0f}));
  EXPECT_TRUE(at::allclose(x, at::tensor({0.5f, 1.5f})));

  auto y = at::full({1}, 1.0f);
  UpdateRuleOptions seed{OptimizerKind::seed, 1e4};
  seed.decay = 0.2;
  UpdateRule(seed).apply(y, at::tensor({1e-5f}));
  EXPECT_NEAR(y.item<double>(), (1.0 - 1e4 * 1e-5) * 0.8, 1e-6);
}

TEST(UpdateRule, NamesAndDefaults) {
  EXPECT_EQ(parse_optimizer_kind("seed"), OptimizerKind::seed);
  EXPECT_THROW(parse_optimizer_kind("lbfgs"), Error);
  EXPECT_DOUBLE_EQ(default_learning_rate(OptimizerKind::adam), 0.01);
  EXPECT_DOUBLE_EQ(default_learning_rate(OptimizerKind::seed), 1e4);
}

}  // namespace
}  // namespace inkgen
