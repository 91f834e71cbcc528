#include "common_options.hpp"

#include <spdlog/spdlog.h>

#include <ATen/Parallel.h>

#include <iostream>

#include "inkgen/device.hpp"
#include "inkgen/error.hpp"

namespace inkgen::cli {

void add_global_options(CLI::App& app, GlobalOptions& options) {
  app.add_option("--device", options.device,
                 "auto, cpu, cuda or cuda:N (auto: the GPU when LibTorch sees one)")
      ->capture_default_str();
  app.add_flag("-q,--quiet", options.quiet, "Print nothing but errors (and --json output)");
  app.add_flag("-v,--verbose", options.verbose, "Print debugging detail");
  app.add_flag("--json", options.json, "Print the result as one JSON object on stdout");
  app.add_option("--threads", options.threads, "CPU threads for LibTorch (0: its default)")
      ->check(CLI::NonNegativeNumber);
}

void add_model_options(CLI::App& command, ModelOptions& options, bool model_required) {
  auto* model = command.add_option("-m,--model", options.model,
                                   model_required
                                       ? "TorchScript ink model (.pt)"
                                       : "TorchScript ink model (.pt); default: the bundled model");
  if (model_required) model->required();
  command.add_option("--input-shape", options.input_shape,
                     "C,D,H,W input of a model without a card (or to override its card)");
  command.add_option("--scale", options.scale,
                     "raw-to-model value rule of a model without a card, e.g. raw16/65535 or "
                     "min(raw16>>8,200)/255");
  command.add_option("--range", options.range,
                     "lo,hi valid input range (default: the scale's full range)");
  command.add_option("--output-kind", options.output_kind,
                     "logits or probability (default logits)");
  command
      .add_option("--precision", options.precision,
                  "the model's arithmetic: fp32, bf16 or fp16 (fp16 on a GPU only)")
      ->capture_default_str();
  command.add_flag("--no-freeze", options.no_freeze,
                   "run the model as loaded, without folding its weights into constants");
}

std::string ModelOptions::path_or(const std::string& fallback) const {
  if (!model.empty()) return model;
  return fallback;
}

LoadOptions ModelOptions::load_options(const GlobalOptions& global) const {
  LoadOptions load;
  load.device = resolve_device(global.device);
  if (!input_shape.empty()) load.overrides.input_shape = parse_input_shape(input_shape);
  if (!scale.empty()) load.overrides.scale = parse_value_scale(scale).text();
  if (!range.empty()) {
    double lo = 0, hi = 0;
    char comma = 0;
    std::istringstream in(range);
    if (!(in >> lo >> comma >> hi) || comma != ',' || !(in >> std::ws).eof() || !(lo < hi)) {
      throw Error(ErrorKind::usage,
                  "--range '" + range + "' is not lo,hi with lo < hi; e.g. --range 0,1");
    }
    load.overrides.range = std::array<double, 2>{lo, hi};
  }
  if (!output_kind.empty()) load.overrides.output_kind = parse_output_kind(output_kind);
  load.precision = parse_precision(precision);
  load.freeze = no_freeze ? Freeze::no : Freeze::yes;
  return load;
}

void apply_global_options(const GlobalOptions& options) {
  spdlog::set_pattern("%^%l%$: %v");
  spdlog::set_level(options.quiet ? spdlog::level::err
                                  : (options.verbose ? spdlog::level::debug : spdlog::level::info));
  if (options.threads > 0) at::set_num_threads(options.threads);
}

InkModel load_model(const ModelOptions& options, const GlobalOptions& global,
                    const std::string& fallback) {
  const std::string path = options.path_or(fallback);
  if (path.empty()) throw Error(ErrorKind::usage, "no model given; add --model PATH");
  InkModel model = load_ink_model(path, options.load_options(global));
  spdlog::debug("loaded model '{}' from {} ({}, card: {})", model.card.name, path,
                model.device.str(), model.card_origin);
  return model;
}

void print_json(const nlohmann::json& value) {
  std::cout << value.dump(2) << std::endl;
}

}  // namespace inkgen::cli
