#include "inkgen/optimize/noise.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

// Energy of voxel-to-voxel differences relative to the variance: high for white noise, low for
// smooth noise.
double roughness(const at::Tensor& v) {
  const auto dx = v.narrow(-1, 1, v.size(-1) - 1) - v.narrow(-1, 0, v.size(-1) - 1);
  return dx.pow(2).mean().item<double>() / v.var().item<double>();
}

TEST(Noise, StaysInTheRangeForEveryKind) {
  for (const auto kind : {NoiseKind::uniform, NoiseKind::gaussian, NoiseKind::smooth}) {
    const auto v = make_noise(kind, {1, 6, 20, 20}, 0.2, 0.6, 3);
    EXPECT_EQ(v.sizes().vec(), (std::vector<int64_t>{1, 6, 20, 20}));
    EXPECT_GE(v.min().item<double>(), 0.2 - 1e-6) << to_string(kind);
    EXPECT_LE(v.max().item<double>(), 0.6 + 1e-6) << to_string(kind);
    EXPECT_GT(v.std().item<double>(), 0.02) << to_string(kind);  // the range is used
  }
}

TEST(Noise, SameSeedSameNoiseOtherSeedOther) {
  const auto a = make_noise(NoiseKind::uniform, {1, 4, 8, 8}, 0, 1, 42);
  EXPECT_TRUE(at::equal(a, make_noise(NoiseKind::uniform, {1, 4, 8, 8}, 0, 1, 42)));
  EXPECT_FALSE(at::equal(a, make_noise(NoiseKind::uniform, {1, 4, 8, 8}, 0, 1, 43)));
}

TEST(Noise, UniformIsFlatAndGaussianCentred) {
  const auto u = make_noise(NoiseKind::uniform, {1, 8, 64, 64}, 0, 1, 1);
  EXPECT_NEAR(u.mean().item<double>(), 0.5, 0.01);
  EXPECT_NEAR(u.var().item<double>(), 1.0 / 12, 0.005);
  const auto g = make_noise(NoiseKind::gaussian, {1, 8, 64, 64}, 0, 1, 1);
  EXPECT_NEAR(g.mean().item<double>(), 0.5, 0.01);
  EXPECT_NEAR(g.std().item<double>(), 1.0 / 6, 0.01);
}

TEST(Noise, SmoothNoiseIsLowPass) {
  const auto u = make_noise(NoiseKind::uniform, {1, 8, 64, 64}, 0, 1, 1);
  const auto s = make_noise(NoiseKind::smooth, {1, 8, 64, 64}, 0, 1, 1);
  EXPECT_GT(roughness(u), 1.5);
  EXPECT_LT(roughness(s), 0.3);
}

TEST(Noise, UnknownKind) {
  EXPECT_THROW(parse_noise_kind("pink"), Error);
}

}  // namespace
}  // namespace inkgen
