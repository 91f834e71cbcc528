#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "inkgen/ink_model.hpp"
#include "inkgen/optimization.hpp"
#include "inkgen/output_dir.hpp"
#include "inkgen/start_volume.hpp"

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

enum class RunStatus { done, interrupted, failed };
const char* to_string(RunStatus status);

struct RunOutcome {
  RunStatus status = RunStatus::done;
  nlohmann::json record;  // what run.json holds
};

// The folder of start i: `out` itself for a single start, else out/000, out/001, ...
std::filesystem::path start_folder(const std::filesystem::path& out, std::size_t index,
                                   std::size_t count);

// Runs and writes everything. run.json is written when the run starts ("running"), at each
// snapshot, and at the end ("done", "interrupted" or "failed"), always atomically. An interrupted
// run writes the results it has and returns; an Error is recorded in run.json and rethrown.
RunOutcome run_optimization(const InkModel& model, const std::vector<StartVolume>& starts,
                            const RunSpec& spec, const OptimizeCallbacks& callbacks = {});

}  // namespace inkgen
