#include "inkgen/model/pool_routing.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/script.h>

#include <sstream>
#include <string>

#include "inkgen/model/ink_model.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

// Of five pools, three tile their input: one after a ReLU nothing else reads (folded), one
// after a ReLU that is also read elsewhere (not folded), one on a plain tensor. An overlapping
// pool and a padded one stay LibTorch's. `features` has a pool of its own.
torch::jit::Module pooling_model() {
  torch::jit::Module m("Pools");
  m.define(R"(
def forward(self, x):
    a = torch.max_pool3d(torch.relu(x), [2, 2, 2])
    r = torch.relu(x * 2.0)
    b = torch.max_pool3d(r, [1, 2, 2], [1, 2, 2])
    c = torch.max_pool3d(x, [3, 1, 2], [3, 1, 2], [0, 0, 0], [1, 1, 1], False)
    d = torch.max_pool3d(x, [3, 3, 3], [2, 2, 2])
    e = torch.max_pool3d(x, [2, 2, 2], [2, 2, 2], [1, 1, 1])
    return (a * a).sum() + (b * b).sum() + r.sum() + c.sum() + d.sum() + (e * e).sum()

def features(self, x) -> Dict[str, Tensor]:
    return {"p": torch.max_pool3d(torch.relu(x), [2, 2, 2])}
)");
  m.eval();
  return torch::jit::freeze(m, std::vector<std::string>{"features"});
}

std::string pool_graph_text(torch::jit::Module& m, const std::string& method) {
  std::ostringstream text;
  text << *m.get_method(method).graph();
  return text.str();
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

at::Tensor pool_input_gradient(torch::jit::Module& m, const std::string& method,
                               const at::Tensor& x0) {
  const auto x = x0.clone().requires_grad_(true);
  const auto out = m.get_method(method)({x});
  const auto y = out.isTensor() ? out.toTensor() : out.toGenericDict().at("p").toTensor().square();
  return torch::autograd::grad({y.sum()}, {x})[0];
}

TEST(PoolRouting, ReroutesPoolsThatTileTheirInputAndFoldsALoneReLU) {
  auto plain = pooling_model();
  auto routed = pooling_model();
  EXPECT_EQ(route_window_max_pools(routed), 3);
  const auto forward = pool_graph_text(routed, "forward");
  EXPECT_EQ(occurrences(forward, "inkgen::window_max_pool3d"), 3) << forward;
  EXPECT_EQ(occurrences(forward, "aten::max_pool3d"), 2) << forward;
  EXPECT_EQ(occurrences(forward, "aten::relu"), 1) << "only the ReLU read twice stays\n" << forward;
  EXPECT_EQ(occurrences(pool_graph_text(routed, "features"), "inkgen::window_max_pool3d"), 1);
  EXPECT_EQ(route_window_max_pools(routed), 0) << "a rerouted pool is not rerouted again";

  at::manual_seed(4);
  const auto x = at::randn({2, 3, 7, 8, 9});
  for (const char* method : {"forward", "features"}) {
    const auto expected = pool_input_gradient(plain, method, x);
    const auto got = pool_input_gradient(routed, method, x);
    EXPECT_TRUE(at::allclose(got, expected, 1e-5, 1e-5))
        << method << ": largest difference " << (got - expected).abs().max().item<float>();
  }
  c10::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(routed.forward({x}).toTensor(), plain.forward({x}).toTensor()));
  // Other dtypes go to LibTorch.
  const auto x64 = x.to(at::kDouble);
  EXPECT_TRUE(at::equal(routed.forward({x64}).toTensor(), plain.forward({x64}).toTensor()));
}

TEST(PoolRouting, TheLoaderReroutesBothPoolsOfTheSharedKerasModel) {
  const auto shared = test::shared_dir();
  if (!shared) GTEST_SKIP() << "../shared is not present";
  const auto path = *shared / "models" / "keras-patch-x65m25.pt";
  const InkModel routed = load_ink_model(path, {});
  EXPECT_EQ(routed.window_max_pools, 2);
  EXPECT_EQ(routed.single_channel_convolutions, 1);
  LoadOptions libtorch;
  libtorch.kernels = Kernels::libtorch;
  const InkModel plain = load_ink_model(path, libtorch);
  EXPECT_EQ(plain.window_max_pools, 0);

  at::manual_seed(12);
  const auto x = at::rand(routed.batch_shape(4));
  const auto input_gradient = [&x](const InkModel& m) {
    const auto input = x.clone().requires_grad_(true);
    return torch::autograd::grad({forward(m, input).sum()}, {input})[0];
  };
  const auto expected = input_gradient(plain);
  const auto got = input_gradient(routed);
  EXPECT_TRUE(at::allclose(got, expected, 1e-4, 1e-6))
      << "largest difference " << (got - expected).abs().max().item<float>();
}

}  // namespace
}  // namespace inkgen
