#pragma once

// The atlases of a batch: a JOBS line with "layer" runs one job per channel; once every channel
// of a start has run, its atlas.png is drawn from their folders.
#include <filesystem>
#include <vector>

#include "inkgen/batch/batch_job.hpp"

namespace inkgen {

// Writes out/<atlas>/atlas.png, atomically, for every atlas of `jobs` whose channel jobs are all
// done (by this run or an earlier one, on any shard), and returns the files written. An atlas
// with a channel not yet done, failed or unreadable is left for a later run: the last shard to
// finish, or a rerun of the batch, draws it.
std::vector<std::filesystem::path> write_batch_atlases(const std::vector<BatchJob>& jobs,
                                                       const std::filesystem::path& out);

}  // namespace inkgen
