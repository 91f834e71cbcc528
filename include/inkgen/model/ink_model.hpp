#pragma once

#include <ATen/core/Tensor.h>
#include <torch/csrc/jit/api/module.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "inkgen/card/model_card.hpp"
#include "inkgen/common/enum_names.hpp"

namespace inkgen {

// The number format of the model's arithmetic. The input volume itself stays float32 (the
// optimizer's state and the clamping need the precision); it is cast on its way in.
enum class Precision { fp32, bf16, fp16 };
inline constexpr EnumNames<Precision, 3> precision_names{
    {{Precision::fp32, "fp32"}, {Precision::bf16, "bf16"}, {Precision::fp16, "fp16"}}};
inline Precision parse_precision(const std::string& text) {
  return parse_enum(precision_names, text, "--precision");
}
inline const char* to_string(Precision p) {
  return enum_name(precision_names, p);
}

// Whether the module is frozen (torch::jit::freeze) after loading: its weights become constants,
// so batch norms fold into convolutions and no autograd bookkeeping is kept for them.
enum class Freeze { no, yes };

// Who runs the operations inkgen has its own CPU kernels for (a convolution's input gradient over
// a one-channel volume, conv_routing.hpp; tiling max pools, pool_routing.hpp): inkgen (the
// default; a frozen fp32 model on the CPU), or LibTorch as everywhere else.
enum class Kernels { libtorch, inkgen };
inline constexpr EnumNames<Kernels, 2> kernels_names{
    {{Kernels::inkgen, "inkgen"}, {Kernels::libtorch, "libtorch"}}};
inline Kernels parse_kernels(const std::string& text) {
  return parse_enum(kernels_names, text, "--kernels");
}
inline const char* to_string(Kernels k) {
  return enum_name(kernels_names, k);
}

struct LoadOptions {
  c10::Device device = c10::Device(c10::kCPU);
  CardOverrides overrides;
  Freeze freeze = Freeze::yes;
  Precision precision = Precision::fp32;
  Kernels kernels = Kernels::inkgen;
};

// A TorchScript ink model ready to run: in eval mode, its parameters frozen (the optimizer moves
// the input, never the weights), checked by one forward pass on its card's input shape.
struct InkModel {
  std::filesystem::path path;
  ModelCard card;
  std::string card_origin;  // "embedded inkgen.json", "sidecar <file>", "command line"
  torch::jit::Module module;
  c10::Device device = c10::Device(c10::kCPU);
  std::vector<std::int64_t> output_shape;  // for one sample, without the batch dimension
  std::int64_t parameter_count = 0;
  Precision precision = Precision::fp32;
  bool frozen = false;
  // Convolutions over a one-channel volume whose input gradient inkgen computes itself, and max
  // pools (with the ReLU before them, where there is one) that inkgen runs itself.
  int single_channel_convolutions = 0;
  int window_max_pools = 0;
  // The hidden layers the model's `features(x) -> Dict[str, Tensor]` method returns, in its
  // order, each with its shape for one sample as the load check found it (the card's "layers" is
  // documentation); empty when the model has no such method.
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> layers;

  // The input shape for a batch of n samples: {n, C, D, H, W}.
  std::vector<std::int64_t> batch_shape(std::int64_t n) const;
};

// Loads the model and its card (embedded `inkgen.json`, else sidecar `<stem>.json`, else the
// command line's overrides). Throws Error(model) with a one-line reason.
InkModel load_ink_model(const std::filesystem::path& path, const LoadOptions& options);

// One forward pass; the input is (N, C, D, H, W) on the model's device and scale. Throws
// Error(model) when the model fails or returns something other than a float tensor with N rows.
at::Tensor forward(const InkModel& model, const at::Tensor& input);

// The model's named hidden activations for a batch, in the order its `features` method returns
// them. Throws Error(model) when the model has no such method or it fails or returns anything
// but a dictionary of float tensors with one row per sample.
std::vector<std::pair<std::string, at::Tensor>> features(const InkModel& model,
                                                         const at::Tensor& input);

// "stem [8,20,32,32], down1 [16,20,16,16]" (or "none"): what a message offers instead.
std::string layers_text(const InkModel& model);

// The default model shipped with inkgen (models/ of the source tree or of the installation).
std::filesystem::path bundled_model_path();

}  // namespace inkgen
