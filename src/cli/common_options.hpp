#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "inkgen/model/ink_model.hpp"
#include "table_options.hpp"

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

// --model and the card overrides, as the option table declares them.
struct ModelOptions {
  TableValues values;
};

void add_global_options(CLI::App& app, GlobalOptions& options);
void add_model_options(CLI::App& command, ModelOptions& options);
// Applies --quiet/--verbose to the logger and --threads to LibTorch.
void apply_global_options(const GlobalOptions& options);

// Loads the model the settings name (`fallback` when they name none), logging what was loaded.
InkModel load_model(const JobSettings& settings, const GlobalOptions& global,
                    const std::string& fallback);
InkModel load_model(const ModelOptions& options, const GlobalOptions& global,
                    const std::string& fallback);

// Prints one JSON object on stdout (the --json answer of a command).
void print_json(const nlohmann::json& value);

}  // namespace inkgen::cli
