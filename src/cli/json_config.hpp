#pragma once

#include <CLI/CLI.hpp>

namespace inkgen::cli {

// Reads --config files as one flat JSON object whose keys are option names without dashes
// ({"steps": 300, "lr": 0.02, "no-clamp": true, "crop": ["0,0,64,64", "64,0,128,64"]}), for the
// subcommand that was chosen. The command line overrides the file; unknown keys are errors.
class JsonConfig : public CLI::Config {
 public:
  explicit JsonConfig(const CLI::App& root) : root_(root) {}
  std::string to_config(const CLI::App* app, bool default_also, bool write_description,
                        std::string prefix) const override;
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

 private:
  // CLI11 (2.1) reads config files for the top-level app only; the keys are routed to the chosen
  // subcommand by naming it as their parent.
  const CLI::App& root_;
};

// Adds --config FILE to the top-level app, for whichever subcommand is chosen.
void add_config_option(CLI::App& root);

// Checks every --config FILE of the command line before CLI11 opens it (a FIFO would block the
// open, /dev/zero would be read forever): a regular file of at most 16 MiB, else Error(usage).
void check_config_files(int argc, const char* const* argv);

}  // namespace inkgen::cli
