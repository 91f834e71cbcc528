#include "inkgen/model/ink_model.hpp"

#include <c10/core/GradMode.h>
#include <spdlog/spdlog.h>
#include <torch/script.h>
#include <torch/version.h>

#include <fstream>
#include <limits>
#include <sstream>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/common/version.hpp"
#include "inkgen/model/conv_routing.hpp"
#include "inkgen/model/ink_score.hpp"
#include "inkgen/model/pool_routing.hpp"

namespace inkgen {

namespace {

namespace fs = std::filesystem;

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

std::string type_name(const c10::IValue& value) {
  return value.tagKind();
}

}  // namespace

namespace {

at::ScalarType scalar_type(Precision precision) {
  switch (precision) {
    case Precision::bf16:
      return at::kBFloat16;
    case Precision::fp16:
      return at::kHalf;
    case Precision::fp32:
      break;
  }
  return at::kFloat;
}

}  // namespace

std::vector<std::int64_t> InkModel::batch_shape(std::int64_t n) const {
  return {n, card.channels(), card.depth(), card.height(), card.width()};
}

at::Tensor forward(const InkModel& model, const at::Tensor& input) {
  torch::jit::Module module = model.module;  // a handle: copying shares the module
  c10::IValue out;
  try {
    out = module.forward(
        {model.precision == Precision::fp32 ? input : input.to(scalar_type(model.precision))});
  } catch (const std::exception& e) {
    throw Error(ErrorKind::model, "model '" + model.card.name + "' failed on input " +
                                      shape_text(input.sizes().vec()) + ": " + short_reason(e) +
                                      "; check input.shape in its card");
  }
  if (!out.isTensor()) {
    throw Error(ErrorKind::model,
                "model '" + model.card.name + "' returns a " + type_name(out) +
                    ", not a tensor; export a module whose forward returns the ink "
                    "logits (or probabilities) as one tensor");
  }
  auto tensor = out.toTensor();
  if (tensor.is_floating_point() && tensor.scalar_type() != at::kFloat)
    tensor = tensor.to(at::kFloat);
  if (!tensor.is_floating_point()) {
    throw Error(ErrorKind::model, "model '" + model.card.name + "' returns " +
                                      std::string(c10::toString(tensor.scalar_type())) +
                                      " values; it must return floating-point logits or "
                                      "probabilities (end its forward with a float tensor)");
  }
  if (tensor.dim() < 1 || tensor.size(0) != input.size(0)) {
    throw Error(ErrorKind::model, "model '" + model.card.name + "' returns a tensor of shape " +
                                      shape_text(tensor.sizes().vec()) + " for a batch of " +
                                      std::to_string(input.size(0)) +
                                      "; it must return floats with one row per sample");
  }
  return tensor;
}

std::vector<std::pair<std::string, at::Tensor>> features(const InkModel& model,
                                                         const at::Tensor& input) {
  torch::jit::Module module = model.module;
  const auto method = module.find_method("features");
  if (!method) {
    throw Error(ErrorKind::model, "model '" + model.card.name +
                                      "' has no features method, so no hidden layer to read; "
                                      "export it with features(x) -> Dict[str, Tensor] "
                                      "(models/README.md, \"Hidden layers\")");
  }
  c10::IValue out;
  try {
    out = (*method)(
        {model.precision == Precision::fp32 ? input : input.to(scalar_type(model.precision))});
  } catch (const std::exception& e) {
    throw Error(ErrorKind::model, "the features method of model '" + model.card.name +
                                      "' failed on input " + shape_text(input.sizes().vec()) +
                                      ": " + short_reason(e));
  }
  if (!out.isGenericDict()) {
    throw Error(ErrorKind::model, "the features method of model '" + model.card.name +
                                      "' returns a " + type_name(out) +
                                      ", not a Dict[str, Tensor] of named activations");
  }
  std::vector<std::pair<std::string, at::Tensor>> named;
  for (const auto& item : out.toGenericDict()) {
    const auto& value = item.value();
    const bool ok = item.key().isString() && value.isTensor() &&
                    value.toTensor().is_floating_point() && value.toTensor().dim() >= 2 &&
                    value.toTensor().size(0) == input.size(0);
    if (!ok) {
      throw Error(ErrorKind::model,
                  "the features method of model '" + model.card.name + "' returns " +
                      (item.key().isString() ? "'" + item.key().toStringRef() + "'" : "a key") +
                      " that is not a float tensor (N, C, ...) with one row per sample");
    }
    named.emplace_back(item.key().toStringRef(), value.toTensor().to(at::kFloat));
  }
  return named;
}

std::string layers_text(const InkModel& model) {
  std::string out;
  for (const auto& [name, shape] : model.layers)
    out += (out.empty() ? "" : ", ") + name + " " + shape_text(shape);
  return out.empty() ? "none" : out;
}

InkModel load_ink_model(const fs::path& path, const LoadOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw Error(ErrorKind::model,
                "model file '" + excerpt(path.string()) +
                    "' not found; give --model with the path of a TorchScript .pt file");
  }
  // A folder, FIFO or device is named as such (a FIFO would block the loader for ever).
  check_input_file(path, "--model", ErrorKind::model, std::numeric_limits<std::uintmax_t>::max());
  InkModel model;
  model.path = path;
  model.device = options.device;

  torch::jit::ExtraFilesMap extra{{"inkgen.json", ""}};
  try {
    model.module = torch::jit::load(path.string(), options.device, extra);
  } catch (const std::exception& e) {
    throw Error(ErrorKind::model,
                "'" + path.string() + "' is not a TorchScript model LibTorch " + TORCH_VERSION +
                    " can load (" + short_reason(e) +
                    "); save it with torch.jit.save from torch.jit.script or trace");
  }

  const fs::path sidecar = fs::path(path).replace_extension(".json");
  const auto& embedded = extra.at("inkgen.json");
  if (!embedded.empty()) {
    model.card = parse_model_card_text(embedded, "'inkgen.json' in " + path.filename().string());
    model.card_origin = "embedded inkgen.json";
  } else if (fs::is_regular_file(sidecar, ec)) {
    model.card = parse_model_card_text(read_text(sidecar), sidecar.filename().string());
    model.card_origin = "sidecar " + sidecar.string();
  } else if (options.overrides.can_stand_alone()) {
    model.card = card_from_overrides(path.stem().string(), options.overrides);
    model.card_origin = "command line";
  } else {
    throw Error(ErrorKind::model, "model '" + path.string() +
                                      "' has no card (no inkgen.json inside, no " +
                                      sidecar.filename().string() +
                                      " beside it); give --input-shape C,D,H,W and --scale RULE");
  }
  if (model.card_origin != "command line") {
    const auto& o = options.overrides;
    if (o.input_shape || o.scale || o.range || o.z0 || o.output_kind) {
      model.card = apply_overrides(model.card, o);
      model.card_origin += " with command-line overrides";
    }
  }

  model.module.eval();
  for (auto p : model.module.parameters()) {
    p.requires_grad_(false);
    model.parameter_count += p.numel();
  }
  if (options.precision == Precision::fp16 && options.device.is_cpu()) {
    throw Error(ErrorKind::usage,
                "--precision fp16 needs a GPU (LibTorch's CPU 3D convolutions have no fp16); "
                "use bf16 or fp32 on the CPU");
  }
  if (options.precision != Precision::fp32) {
    model.module.to(scalar_type(options.precision));
    model.precision = options.precision;
  }
  if (options.device.is_cuda())
    at::globalContext().setBenchmarkCuDNN(true);  // fixed shapes: pick the fastest
  if (options.freeze == Freeze::yes) {
    try {
      // Freezing keeps forward only, unless told to keep the hidden layers' method too.
      const bool has_features = model.module.find_method("features").has_value();
      model.module =
          torch::jit::freeze(model.module, has_features ? c10::optional<std::vector<std::string>>(
                                                              std::vector<std::string>{"features"})
                                                        : c10::nullopt);
      model.frozen = true;
    } catch (const std::exception& e) {
      // Some modules (e.g. with attributes freezing cannot fold) still run unfrozen, a little
      // slower.
      spdlog::debug("model '{}' cannot be frozen ({}); running it unfrozen", model.card.name,
                    short_reason(e));
    }
  }
  if (model.frozen && options.device.is_cpu() && options.precision == Precision::fp32 &&
      options.kernels == Kernels::inkgen) {
    model.single_channel_convolutions = route_single_channel_convolutions(model.module);
    model.window_max_pools = route_window_max_pools(model.module);
  }

  // One forward pass on the card's shape, so that a wrong card or a broken model fails here with
  // a clear message rather than in the middle of a run.
  c10::NoGradGuard no_grad;
  const auto shape = model.batch_shape(1);
  const auto numel = shape[1] * shape[2] * shape[3] * shape[4];
  const auto probe = at::linspace(model.card.range_lo, model.card.range_hi, numel,
                                  at::TensorOptions().dtype(at::kFloat).device(options.device))
                         .reshape(shape);
  at::Tensor out;
  try {
    out = forward(model, probe);
  } catch (const Error& e) {
    throw Error(ErrorKind::model, std::string("load check: ") + e.what());
  }
  if (!at::isfinite(out).all().item<bool>()) {
    throw Error(ErrorKind::model,
                "model '" + model.card.name +
                    "' gives NaN or infinite output on a valid input; the model file is "
                    "broken or its card's scale is wrong");
  }
  ink_scores(out, model.card.output_kind);  // refuses "probabilities" outside 0..1
  // Everything downstream holds a batch of these per start; a model that answers with a huge
  // map per sample is refused here rather than when the first batch cannot be allocated.
  if (out.numel() > max_sample_values) {
    throw Error(ErrorKind::model, "model '" + model.card.name + "' returns " +
                                      shape_text(out.sizes().vec()) + ", more than " +
                                      std::to_string(max_sample_values) +
                                      " values per sample; inkgen takes one ink value or map per "
                                      "crop: export a model that returns that");
  }
  model.output_shape.assign(out.sizes().begin() + 1, out.sizes().end());
  if (model.module.find_method("features")) {
    try {
      for (const auto& [name, value] : features(model, probe))
        model.layers.emplace_back(
            name, std::vector<std::int64_t>(value.sizes().begin() + 1, value.sizes().end()));
    } catch (const Error& e) {
      throw Error(ErrorKind::model, std::string("load check: ") + e.what());
    }
    for (const auto& [name, shape] : model.layers) {
      if (name == "output" && shape != model.output_shape) {
        throw Error(ErrorKind::model, "load check: the features method of model '" +
                                          model.card.name + "' returns 'output' of shape " +
                                          shape_text(shape) + ", and forward returns " +
                                          shape_text(model.output_shape) +
                                          "; 'output' must be forward's own result");
      }
    }
  }
  return model;
}

fs::path bundled_model_path() {
  // An installed inkgen finds its model beside itself; a build tree finds the source's models/.
  const fs::path installed = fs::path(INKGEN_INSTALL_DATADIR) / "models" / INKGEN_BUNDLED_MODEL;
  std::error_code ec;
  if (fs::is_regular_file(installed, ec)) return installed;
  return fs::path(INKGEN_SOURCE_DIR) / "models" / INKGEN_BUNDLED_MODEL;
}

}  // namespace inkgen
