#include "inkgen/model/pool_routing.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <vector>

#include "inkgen/model/graph_rewrite.hpp"
#include "inkgen/model/window_max_pool.hpp"

namespace inkgen {

namespace {

constexpr const char* routed_pool_op = "inkgen::window_max_pool3d";

std::array<std::int64_t, 3> window_of(at::IntArrayRef ints) {
  return {ints[0], ints[1], ints[2]};
}

class WindowMaxPool3d : public torch::autograd::Function<WindowMaxPool3d> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input,
                            const std::vector<std::int64_t>& window, bool relu) {
    auto pooled = window_max_pool3d(input, window_of(window), relu);
    ctx->saved_data["argmax"] = pooled.argmax;
    ctx->saved_data["input_sizes"] = input.sizes().vec();
    ctx->saved_data["window"] = window;
    return pooled.output;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    at::Tensor grad_input;
    if (grad_outputs[0].defined()) {
      grad_input = window_max_pool3d_backward(grad_outputs[0], ctx->saved_data["argmax"].toTensor(),
                                              ctx->saved_data["input_sizes"].toIntVector(),
                                              window_of(ctx->saved_data["window"].toIntVector()));
    }
    return {grad_input, at::Tensor(), at::Tensor()};
  }
};

at::Tensor window_max_pool3d_op(const at::Tensor& input, at::IntArrayRef window, bool relu) {
  if (input.scalar_type() != at::kFloat || !input.device().is_cpu() || input.dim() != 5)
    return at::max_pool3d(relu ? at::relu(input) : input, window, window);
  if (!input.requires_grad()) return window_max_pool3d(input, window_of(window), relu).output;
  return WindowMaxPool3d::apply(input, window.vec(), relu);
}

TORCH_LIBRARY_FRAGMENT(inkgen, m) {
  m.def("window_max_pool3d(Tensor input, int[3] window, bool relu) -> Tensor",
        &window_max_pool3d_op);
}

// aten::max_pool3d(self, kernel_size, stride, padding, dilation, ceil_mode); an empty stride
// means the kernel's.
bool tiles_its_input(torch::jit::Node* node) {
  if (node->kind() != c10::Symbol::fromQualString("aten::max_pool3d") || node->inputs().size() != 6)
    return false;
  const auto kernel = three_ints(node->input(1));
  const auto stride_value = torch::jit::toIValue(node->input(2));
  const auto padding = three_ints(node->input(3));
  const auto dilation = three_ints(node->input(4));
  const auto ceil_mode = torch::jit::toIValue(node->input(5));
  if (!kernel || !stride_value || !stride_value->isIntList() || !padding || !dilation ||
      !ceil_mode || !ceil_mode->isBool() || ceil_mode->toBool())
    return false;
  const auto stride = stride_value->toIntVector();
  const bool tiles = stride.empty() || (stride.size() == 3 && stride[0] == (*kernel)[0] &&
                                        stride[1] == (*kernel)[1] && stride[2] == (*kernel)[2]);
  const auto volume = (*kernel)[0] * (*kernel)[1] * (*kernel)[2];
  return tiles && volume > 0 && volume < no_gradient && *padding == std::array<std::int64_t, 3>{} &&
         *dilation == std::array<std::int64_t, 3>{1, 1, 1};
}

}  // namespace

int route_window_max_pools(torch::jit::Module& module) {
  int routed = 0;
  const auto relu_kind = c10::Symbol::fromQualString("aten::relu");
  for (const auto& method : module.get_methods()) {
    const auto graph = method.graph();
    for (auto* node : nodes_where(*graph, tiles_its_input)) {
      torch::jit::Value* input = node->input(0);
      torch::jit::Node* relu = input->node();
      // The ReLU is folded only when nothing else reads its output.
      const bool fold = relu->kind() == relu_kind && input->uses().size() == 1;
      torch::jit::WithInsertPoint guard(node);
      replace_with_call(
          node, routed_pool_op,
          {fold ? relu->input(0) : input, node->input(1), graph->insertConstant(fold)});
      if (fold) relu->destroy();
      if (method.name() == "forward") ++routed;
    }
  }
  return routed;
}

}  // namespace inkgen
