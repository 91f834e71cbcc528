#include "inkgen/model/conv_routing.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/library.h>

#include <optional>
#include <vector>

#include "inkgen/model/graph_rewrite.hpp"
#include "inkgen/model/single_channel_conv.hpp"

namespace inkgen {

namespace {

constexpr const char* routed_conv_op = "inkgen::single_channel_conv3d";

ConvGeometry geometry_of(const std::vector<std::int64_t>& stride,
                         const std::vector<std::int64_t>& padding) {
  return {{stride[0], stride[1], stride[2]}, {padding[0], padding[1], padding[2]}};
}

// The forward pass is oneDNN's own; only the input's gradient is computed differently.
class SingleChannelConv3d : public torch::autograd::Function<SingleChannelConv3d> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input,
                            const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                            const std::vector<std::int64_t>& stride,
                            const std::vector<std::int64_t>& padding) {
    ctx->saved_data["weight"] = weight;
    ctx->saved_data["input_sizes"] = input.sizes().vec();
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    return at::conv3d(input, weight, bias, stride, padding);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto weight = ctx->saved_data["weight"].toTensor();
    const auto input_sizes = ctx->saved_data["input_sizes"].toIntVector();
    const auto geometry = geometry_of(ctx->saved_data["stride"].toIntVector(),
                                      ctx->saved_data["padding"].toIntVector());
    at::Tensor grad_input;
    if (grad_outputs[0].defined())
      grad_input = single_channel_conv3d_input_grad(grad_outputs[0], weight, input_sizes, geometry);
    // One entry per argument of forward; the weight and bias are constants.
    return {grad_input, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor single_channel_conv3d(const at::Tensor& input, const at::Tensor& weight,
                                 const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                                 at::IntArrayRef padding) {
  // Anything the own gradient does not cover goes back to LibTorch's convolution.
  if (!input.requires_grad() || weight.requires_grad() || input.scalar_type() != at::kFloat ||
      weight.scalar_type() != at::kFloat || !input.device().is_cpu() || input.dim() != 5 ||
      input.size(1) != 1)
    return at::conv3d(input, weight, bias, stride, padding);
  // The bias goes in as an optional: autograd records every plain Tensor argument, and an
  // undefined one (a convolution without bias) fails there with "tensor does not have a device".
  return SingleChannelConv3d::apply(input, weight, bias, stride.vec(), padding.vec());
}

TORCH_LIBRARY_FRAGMENT(inkgen, m) {
  m.def(
      "single_channel_conv3d(Tensor input, Tensor weight, Tensor? bias, int[3] stride, int[3] "
      "padding) -> Tensor",
      &single_channel_conv3d);
}

bool reads_one_channel(torch::jit::Node* node) {
  // aten::conv3d(input, weight, bias, stride, padding, dilation, groups)
  if (node->kind() != c10::Symbol::fromQualString("aten::conv3d") || node->inputs().size() != 7)
    return false;
  const auto weight = torch::jit::toIValue(node->input(1));
  if (!weight || !weight->isTensor()) return false;
  const auto& w = weight->toTensor();
  if (w.dim() != 5 || w.size(1) != 1 || w.scalar_type() != at::kFloat || !w.device().is_cpu())
    return false;
  const auto stride = three_ints(node->input(3));
  const auto padding = three_ints(node->input(4));
  const auto dilation = three_ints(node->input(5));
  const auto groups = torch::jit::toIValue(node->input(6));
  return stride && padding && dilation && groups && groups->isInt() && groups->toInt() == 1 &&
         (*dilation)[0] == 1 && (*dilation)[1] == 1 && (*dilation)[2] == 1;
}

}  // namespace

int route_single_channel_convolutions(torch::jit::Module& module) {
  int routed = 0;
  // Every method: `features` (hidden-layer objectives) runs the same first layer as forward.
  for (const auto& method : module.get_methods()) {
    for (auto* node : nodes_where(*method.graph(), reads_one_channel)) {
      replace_with_call(node, routed_conv_op, node->inputs().slice(0, 5));
      if (method.name() == "forward") ++routed;
    }
  }
  return routed;
}

}  // namespace inkgen
