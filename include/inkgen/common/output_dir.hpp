#pragma once

#include <filesystem>

namespace inkgen {

enum class Overwrite { refuse, allow };

// Makes `dir` ready for a run. An existing non-empty folder is an Error(output) unless
// overwriting was asked for (--force); then exactly the files an earlier run of inkgen wrote there
// are removed, by name and pattern (README "What a run writes"): run.json, montage.png, diff.tif,
// attribution.tif, the slice files of start/, result/, diff/, attribution/, volume/ and
// snapshots/step_N/, start folders NNN/ (three or more digits) with those same files, and the
// temporaries of an interrupted write of any of them. A folder of inkgen's goes only when nothing
// is left in it; every other file and folder stays where it is. Symbolic links are never followed
// nor removed.
void prepare_output_dir(const std::filesystem::path& dir, Overwrite overwrite);

// The refusals of prepare_output_dir alone (a file, or a non-empty folder without --force),
// changing nothing but an abandoned run's status: for a command to refuse before it says what it
// will write.
void check_output_dir(const std::filesystem::path& dir, Overwrite overwrite);

}  // namespace inkgen
