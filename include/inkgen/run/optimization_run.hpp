#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/common/error.hpp"
#include "inkgen/common/output_dir.hpp"
#include "inkgen/model/ink_model.hpp"
#include "inkgen/optimize/optimization.hpp"
#include "inkgen/optimize/start_volume.hpp"
#include "inkgen/run/run_record.hpp"

namespace inkgen {

// A whole run: starts -> optimization (in batches) -> the files of README "What a run writes".
struct RunSpec {
  std::string source;  // "noise" or "segment", for the record
  OptimizeOptions optimize;
  int batch = 1;  // starts optimized together in one tensor
  std::filesystem::path out;
  Overwrite overwrite = Overwrite::refuse;
  nlohmann::json options;  // every option with its value, for run.json
};

// Runs and writes everything. run.json is written when the run starts ("running"), at each
// snapshot, and at the end ("done", "interrupted" or "failed"), always atomically. An interrupted
// run writes the results it has and returns; an Error is recorded in run.json and rethrown.
RunOutcome run_optimization(const InkModel& model, const std::vector<StartVolume>& starts,
                            const RunSpec& spec, const OptimizeCallbacks& callbacks = {});

// Runs of one start each that share the device (batch jobs): start i belongs to specs[i], whose
// folder it gets, written exactly as run_optimization writes a run of a single start; the starts
// are optimized together in one batch tensor with specs.front().optimize (the runs must agree on
// it; each keeps its own source and options for its record). A run whose folder cannot be
// prepared or whose files cannot be written fails alone, with the error in its outcome. An Error
// of the shared optimization (a model failure, output turning NaN) is recorded in every run.json
// and rethrown, so that the caller can retry the starts one by one.
std::vector<RunOutcome> run_optimizations_together(const InkModel& model,
                                                   const std::vector<StartVolume>& starts,
                                                   const std::vector<RunSpec>& specs,
                                                   const OptimizeCallbacks& callbacks = {});

}  // namespace inkgen
