#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/io/crop.hpp"
#include "inkgen/options/option_table.hpp"

namespace inkgen {

// Reads a JOBS file's text: JSON Lines (one object per line) when its first job line starts with
// '{' (or '['), else a plain list of segment directories, one per line. Blank lines and lines
// starting with '#' are skipped in both. `origin` names the file in messages. Throws Error(input)
// naming the line for a malformed line, an unknown or repeated key, a value of the wrong type, or a
// file without jobs.
std::vector<JobRequest> parse_jobs_text(const std::string& text, const std::string& origin);

// Reads the file; Error(input) when it cannot be read.
std::vector<JobRequest> read_jobs_file(const std::string& path);

}  // namespace inkgen
