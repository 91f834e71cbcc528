#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "inkgen/options/option_table.hpp"

namespace inkgen::cli {

// The command line's values of the option table's options, as CLI11 leaves them.
struct TableValues {
  std::map<std::string, std::vector<std::string>> given;  // key -> values, for options given
  std::map<std::string, bool> flags;                      // key -> set, for flags
};

// Registers every option of the table offered in `scope` (or, when `keys` is not empty, only
// those keys) with CLI11: its names, help, and the default read off JobSettings{}. Values are
// checked after parsing by table_request, with the same rules as a JOBS line.
void add_table_options(CLI::App& app, unsigned scope, TableValues& values,
                       const std::vector<std::string>& keys = {}, const std::string& group = "");

// The request the command line made; Error(usage) naming the option for a value of the wrong
// type.
JobRequest table_request(const TableValues& values);

}  // namespace inkgen::cli
