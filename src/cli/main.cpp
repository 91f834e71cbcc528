// inkgen: what ink-detection models look for. This file only parses the command line and turns
// errors into one-line messages with documented exit codes; the work is in the core library.
#include <spdlog/spdlog.h>

#include <torch/version.h>

#include <atomic>
#include <csignal>
#include <iostream>

#include "commands.hpp"
#include "inkgen/common/allocator_tuning.hpp"
#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/common/version.hpp"
#include "json_config.hpp"
#include "option_suggestion.hpp"

namespace {

// Set by SIGINT/SIGTERM; long runs poll it between steps, write what they have and stop.
// A signal handler can reach nothing but a static, so this is the one in the program.
std::atomic<bool> stop_requested{false};

extern "C" void on_stop_signal(int) {
  stop_requested.store(true);
}

int fail(inkgen::ErrorKind kind, const std::string& message) {
  // Whatever a message quotes (a path, a name, CLI11's echo of an argument), it goes out as one
  // line of text: control bytes and invalid UTF-8 escaped, length bounded.
  std::cerr << "inkgen: error: " << inkgen::excerpt(message, 1000) << std::endl;
  return inkgen::exit_code(kind);
}

}  // namespace

int main(int argc, char** argv) {
  inkgen::reuse_freed_memory();
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);

  CLI::App app{
      "inkgen: shows what an ink-detection model has learned to look for, by optimizing its input "
      "volume"};
  app.set_version_flag(
      "--version", std::string("inkgen ") + INKGEN_VERSION + " (LibTorch " + TORCH_VERSION + ")");
  app.fallthrough();  // global options may come after the subcommand
  app.require_subcommand(0, 1);

  inkgen::cli::GlobalOptions global;
  inkgen::cli::add_global_options(app, global);
  inkgen::cli::add_config_option(app);
  const inkgen::cli::Context context{global, stop_requested};
  const std::vector<inkgen::cli::Command> commands{
      inkgen::cli::add_info_command(app, context),
      inkgen::cli::add_score_command(app, context),
      inkgen::cli::add_synth_command(app, context),
      inkgen::cli::add_maximize_command(app, context),
      inkgen::cli::add_minimize_command(app, context),
      inkgen::cli::add_bench_command(app, context),
      inkgen::cli::add_batch_command(app, context),
      inkgen::cli::add_fidelity_command(app, context),
      inkgen::cli::add_attribute_command(app, context),
      inkgen::cli::add_atlas_command(app, context),
      inkgen::cli::add_report_command(app, context),
  };

  const std::string footer = inkgen::cli::global_options_footer(app);
  for (const auto& command : commands)
    command.app->footer(footer);

  try {
    inkgen::cli::check_config_files(argc, argv);
  } catch (const inkgen::Error& e) {
    return fail(e.kind(), e.what());
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 says "The following arguments were not expected: 5 --step" (reversed, no hint).
    // A mistyped command first: its options are unknown only because the command is.
    if (const auto unknown = inkgen::cli::unknown_command_message(app, argc, argv))
      return fail(inkgen::ErrorKind::usage, *unknown);
    if (const auto unknown = inkgen::cli::unknown_option_message(app, argc, argv))
      return fail(inkgen::ErrorKind::usage, *unknown);
    return fail(inkgen::ErrorKind::usage, std::string(e.what()) + "; see inkgen --help");
  }

  try {
    inkgen::cli::apply_global_options(global);
    for (const auto& command : commands) {
      if (command.app->parsed()) return command.run();
    }
    return fail(inkgen::ErrorKind::usage, "no command given; see inkgen --help");
  } catch (...) {
    const auto failure = inkgen::report_failure(std::current_exception());
    return fail(failure.kind, failure.message);
  }
}
