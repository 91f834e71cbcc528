
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "inkgen/common/version.hpp"

namespace inkgen::cli {

namespace {

nlohmann::json describe(const InkModel& model) {
  const auto& card = model.card;
  nlohmann::json j;
  j["path"] = model.path.string();
  j["name"] = card.name;
  j["card_origin"] = model.card_origin;
  j["card"] = card.json;
  j["input_shape"] = model.batch_shape(1);
  j["scale"] = card.scale.text();
  j["range"] = {card.range_lo, card.range_hi};
  j["z0"] = card.z0 ? nlohmann::json(*card.z0) : nlohmann::json(nullptr);
  j["output_kind"] = to_string(card.output_kind);
  j["output_shape"] = model.output_shape;
  j["output_meaning"] = card.output_meaning;
  j["layers"] = nlohmann::json::object();
  for (const auto& [name, shape] : model.layers)
    j["layers"][name] = shape;
  j["parameters"] = model.parameter_count;
  j["frozen"] = model.frozen;
  j["single_channel_convolutions"] = model.single_channel_convolutions;
  j["window_max_pools"] = model.window_max_pools;
  j["device"] = model.device.str();
  j["threads"] = at::get_num_threads();
  j["inkgen_version"] = INKGEN_VERSION;
  j["torch_version"] = TORCH_VERSION;
  return j;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// What the loader did to the module, so that a user comparing timings knows which path ran.
std::string runtime_text(const InkModel& model) {
  const auto counted = [](int n, const std::string& what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  std::string own;
  if (model.single_channel_convolutions > 0)
    own =
        counted(model.single_channel_convolutions, "one-channel convolution") + " (input gradient)";
  if (model.window_max_pools > 0)
    own += (own.empty() ? "" : ", ") + counted(model.window_max_pools, "max pool");
  return std::string(model.frozen ? "frozen" : "unfrozen") +
         (own.empty() ? ": LibTorch runs every operation" : "; inkgen's own kernels for " + own);
}

}  // namespace

Command add_info_command(CLI::App& parent, const Context& context) {
  auto options = std::make_shared<ModelOptions>();
  CLI::App* app = parent.add_subcommand("info", "Show a model's card, size and output shape");
  add_model_options(*app, *options);
  return {app, [options, &context]() {
            const InkModel model =
                load_model(*options, context.global, bundled_model_path().string());
            const nlohmann::json j = describe(model);
            if (context.global.json) {
              print_json(j);
              return 0;
            }
            const auto& card = model.card;
            std::cout << "model       " << card.name << "  (" << model.path.string() << ")\n"
                      << "card        " << model.card_origin << "\n"
                      << "input       " << shape_text(model.batch_shape(1)) << "  N,C,D,H,W\n"
                      << "scale       " << card.scale.text()
                      << (card.normalization.kind == NormalizationKind::none
                              ? std::string()
                              : ", then per crop " + card.normalization.to_json().dump())
                      << ", valid range [" << card.range_lo << ", " << card.range_hi << "]\n"
                      << "z0          "
                      << (card.z0 ? std::to_string(*card.z0)
                                  : std::string("not in the card: the centred window"))
                      << "\n"
                      << "output      " << to_string(card.output_kind) << " "
                      << shape_text(model.output_shape) << " per sample"
                      << (card.output_meaning.empty() ? "" : ": " + card.output_meaning) << "\n"
                      << "layers      "
                      << (model.layers.empty()
                              ? std::string("none (no features method: only logit and bce "
                                            "objectives)")
                              : layers_text(model) + "  C,(T,)H,W per sample")
                      << "\n"
                      << "parameters  " << model.parameter_count << "\n"
                      << "runtime     " << runtime_text(model) << "\n"
                      << "device      " << model.device.str() << ", " << at::get_num_threads()
                      << " CPU threads\n";
            if (card.json.contains("metrics"))
              std::cout << "metrics     " << card.json["metrics"].dump() << "\n";
            return 0;
          }};
}

}  // namespace inkgen::cli
