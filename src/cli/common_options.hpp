#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "inkgen/ink_model.hpp"

namespace inkgen::cli {

// Options every subcommand takes.
struct GlobalOptions {
  std::string device = "auto";
  bool quiet = false;
  bool verbose = false;
  bool json = false;
  int threads = 0;  // 0: LibTorch's default
};

// What a subcommand needs from main: the global options and the stop request set by SIGINT/SIGTERM.
struct Context {
  const GlobalOptions& global;
  const std::atomic<bool>& stop_requested;
};

// --model and the card overrides for models without a card.
struct ModelOptions {
  std::string model;
  std::string input_shape;
  std::string scale;
  std::string range;
  std::string output_kind;
  std::string precision = "fp32";
  bool no_freeze = false;

  // `fallback` is used when --model is not given; empty means --model is required.
  std::string path_or(const std::string& fallback) const;
  LoadOptions load_options(const GlobalOptions& global) const;
};

void add_global_options(CLI::App& app, GlobalOptions& options);
void add_model_options(CLI::App& command, ModelOptions& options, bool model_required);
// Applies --quiet/--verbose to the logger and --threads to LibTorch.
void apply_global_options(const GlobalOptions& options);

// Loads the model named by the options, logging what was loaded.
InkModel load_model(const ModelOptions& options, const GlobalOptions& global,
                    const std::string& fallback = "");

// Prints one JSON object on stdout (the --json answer of a command).
void print_json(const nlohmann::json& value);

}  // namespace inkgen::cli
