#include "inkgen/optimize/robustness.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <set>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

TEST(Robustness, OffIsTheIdentity) {
  std::mt19937_64 rng(1);
  const auto v = at::rand({2, 1, 4, 8, 8});
  EXPECT_TRUE(at::equal(random_transform(v, Robustness::off, 0.5, rng), v));
}

TEST(Robustness, KeepsShapeAndAConstantVolumeConstant) {
  std::mt19937_64 rng(1);
  const auto flat = at::full({3, 1, 6, 16, 16}, 0.5f);
  for (const auto r : {Robustness::light, Robustness::strong}) {
    const auto moved = random_transform(flat, r, 0.5, rng);
    EXPECT_EQ(moved.sizes(), flat.sizes());
    EXPECT_TRUE(at::allclose(moved, flat, 1e-5, 1e-5)) << to_string(r);
  }
}

TEST(Robustness, MovesEachSampleDifferentlyAndReproducibly) {
  const auto v = at::rand({2, 1, 6, 16, 16});
  const auto same = at::cat({v.narrow(0, 0, 1), v.narrow(0, 0, 1)});
  std::mt19937_64 a(7), b(7);
  const auto x = random_transform(same, Robustness::strong, 0.5, a);
  EXPECT_TRUE(at::equal(x, random_transform(same, Robustness::strong, 0.5, b)));
  EXPECT_FALSE(at::allclose(x[0], x[1]));     // each sample its own transform
  EXPECT_FALSE(at::allclose(x[0], same[0]));  // and it did move
}

TEST(Robustness, LightShiftsAnImpulseByWholeVoxelsWithoutBlurringIt) {
  auto v = at::zeros({1, 1, 8, 32, 32});
  v[0][0][4][16][16] = 1.0f;
  std::mt19937_64 rng(3);
  std::set<int64_t> places;
  for (int i = 0; i < 20; ++i) {
    const auto moved = random_transform(v, Robustness::light, 0.0, rng);
    // Still one voxel of exactly 1 and nothing else: copied, not interpolated.
    EXPECT_EQ(moved.sum().item<float>(), 1.0f);
    EXPECT_EQ(moved.max().item<float>(), 1.0f);
    const auto where = moved.argmax().item<int64_t>();
    const int64_t z = where / (32 * 32), y = where / 32 % 32, x = where % 32;
    EXPECT_LE(std::abs(z - 4), 1);
    EXPECT_LE(std::abs(y - 16), 2);
    EXPECT_LE(std::abs(x - 16), 2);
    places.insert(where);
  }
  EXPECT_GT(places.size(), 3u);
}

TEST(Robustness, StrongAlsoScalesAndRotates) {
  auto v = at::zeros({1, 1, 8, 32, 32});
  v[0][0][4][16][16] = 1.0f;
  std::mt19937_64 rng(3);
  const auto moved = random_transform(v, Robustness::strong, 0.0, rng);
  // Resampled: the impulse is spread over neighbours, its peak below 1.
  EXPECT_LT(moved.max().item<float>(), 1.0f);
  EXPECT_GT(moved.max().item<float>(), 0.0f);
}

TEST(Robustness, IsDifferentiable) {
  std::mt19937_64 rng(1);
  const auto v = at::rand({1, 1, 4, 8, 8}).requires_grad_(true);
  random_transform(v, Robustness::light, 0.5, rng).sum().backward();
  EXPECT_GT(v.grad().abs().sum().item<double>(), 0.0);
  EXPECT_THROW(parse_robustness("medium"), Error);
}

}  // namespace
}  // namespace inkgen
