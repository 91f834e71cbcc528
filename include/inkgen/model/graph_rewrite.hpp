#pragma once

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

// What the routing passes (conv_routing.cpp, pool_routing.cpp) share: reading a node's constant
// arguments and putting a call of inkgen's own op where a LibTorch node was.
namespace inkgen {

// A graph input that is a constant list of three ints (a 3D kernel, stride or padding), if it is.
inline std::optional<std::array<std::int64_t, 3>> three_ints(torch::jit::Value* value) {
  const auto constant = torch::jit::toIValue(value);
  if (!constant || !constant->isIntList()) return std::nullopt;
  const auto ints = constant->toIntVector();
  if (ints.size() != 3) return std::nullopt;
  return std::array<std::int64_t, 3>{ints[0], ints[1], ints[2]};
}

// The graph's nodes that `matches` accepts, collected first: replacing them while iterating the
// graph would invalidate the iteration.
template <typename Predicate>
std::vector<torch::jit::Node*> nodes_where(torch::jit::Graph& graph, Predicate matches) {
  std::vector<torch::jit::Node*> found;
  for (auto* node : graph.nodes())
    if (matches(node)) found.push_back(node);
  return found;
}

// Puts a call of `op` on `inputs` where `node` was; its output takes the node's type and readers.
inline void replace_with_call(torch::jit::Node* node, const char* op,
                              at::ArrayRef<torch::jit::Value*> inputs) {
  torch::jit::Graph& graph = *node->owningGraph();
  auto* call = graph.create(c10::Symbol::fromQualString(op), inputs, 1);
  call->insertBefore(node);
  call->output()->setType(node->output()->type());
  node->output()->replaceAllUsesWith(call->output());
  node->destroy();
}

}  // namespace inkgen
