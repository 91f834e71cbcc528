#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "common_options.hpp"

namespace inkgen::cli {

// A subcommand: its CLI11 app, and what to run when the command line chose it. The run returns
// the exit code; errors leave it as inkgen::Error, which main turns into a one-line message.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_info_command(CLI::App& parent, const Context& context);
Command add_score_command(CLI::App& parent, const Context& context);
Command add_batch_command(CLI::App& parent, const Context& context);
Command add_synth_command(CLI::App& parent, const Context& context);
Command add_maximize_command(CLI::App& parent, const Context& context);
Command add_minimize_command(CLI::App& parent, const Context& context);
Command add_bench_command(CLI::App& parent, const Context& context);
Command add_fidelity_command(CLI::App& parent, const Context& context);
Command add_attribute_command(CLI::App& parent, const Context& context);
Command add_atlas_command(CLI::App& parent, const Context& context);
Command add_report_command(CLI::App& parent, const Context& context);

}  // namespace inkgen::cli
