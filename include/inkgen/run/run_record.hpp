#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/common/enum_names.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/model/ink_model.hpp"
#include "inkgen/model/ink_score.hpp"
#include "inkgen/optimize/optimization.hpp"
#include "inkgen/optimize/start_volume.hpp"

namespace inkgen {

// The pieces of run.json, the machine-readable record of a run (README "run.json").
nlohmann::json score_json(const InkScore& score);
nlohmann::json trace_json(const std::vector<InkScore>& trace);
nlohmann::json model_json(const InkModel& model);
// The fixed value scales of a run's pictures, stated so that they can be read back.
nlohmann::json scale_json(const InkModel& model);

// UTC, ISO 8601, seconds.
std::string utc_now();

enum class RunStatus { done, interrupted, failed };
inline constexpr EnumNames<RunStatus, 3> run_status_names{{{RunStatus::done, "done"},
                                                           {RunStatus::interrupted, "interrupted"},
                                                           {RunStatus::failed, "failed"}}};
const char* to_string(RunStatus status);

struct RunOutcome {
  RunStatus status = RunStatus::done;
  nlohmann::json record;       // what run.json holds
  std::optional<Error> error;  // why, when the status is failed (run_optimizations_together)
};

// The folder of start i: `out` itself for a single start, else out/000, out/001, ...
std::filesystem::path start_folder(const std::filesystem::path& out, std::size_t index,
                                   std::size_t count);

// What every run.json begins with, before its starts: versions, "running", the model, device,
// seed, options, the pictures' scales, when and by which process.
nlohmann::json new_run_record(const InkModel& model, nlohmann::json mode, std::uint64_t seed,
                              nlohmann::json options, nlohmann::json scale);

// The run.json of one run folder while the run goes, for every kind of run (optimization,
// single or batched, and attribution), so that they build, stamp, fail and write their records
// the same way: rewritten atomically at each change, so that an interrupted or failed run leaves a
// readable record. With several starts, each start folder that has begun gets a run.json of its
// own holding that start alone.
class RunRecordFile {
 public:
  using Clock = std::chrono::steady_clock;

  // `header` from new_run_record; one "pending" entry per start, in out/ or its start folders.
  RunRecordFile(std::filesystem::path out, nlohmann::json header,
                const std::vector<StartVolume>& starts, Clock::time_point t0 = Clock::now());

  nlohmann::json& json() { return record_; }
  nlohmann::json& start(std::size_t i) { return record_["starts"][i]; }
  // The steps done so far, written with their rates (optimization runs).
  void set_steps(int steps, double crop_steps);
  // Stamps the wall time (and steps) and writes.
  void write();
  // The run's end: its status, when, written.
  void finish(RunStatus status);
  // Records the error as the run's end and writes what it can: the folder may be what failed,
  // and the error given is the one to report.
  void fail(const Error& error);

 private:
  std::filesystem::path out_;
  nlohmann::json record_;
  Clock::time_point t0_;
  std::optional<std::pair<int, double>> steps_;
};

}  // namespace inkgen
