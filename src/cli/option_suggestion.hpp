#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace inkgen::cli {

// For a command line CLI11 refused: the first `--name` that no chosen (sub)command knows, said
// plainly, with the closest known option when one is near ("unknown option --step for maximize;
// did you mean --steps?"). nullopt when every option is known (the error is about something else).
std::optional<std::string> unknown_option_message(const CLI::App& root, int argc,
                                                  const char* const* argv);

// For a command line that names no command: its first word that is not an option, when it is
// within two edits of a command ("unknown command maximze; did you mean maximize?"). nullopt
// otherwise.
std::optional<std::string> unknown_command_message(const CLI::App& root, int argc,
                                                   const char* const* argv);

// A footer for every command's help that names the global options (which may come before or
// after the command), read off the root's own options.
std::string global_options_footer(const CLI::App& root);

}  // namespace inkgen::cli
