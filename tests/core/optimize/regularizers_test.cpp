#include "inkgen/optimize/regularizers.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace inkgen {
namespace {

TEST(Regularizers, TotalVariationIsZeroOnlyForConstantVolumes) {
  const auto flat = at::full({2, 1, 4, 6, 6}, 0.3f);
  EXPECT_TRUE(at::allclose(total_variation_3d(flat), at::zeros({2})));
  auto ramp =
      at::arange(6, at::kFloat).reshape({1, 1, 1, 1, 6}).expand({1, 1, 4, 6, 6}).contiguous();
  // Only the x differences (all 1) count: mean over the 5 x-steps is 1.
  EXPECT_NEAR(total_variation_3d(ramp).item<double>(), 1.0, 1e-6);
}

TEST(Regularizers, L2ToStartPerSample) {
  const auto start = at::zeros({2, 1, 2, 2, 2});
  auto x = start.clone();
  x[1].fill_(0.5);
  const auto l2 = l2_to_start(x, start);
  EXPECT_NEAR(l2[0].item<double>(), 0.0, 1e-9);
  EXPECT_NEAR(l2[1].item<double>(), 0.25, 1e-6);
}

TEST(Regularizers, JitterShiftsWithinItsBoundAndReproducibly) {
  std::mt19937_64 a(5), b(5);
  for (int i = 0; i < 50; ++i) {
    const Shift s = random_shift(2, a);
    EXPECT_LE(std::abs(s.dy), 2);
    EXPECT_LE(std::abs(s.dx), 2);
    const Shift t = random_shift(2, b);
    EXPECT_EQ(s.dy, t.dy);
    EXPECT_EQ(s.dx, t.dx);
  }
  const auto x = at::arange(16, at::kFloat).reshape({1, 1, 1, 4, 4});
  const auto shifted = apply_shift(x, {1, 0});
  EXPECT_EQ(shifted[0][0][0][1][0].item<float>(), x[0][0][0][0][0].item<float>());
  EXPECT_TRUE(at::equal(apply_shift(x, {}), x));
}

TEST(Regularizers, DiversityIsTheMeanSimilarityOfTheChanges) {
  const auto start = at::zeros({3, 1, 2, 2, 2});
  auto same = start.clone();
  same += at::rand({1, 1, 2, 2, 2});  // three identical changes
  EXPECT_NEAR(diversity_penalty(same, start).item<double>(), 1.0, 1e-5);
  auto apart = start.clone();
  apart[0][0][0][0][0] = 1.0f;  // three orthogonal changes
  apart[1][0][0][0][1] = 1.0f;
  apart[2][0][0][1][0] = 2.0f;
  EXPECT_NEAR(diversity_penalty(apart, start).item<double>(), 0.0, 1e-6);
  EXPECT_EQ(diversity_penalty(same.narrow(0, 0, 1), start.narrow(0, 0, 1)).item<double>(), 0.0);
}

}  // namespace
}  // namespace inkgen
