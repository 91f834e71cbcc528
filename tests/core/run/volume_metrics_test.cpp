#include "inkgen/run/volume_metrics.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "inkgen/optimize/gaussian_blur.hpp"

namespace inkgen {
namespace {

TEST(VolumeMetrics, DepthProfileIsTheMeanChangePerLayer) {
  const auto start = at::zeros({1, 3, 4, 4});
  auto result = start.clone();
  result[0][1].fill_(0.5);
  result[0][2][0][0] = -1.6f;  // one voxel of 16
  const auto profile = depth_profile(start, result);
  ASSERT_EQ(profile.size(), 3u);
  EXPECT_NEAR(profile[0], 0.0, 1e-9);
  EXPECT_NEAR(profile[1], 0.5, 1e-6);
  EXPECT_NEAR(profile[2], 0.1, 1e-6);
}

TEST(VolumeMetrics, LowFrequencyFractionSeparatesSmoothFromWhite) {
  at::manual_seed(1);
  const auto white = at::rand({1, 16, 32, 32});
  const double w = low_frequency_fraction(white);
  // A quarter of Nyquist holds about (4/3) pi 0.25^3 / 8 of the cube's volume, 0.8%.
  EXPECT_LT(w, 0.03);
  const double smooth = low_frequency_fraction(gaussian_blur_3d(white.unsqueeze(0), 3.0, 3.0));
  EXPECT_GT(smooth, 0.9);
  EXPECT_DOUBLE_EQ(low_frequency_fraction(at::full({4, 8, 8}, 0.3)), 1.0);
}

TEST(VolumeMetrics, ASlowWaveIsLowAFastOneIsNot) {
  const auto x = at::arange(32, at::kDouble).reshape({1, 1, 32});
  const auto slow =
      at::sin(x * (2 * M_PI / 32)).expand({8, 32, 32}).contiguous();  // 1/32 cycles per voxel
  const auto fast =
      at::sin(x * (2 * M_PI / 4)).expand({8, 32, 32}).contiguous();  // 1/4: half of Nyquist
  EXPECT_GT(low_frequency_fraction(slow), 0.99);
  EXPECT_LT(low_frequency_fraction(fast), 0.05);
}

}  // namespace
}  // namespace inkgen
