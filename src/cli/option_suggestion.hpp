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

}  // namespace inkgen::cli
