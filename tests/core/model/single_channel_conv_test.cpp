#include "inkgen/model/single_channel_conv.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

namespace inkgen {
namespace {

struct Case {
  std::vector<std::int64_t> input, weight;
  ConvGeometry geometry;
};

// Odd sizes, every stride from 1 to 3, padding from 0 to past half the kernel, kernels that are
// longer than they are wide, one output channel and several, and the bundled and Keras models'
// first layers: each position must receive exactly the taps the forward pass read it through.
TEST(SingleChannelConv, InputGradientMatchesLibTorch) {
  const std::vector<Case> cases{
      {{2, 1, 20, 32, 32}, {8, 1, 3, 3, 3}, {{1, 2, 2}, {1, 1, 1}}},  // bundled stem
      {{2, 1, 8, 65, 65}, {32, 1, 3, 3, 3}, {{1, 1, 1}, {0, 0, 0}}},  // Keras conv1
      {{1, 1, 15, 16, 16}, {6, 1, 7, 7, 7}, {{2, 2, 2}, {3, 3, 3}}},  // I3D Conv3d_1a-like
      {{3, 1, 7, 9, 11}, {5, 1, 2, 3, 4}, {{2, 3, 1}, {1, 0, 2}}},
      {{2, 1, 5, 6, 7}, {3, 1, 3, 1, 3}, {{3, 1, 2}, {2, 0, 1}}},
      {{1, 1, 4, 5, 6}, {1, 1, 1, 1, 1}, {{1, 1, 1}, {0, 0, 0}}},
      {{2, 1, 9, 10, 13}, {9, 1, 4, 2, 5}, {{3, 2, 3}, {3, 1, 4}}},
  };
  for (const auto& c : cases) {
    at::manual_seed(7);
    const auto x = at::rand(c.input);
    const auto w = at::randn(c.weight);
    const auto y = at::conv3d(x, w, {}, c.geometry.stride, c.geometry.padding);
    const auto g = at::randn_like(y);
    const auto expected = std::get<0>(
        at::convolution_backward(g, x, w, c10::nullopt, c.geometry.stride, c.geometry.padding,
                                 {1, 1, 1}, false, {0, 0, 0}, 1, {true, false, false}));
    const auto got = single_channel_conv3d_input_grad(g, w, x.sizes(), c.geometry);
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_TRUE(at::allclose(got, expected, 1e-4, 1e-4))
        << "input " << at::IntArrayRef(c.input) << " weight " << at::IntArrayRef(c.weight)
        << ": largest difference " << (got - expected).abs().max().item<float>();
  }
}

TEST(SingleChannelConv, ReadsANonContiguousGradient) {
  const auto x = at::rand({2, 1, 6, 8, 8});
  const auto w = at::randn({4, 1, 3, 3, 3});
  const auto g = at::randn({2, 6, 8, 8, 4}).permute({0, 4, 1, 2, 3});  // channels last
  ASSERT_FALSE(g.is_contiguous());
  const auto expected =
      std::get<0>(at::convolution_backward(g.contiguous(), x, w, c10::nullopt, {1, 1, 1}, {1, 1, 1},
                                           {1, 1, 1}, false, {0, 0, 0}, 1, {true, false, false}));
  const auto got = single_channel_conv3d_input_grad(g, w, x.sizes(), {{1, 1, 1}, {1, 1, 1}});
  EXPECT_TRUE(at::allclose(got, expected, 1e-4, 1e-4));
}

}  // namespace
}  // namespace inkgen
