#pragma once

#include <filesystem>

namespace inkgen {

enum class Overwrite { refuse, allow };

// Makes `dir` ready for a run. An existing non-empty folder is an Error(output) unless
// overwriting was asked for (--force); then inkgen's own files of an earlier run are removed
// first (so no stale slice or start folder survives) and anything else in the folder is kept.
void prepare_output_dir(const std::filesystem::path& dir, Overwrite overwrite);

}  // namespace inkgen
