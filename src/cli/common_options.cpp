#include "common_options.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <ATen/Parallel.h>

#include <cstdlib>
#include <iostream>

#include "inkgen/batch/job_plan.hpp"
#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/cpu_threads.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/common/json_text.hpp"
#include "inkgen/model/device.hpp"

namespace inkgen::cli {

void add_global_options(CLI::App& app, GlobalOptions& options) {
  app.add_option("--device", options.device,
                 "auto, cpu, cuda or cuda:N (auto: the GPU when LibTorch sees one)")
      ->capture_default_str();
  app.add_flag("-q,--quiet", options.quiet, "Print nothing but errors (and --json output)");
  app.add_flag("-v,--verbose", options.verbose, "Print debugging detail");
  app.add_flag("--json", options.json, "Print the result as one JSON object on stdout");
  app.add_option("--threads", options.threads,
                 "CPU threads for LibTorch (0: one per CPU this process may use, or "
                 "OMP_NUM_THREADS when set)")
      // CLI11's own NonNegativeNumber quotes DBL_MAX in 300 digits.
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            const auto n = parse_whole(text);
            return n && *n >= 0 ? ""
                                : "must be a whole number >= 0 (0: one per CPU), got '" +
                                      excerpt(text) + "'";
          },
          "N >= 0"));
}

void add_model_options(CLI::App& command, ModelOptions& options) {
  add_table_options(command, 0, options.values, model_option_keys());
}

namespace {

LoadOptions load_options(const JobSettings& s, const GlobalOptions& global) {
  LoadOptions load = model_load_options(s);
  load.device = resolve_device(global.device);
  return load;
}

}  // namespace

void apply_global_options(const GlobalOptions& options) {
  // With --json, stdout carries one JSON document and nothing else; the log goes to stderr.
  if (options.json) spdlog::set_default_logger(spdlog::stderr_color_st("inkgen"));
  spdlog::set_pattern("%^%l%$: %v");
  spdlog::set_level(options.quiet ? spdlog::level::err
                                  : (options.verbose ? spdlog::level::debug : spdlog::level::info));
  const auto threads =
      thread_count(options.threads, usable_cpus(), std::getenv("OMP_NUM_THREADS") != nullptr);
  if (threads) at::set_num_threads(*threads);
}

InkModel load_model(const JobSettings& settings, const GlobalOptions& global,
                    const std::string& fallback) {
  const std::string path = settings.model.empty() ? fallback : settings.model;
  if (path.empty()) throw Error(ErrorKind::usage, "no model given; add --model PATH");
  InkModel model = load_ink_model(path, load_options(settings, global));
  spdlog::debug("loaded model '{}' from {} ({}, card: {})", model.card.name, path,
                model.device.str(), model.card_origin);
  return model;
}

InkModel load_model(const ModelOptions& options, const GlobalOptions& global,
                    const std::string& fallback) {
  return load_model(resolve_settings(table_request(options.values)), global, fallback);
}

void print_json(const nlohmann::json& value) {
  std::cout << json_text(value, 2) << std::endl;
}

}  // namespace inkgen::cli
