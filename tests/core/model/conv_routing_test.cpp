#include "inkgen/model/conv_routing.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/script.h>

#include <sstream>

#include "inkgen/model/ink_model.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

// A one-channel convolution feeding a two-channel one, one with dilation 2, one with padding
// "same" and one without bias: the first and the last may be rerouted. `features` reads the
// bias-less one, as a hidden-layer objective would.
torch::jit::Module small_model() {
  torch::jit::Module m("Small");
  at::manual_seed(3);
  m.register_parameter("w1", at::randn({2, 1, 3, 3, 3}), false);
  m.register_parameter("b1", at::randn({2}), false);
  m.register_parameter("w2", at::randn({1, 2, 3, 3, 3}), false);
  m.register_parameter("w3", at::randn({3, 1, 3, 3, 3}), false);
  m.register_parameter("w4", at::randn({2, 1, 3, 3, 3}), false);
  m.register_parameter("w5", at::randn({4, 1, 2, 3, 3}), false);
  m.define(R"(
def forward(self, x):
    a = torch.conv3d(x, self.w1, self.b1, [1, 2, 2], [1, 1, 1])
    b = torch.conv3d(torch.relu(a), self.w2, None, [1, 1, 1], [1, 1, 1])
    c = torch.conv3d(x, self.w3, None, [1, 1, 1], [2, 2, 2], [2, 2, 2])
    d = torch.conv3d(x, self.w4, None, 1, "same")
    e = torch.conv3d(x, self.w5, None, [1, 1, 1], [0, 1, 1])
    return b.sum() + c.sum() + d.sum() + e.sum()

def features(self, x) -> Dict[str, Tensor]:
    return {"e": torch.conv3d(x, self.w5, None, [1, 1, 1], [0, 1, 1])}
)");
  m.eval();
  return torch::jit::freeze(m, std::vector<std::string>{"features"});
}

at::Tensor input_gradient(torch::jit::Module& m, const at::Tensor& x0) {
  const auto x = x0.clone().requires_grad_(true);
  const auto out = m.forward({x}).toTensor();
  return torch::autograd::grad({out}, {x})[0];
}

at::Tensor features_gradient(torch::jit::Module& m, const at::Tensor& x0) {
  const auto x = x0.clone().requires_grad_(true);
  const auto out = m.get_method("features")({x}).toGenericDict().at("e").toTensor();
  return torch::autograd::grad({(out * out).sum()}, {x})[0];
}

std::string graph_text(torch::jit::Module& m, const std::string& method) {
  std::ostringstream text;
  text << *m.get_method(method).graph();
  return text.str();
}

TEST(ConvRouting, ReroutesOnlyPlainOneChannelConvolutionsAndKeepsTheirGradient) {
  auto plain = small_model();
  auto routed = small_model();
  EXPECT_EQ(route_single_channel_convolutions(routed), 2) << "counted in forward only";
  for (const char* method : {"forward", "features"}) {
    const auto graph = graph_text(routed, method);
    EXPECT_NE(graph.find("inkgen::single_channel_conv3d"), std::string::npos) << graph;
  }
  EXPECT_EQ(route_single_channel_convolutions(routed), 0)
      << "a rerouted node is not rerouted again";

  const auto x = at::rand({2, 1, 6, 10, 10});
  const auto expected = input_gradient(plain, x);
  const auto got = input_gradient(routed, x);
  EXPECT_TRUE(at::allclose(got, expected, 1e-4, 1e-4))
      << "largest difference " << (got - expected).abs().max().item<float>();
  // A bias-less convolution under autograd, as a hidden-layer objective runs it.
  const auto expected_features = features_gradient(plain, x);
  const auto got_features = features_gradient(routed, x);
  EXPECT_TRUE(at::allclose(got_features, expected_features, 1e-4, 1e-4))
      << "largest difference " << (got_features - expected_features).abs().max().item<float>();
  // Without gradients the rerouted op is the plain convolution, to the bit.
  c10::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(routed.forward({x}).toTensor(), plain.forward({x}).toTensor()));
}

TEST(ConvRouting, TheLoaderReroutesTheBundledModelsFirstLayerOnlyWhenFrozenInFp32) {
  const InkModel routed = load_ink_model(bundled_model_path(), {});
  EXPECT_EQ(routed.single_channel_convolutions, 1);
  LoadOptions libtorch;
  libtorch.kernels = Kernels::libtorch;
  const InkModel plain = load_ink_model(bundled_model_path(), libtorch);
  EXPECT_EQ(plain.single_channel_convolutions, 0);
  LoadOptions unfrozen;
  unfrozen.freeze = Freeze::no;
  EXPECT_EQ(load_ink_model(bundled_model_path(), unfrozen).single_channel_convolutions, 0)
      << "an unfrozen module's weights are not constants";

  at::manual_seed(11);
  const auto x = at::rand(routed.batch_shape(3)) * routed.card.range_hi;
  const auto gradient = [&x](const InkModel& m) {
    const auto input = x.clone().requires_grad_(true);
    return torch::autograd::grad({forward(m, input).sum()}, {input})[0];
  };
  const auto expected = gradient(plain);
  const auto got = gradient(routed);
  EXPECT_TRUE(at::allclose(got, expected, 1e-4, 1e-5))
      << "largest difference " << (got - expected).abs().max().item<float>();

  // A hidden-layer objective goes through the features method, rerouted as well.
  const auto layer_gradient = [&x](const InkModel& m) {
    const auto input = x.clone().requires_grad_(true);
    const auto layers = features(m, input);
    return torch::autograd::grad({layers.front().second.square().sum()}, {input})[0];
  };
  const auto expected_layer = layer_gradient(plain);
  const auto got_layer = layer_gradient(routed);
  EXPECT_TRUE(at::allclose(got_layer, expected_layer, 1e-4, 1e-5))
      << "largest difference " << (got_layer - expected_layer).abs().max().item<float>();
}

}  // namespace
}  // namespace inkgen
