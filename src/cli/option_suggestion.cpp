#include "option_suggestion.hpp"

#include <algorithm>
#include <vector>

namespace inkgen::cli {

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool knows(const CLI::App& app, const std::string& name) {
  return app.get_option_no_throw(name) != nullptr;
}

constexpr std::size_t too_far = 3;  // farther than two edits is no suggestion

}  // namespace

std::optional<std::string> unknown_option_message(const CLI::App& root, int argc,
                                                  const char* const* argv) {
  const CLI::App* command = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (command == nullptr) {
      for (const CLI::App* sub : root.get_subcommands({}))
        if (sub->get_name() == arg) command = sub;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) continue;
    const std::string name = arg.substr(0, arg.find('='));
    if (knows(root, name) || (command != nullptr && knows(*command, name))) continue;
    const CLI::App& scope = command != nullptr ? *command : root;
    std::string best;
    std::size_t best_distance = too_far;
    for (const CLI::Option* option : scope.get_options({})) {
      for (const std::string& long_name : option->get_lnames()) {
        const std::size_t d = edit_distance(name.substr(2), long_name);
        if (d < best_distance) {
          best_distance = d;
          best = "--" + long_name;
        }
      }
    }
    const std::string where = command != nullptr ? " for " + command->get_name() : "";
    const std::string help =
        "inkgen" + (command != nullptr ? " " + command->get_name() : std::string()) + " --help";
    return "unknown option " + name.substr(0, 60) + where + "; " +
           (best.empty() ? "see " + help : "did you mean " + best + "? (see " + help + ")");
  }
  return std::nullopt;
}

std::optional<std::string> unknown_command_message(const CLI::App& root, int argc,
                                                   const char* const* argv) {
  const auto commands = root.get_subcommands({});
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    for (const CLI::App* sub : commands)
      if (sub->get_name() == arg) return std::nullopt;  // a command was given
  }
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.empty() || arg[0] == '-') continue;
    std::string best;
    std::size_t best_distance = too_far;
    for (const CLI::App* sub : commands) {
      const std::size_t d = edit_distance(arg, sub->get_name());
      if (d < best_distance) {
        best_distance = d;
        best = sub->get_name();
      }
    }
    if (best.empty()) continue;  // an option's value, or a word far from every command
    return "unknown command " + arg.substr(0, 60) + "; did you mean " + best +
           "? (see inkgen --help)";
  }
  return std::nullopt;
}

std::string global_options_footer(const CLI::App& root) {
  std::string names;
  for (const CLI::Option* option : root.get_options({})) {
    const auto& long_names = option->get_lnames();
    if (long_names.empty() || long_names.front() == "help" || long_names.front() == "version")
      continue;
    names += (names.empty() ? "--" : ", --") + long_names.front();
  }
  return "Global options, before or after the command (inkgen --help describes them): " + names;
}

}  // namespace inkgen::cli
