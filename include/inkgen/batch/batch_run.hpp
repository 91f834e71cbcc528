#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/batch/batch_job.hpp"
#include "inkgen/batch/model_cache.hpp"
#include "inkgen/jobs/shard.hpp"
#include "inkgen/optimize/optimization.hpp"

namespace inkgen {

struct BatchOptions {
  std::filesystem::path out;
  int batch = 1;  // jobs of one group optimized together in one tensor
  std::optional<Shard> shard;
  std::string jobs_file;  // for the records
};

// Where a batch run stands, for a progress line.
struct BatchProgress {
  std::size_t total = 0;    // jobs of this shard
  std::size_t skipped = 0;  // done before this run
  std::size_t done = 0;     // done by this run
  std::size_t failed = 0;
  std::size_t running = 0;  // jobs in the device batch now optimizing
  int step = 0;             // of that device batch
  int steps = 0;
  double elapsed = 0.0;             // seconds since this run started
  std::optional<double> remaining;  // estimated seconds, once a job has ended
};

struct BatchCallbacks {
  std::function<void(const BatchProgress&)> on_progress;       // at each step report and job end
  std::function<void(const nlohmann::json& line)> on_job_end;  // each manifest line written
  const std::atomic<bool>* stop = nullptr;  // SIGINT/SIGTERM: stop after the current step
};

struct BatchSummary {
  std::size_t planned = 0;   // jobs of the whole batch
  std::size_t selected = 0;  // jobs of this shard
  std::size_t skipped = 0;   // done before (resume)
  std::size_t done = 0;
  std::size_t failed = 0;
  std::size_t interrupted = 0;
  std::size_t not_run = 0;  // left when the batch was stopped
  bool stopped = false;     // by SIGINT/SIGTERM
  double seconds = 0.0;
  std::filesystem::path manifest;
  std::size_t torn_lines_dropped = 0;          // unfinished lines of killed runs found on resuming
  std::size_t unreadable_lines = 0;            // complete manifest lines that are not job records
  std::vector<nlohmann::json> lines;           // the manifest lines this run wrote
  std::vector<std::filesystem::path> atlases;  // atlas.png files drawn (batch_atlas.hpp)
};

// Runs the jobs of the shard that the manifests in `out` do not record as done with the same
// options, each in out/<key>/ (replacing a partial folder left by a killed or failed run), and
// appends one manifest line per job as it ends. A failing job is recorded and the batch goes on;
// a device batch that fails as a whole (a model error, NaN) is retried one job at a time so that
// only the job at fault fails. Throws Error(output) when the manifest cannot be written: without
// it nothing could be resumed.
BatchSummary run_batch(const std::vector<BatchJob>& jobs, ModelCache& models,
                       const BatchOptions& options, const BatchCallbacks& callbacks = {});

}  // namespace inkgen
