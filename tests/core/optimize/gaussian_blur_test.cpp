#include "inkgen/optimize/gaussian_blur.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace inkgen {
namespace {

TEST(GaussianBlur, KeepsConstantsAndTheMean) {
  const auto flat = at::full({1, 1, 5, 9, 9}, 0.7f);
  EXPECT_TRUE(at::allclose(gaussian_blur_3d(flat, 1.0, 1.0), flat));
  auto impulse = at::zeros({1, 1, 9, 15, 15});
  impulse[0][0][4][7][7] = 1.0f;
  const auto blurred = gaussian_blur_3d(impulse, 1.0, 1.0);
  EXPECT_NEAR(blurred.sum().item<double>(), 1.0, 1e-5);
  EXPECT_LT(blurred.max().item<double>(), 0.1);
  EXPECT_EQ(blurred.sizes(), impulse.sizes());
}

TEST(GaussianBlur, ZeroSigmaLeavesAnAxisAlone) {
  auto impulse = at::zeros({1, 1, 5, 9, 9});
  impulse[0][0][2][4][4] = 1.0f;
  const auto only_plane = gaussian_blur_3d(impulse, 0.0, 1.0);
  EXPECT_NEAR(only_plane[0][0][2].sum().item<double>(), 1.0,
              1e-5);  // nothing leaked to other layers
  EXPECT_NEAR(only_plane[0][0][1].abs().sum().item<double>(), 0.0, 1e-7);
}

TEST(GaussianBlur, AcceptsFourDimensionalVolumes) {
  const auto v = at::rand({1, 4, 8, 8});
  EXPECT_EQ(gaussian_blur_3d(v, 0.5, 0.5).sizes(), v.sizes());
}

}  // namespace
}  // namespace inkgen
