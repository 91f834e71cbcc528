#include "inkgen/optimize/soft_threshold.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace inkgen {
namespace {

TEST(SoftThreshold, ShrinksBySampleFractionOfItsOwnLargestValue) {
  const auto x = at::tensor({4.f, -2.f, 1.f, 10.f, -6.f, 2.f}).reshape({2, 3});
  // Cuts: 0.25 * 4 = 1 and 0.25 * 10 = 2.5.
  const auto t = soft_threshold(x, 0.25);
  EXPECT_TRUE(at::allclose(t, at::tensor({3.f, -1.f, 0.f, 7.5f, -3.5f, 0.f}).reshape({2, 3})));
  EXPECT_TRUE(at::equal(soft_threshold(x, 0.0), x));
}

TEST(SoftThreshold, DominantSignKeepsThePartWithMoreMassPerSample) {
  const auto x = at::tensor({3.f, -1.f, -1.f, 1.f, -1.f, -2.f}).reshape({2, 3});
  EXPECT_TRUE(at::equal(keep_dominant_sign(x),
                        at::tensor({3.f, 0.f, 0.f, 0.f, -1.f, -2.f}).reshape({2, 3})));
}

}  // namespace
}  // namespace inkgen
