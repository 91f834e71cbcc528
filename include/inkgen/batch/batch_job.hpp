#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "inkgen/card/model_card.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/io/crop.hpp"
#include "inkgen/io/segment.hpp"
#include "inkgen/model/ink_model.hpp"
#include "inkgen/optimize/optimization.hpp"
#include "inkgen/optimize/start_volume.hpp"
#include "inkgen/options/option_table.hpp"

namespace inkgen {

// A model as a batch names it: the file and the card overrides; one key per distinct pair.
struct ModelRef {
  std::filesystem::path path;
  CardOverrides overrides;
  Precision precision = Precision::fp32;
  Freeze freeze = Freeze::yes;
  Kernels kernels = Kernels::inkgen;
  std::string key;  // path, overrides and load options as text, for the cache and for grouping
};

// Why a job failed: its error class and one-line message, as the manifest records them.
struct JobError {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
};

// One planned job of a batch: one start, one folder, one manifest line.
struct BatchJob {
  std::size_t index = 0;  // position in the planned list: what --shard divides
  int line = 0;           // line of the JOBS file it came from
  std::string key;        // its folder under --out, '/'-separated; also its identity on resume
  Direction direction = Direction::maximize;
  JobSource source = JobSource::segment;
  std::filesystem::path segment;  // segment jobs
  Crop crop;                      // segment jobs
  int noise_index = 0;            // noise jobs: start i of the line draws with start_seed(seed, i)
  std::optional<int> z0;          // unset: the card's z0, else the centred window
  LayerOrder layer_order = LayerOrder::as_stored;
  int level = 0;        // Zarr input: the multiscale level
  int depth_check = 0;  // shuffles of run.json's depth_check (0: none)
  ModelRef model;
  OptimizeOptions optimize;
  NoiseSpec noise;
  nlohmann::json options;   // the job's options as run.json records them
  std::string fingerprint;  // of everything that shapes the result; a change reruns a done job
  std::string group;        // jobs of one group may share a device batch
  std::optional<JobError> failure;  // known to fail before it runs (a segment that cannot be tiled)
  // Atlas jobs (a JOBS line with "layer"): the folder under --out of the atlas this job is a tile
  // of, and the channel it maximizes (its optimize.row_channels). Empty atlas: not an atlas job.
  std::string atlas;
  std::int64_t channel = -1;
};

}  // namespace inkgen
