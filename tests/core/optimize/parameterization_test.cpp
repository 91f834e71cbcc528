#include "inkgen/optimize/parameterization.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "inkgen/common/error.hpp"
#include "inkgen/run/volume_metrics.hpp"

namespace inkgen {
namespace {

TEST(Parameterization, PixelIsTheVolumeItself) {
  const auto start = at::rand({2, 1, 4, 8, 8});
  const Parameterization p(ParamKind::pixel, start, 0, 1, FourierRange::sigmoid, 1.0);
  EXPECT_TRUE(at::equal(p.volume(p.initial()), start));
}

TEST(Parameterization, FourierStartsWhereTheNoiseIs) {
  const auto start = at::rand({2, 1, 6, 10, 12}) * 0.6 + 0.1;  // inside (0, 0.8), off the edges
  const Parameterization p(ParamKind::fourier, start, 0.0, 0.8, FourierRange::sigmoid, 1.0);
  EXPECT_TRUE(at::allclose(p.volume(p.initial()), start, 1e-4, 1e-4));
  EXPECT_EQ(p.initial().sizes().vec(), (std::vector<int64_t>{2, 1, 6, 10, 7, 2}));
}

TEST(Parameterization, FourierAroundARealCropStartsUnchangedAndStaysInRange) {
  const auto start = at::rand({1, 1, 4, 8, 8});
  const Parameterization p(ParamKind::fourier, start, 0.0, 1.0, FourierRange::clamp_around_start,
                           1.0);
  EXPECT_TRUE(at::equal(p.volume(p.initial()), start));
  const auto moved = p.volume(p.initial() + at::randn(p.initial().sizes()) * 10);
  EXPECT_GE(moved.min().item<double>(), 0.0);
  EXPECT_LE(moved.max().item<double>(), 1.0);
  const Parameterization s(ParamKind::fourier, start, 0.2, 0.3, FourierRange::sigmoid, 1.0);
  const auto squashed = s.volume(at::randn(s.initial().sizes()) * 100);
  EXPECT_GE(squashed.min().item<double>(), 0.2 - 1e-6);
  EXPECT_LE(squashed.max().item<double>(), 0.3 + 1e-6);
}

TEST(Parameterization, EqualStepsOnTheCoefficientsMoveLowFrequenciesMost) {
  at::manual_seed(3);
  const auto start = at::full({1, 1, 16, 32, 32}, 0.5);
  const auto step = [&](ParamKind kind, double decay) {
    const Parameterization p(kind, start, 0.0, 1.0, FourierRange::clamp_around_start, decay);
    // A sign step, as Adam's first step is: the same size on every parameter.
    return p.volume(p.initial() + 0.001 * at::sign(at::randn(p.initial().sizes()))) - start;
  };
  const double pixel = low_frequency_fraction(step(ParamKind::pixel, 1.0));
  const double fourier = low_frequency_fraction(step(ParamKind::fourier, 1.0));
  const double steeper = low_frequency_fraction(step(ParamKind::fourier, 2.0));
  EXPECT_LT(pixel, 0.05);
  EXPECT_GT(fourier, 3 * pixel);
  EXPECT_GT(steeper, fourier);
}

TEST(Parameterization, IsDifferentiable) {
  const auto start = at::rand({1, 1, 4, 8, 8}) * 0.5 + 0.25;
  const Parameterization p(ParamKind::fourier, start, 0, 1, FourierRange::sigmoid, 1.0);
  const auto theta = p.initial().clone().requires_grad_(true);
  p.volume(theta).sum().backward();
  EXPECT_GT(theta.grad().abs().sum().item<double>(), 0.0);
}

TEST(Parameterization, Names) {
  EXPECT_EQ(parse_param_kind("fourier"), ParamKind::fourier);
  EXPECT_THROW(parse_param_kind("wavelet"), Error);
}

}  // namespace
}  // namespace inkgen
