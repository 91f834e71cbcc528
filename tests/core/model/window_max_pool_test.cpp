#include "inkgen/model/window_max_pool.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <array>
#include <limits>
#include <string>
#include <vector>

namespace inkgen {
namespace {

struct PoolCase {
  std::vector<std::int64_t> input;
  std::array<std::int64_t, 3> window;
};

// LibTorch's max pool (after a ReLU when asked) and its input gradient for the same upstream
// gradient: the reference both results must equal to the bit.
std::pair<at::Tensor, at::Tensor> reference(const at::Tensor& x0, const PoolCase& c, bool relu,
                                            const at::Tensor& g) {
  const auto x = x0.clone().requires_grad_(true);
  const auto y = at::max_pool3d(relu ? at::relu(x) : x, c.window, c.window);
  return {y.detach(), torch::autograd::grad({y}, {x}, {g})[0]};
}

std::string case_text(const PoolCase& c, bool relu) {
  return "input " + std::to_string(c.input[2]) + "x" + std::to_string(c.input[3]) + "x" +
         std::to_string(c.input[4]) + " window " + std::to_string(c.window[0]) +
         std::to_string(c.window[1]) + std::to_string(c.window[2]) + (relu ? " relu" : "");
}

void expect_like_libtorch(const at::Tensor& x, const PoolCase& c) {
  for (const bool relu : {false, true}) {
    const auto pooled = window_max_pool3d(x, c.window, relu);
    const auto g = at::randn_like(pooled.output);
    const auto [output, gradient] = reference(x, c, relu, g);
    ASSERT_EQ(pooled.output.sizes(), output.sizes()) << case_text(c, relu);
    EXPECT_TRUE(at::equal(pooled.output.isnan(), output.isnan())) << case_text(c, relu);
    EXPECT_TRUE(at::equal(pooled.output.nan_to_num(0), output.nan_to_num(0))) << case_text(c, relu);
    const auto got = window_max_pool3d_backward(g, pooled.argmax, x.sizes(), c.window);
    EXPECT_TRUE(at::equal(got, gradient)) << case_text(c, relu) << ": largest difference "
                                          << (got - gradient).abs().max().item<float>();
  }
}

// Sizes that the window divides and sizes it does not (the rest gets no gradient), windows of
// one in some axes, the Keras model's two pools, and values with many ties (the first maximum in
// d, h, w order must win, as in LibTorch) and with negatives only (a folded ReLU gives zero and
// no gradient).
TEST(WindowMaxPool, ValuesAndGradientEqualLibTorchs) {
  const std::vector<PoolCase> cases{
      {{2, 3, 6, 63, 63}, {2, 2, 2}},  // Keras pool 1 (odd sizes)
      {{2, 3, 1, 29, 29}, {1, 2, 2}},  // Keras pool 2
      {{1, 2, 7, 9, 11}, {3, 2, 4}},  {{1, 1, 4, 4, 4}, {1, 1, 1}},
      {{3, 2, 5, 6, 5}, {5, 3, 1}},   {{1, 1, 6, 6, 6}, {6, 6, 6}},
  };
  for (const auto& c : cases) {
    at::manual_seed(5);
    expect_like_libtorch(at::randn(c.input), c);
    expect_like_libtorch(at::randint(-2, 3, c.input).to(at::kFloat), c);  // ties
    expect_like_libtorch(-at::rand(c.input), c);                          // no positives
  }
}

TEST(WindowMaxPool, NaNWinsItsWindowAsInLibTorch) {
  const PoolCase c{{1, 1, 2, 4, 4}, {2, 2, 2}};
  auto x = at::randn(c.input);
  x.index_put_({0, 0, 1, 0, 1}, std::numeric_limits<float>::quiet_NaN());
  x.index_put_({0, 0, 0, 3, 3}, -std::numeric_limits<float>::infinity());
  // Two NaNs in one window, the later one in an earlier column: LibTorch keeps the last in
  // (d, h, w) order, and a scan column by column must agree.
  x.index_put_({0, 0, 0, 2, 3}, std::numeric_limits<float>::quiet_NaN());
  x.index_put_({0, 0, 1, 3, 2}, std::numeric_limits<float>::quiet_NaN());
  expect_like_libtorch(x, c);
}

TEST(WindowMaxPool, ReadsANonContiguousInputAndGradient) {
  const PoolCase c{{2, 2, 4, 6, 8}, {2, 2, 2}};
  at::manual_seed(9);
  const auto x = at::randn({2, 4, 6, 8, 2}).permute({0, 4, 1, 2, 3});
  ASSERT_FALSE(x.is_contiguous());
  const auto pooled = window_max_pool3d(x, c.window, false);
  const auto g = at::randn({2, 1, 2, 3, 4}).expand_as(pooled.output);  // a broadcast gradient
  const auto [output, gradient] = reference(x, c, false, g);
  EXPECT_TRUE(at::equal(pooled.output, output));
  EXPECT_TRUE(
      at::equal(window_max_pool3d_backward(g, pooled.argmax, x.sizes(), c.window), gradient));
}

}  // namespace
}  // namespace inkgen
