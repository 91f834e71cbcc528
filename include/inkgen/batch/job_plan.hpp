#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "inkgen/batch/batch_job.hpp"
#include "inkgen/batch/model_cache.hpp"
#include "inkgen/io/segment.hpp"
#include "inkgen/jobs/jobs_file.hpp"
#include "inkgen/options/option_table.hpp"

namespace inkgen {

struct PlanContext {
  std::string origin;              // the JOBS file's name, for messages
  std::filesystem::path base_dir;  // relative paths in the JOBS file are taken from here
};

// What every job of one request shares, checked once: the settings after defaults, and what they
// mean for the model, the optimization and the start.
struct JobTemplate {
  JobSettings settings;
  Direction direction = Direction::maximize;
  JobSource source = JobSource::segment;
  ModelRef model;
  std::string model_as_written;
  OptimizeOptions optimize;
  NoiseSpec noise;
  std::string name;
  std::optional<int> z0;
  nlohmann::json options;  // run.json's "options", without the per-job values (crop, noise index)
};

// How to load the model the settings name: its card overrides (parsed and checked), precision
// and freeze; the device is the caller's. Error(usage) naming the option for a bad value.
LoadOptions model_load_options(const JobSettings& settings);

// `request` is the merged request (a line over the defaults), `own` what the line itself said
// (some keys are refused only where a line gives them). Relative model paths of a JOBS file are
// taken from `base` when `from_file`. Throws Error(usage) naming the option for a value the
// commands refuse.
JobTemplate plan_template(const JobRequest& request, const JobRequest& own,
                          const std::filesystem::path& base, bool from_file);

// Crops "auto": every crop of the model's size inside the segment's mask on the settings' grid,
// or a random `sample` of them; `all` receives how many the grid held.
std::vector<Crop> auto_crops(const Segment& segment, const ModelCard& card,
                             const JobSettings& settings, std::size_t* all = nullptr);

// The order the settings read a segment's layers in.
inline LayerOrder layer_order(const JobSettings& settings) {
  return settings.reverse_layers ? LayerOrder::reversed : LayerOrder::as_stored;
}

// The starts of a single command's segment crops (listed, or auto), each with its depth check
// when the settings ask for one; Error(input) when auto finds no crop inside the mask.
std::vector<StartVolume> segment_starts(const InkModel& model, const JobSettings& settings);

struct JobPlan {
  std::vector<BatchJob> jobs;
  std::vector<std::string> warnings;  // e.g. a segment with no crop inside its mask
};

// The batch's jobs in a fixed order, the same on every shard: the JOBS lines in order; within a
// line its crops as listed or in tiling order, or its noise starts 0, 1, ... Each line's keys
// override `defaults` (the batch command line), which override the single commands' defaults.
//
// Throws before anything runs: Error(input) naming the line for a value the single commands would
// refuse (check_options and the parse_* rules), a key that does not belong to the job's source,
// or two jobs that would write one folder; Error(usage) for a bad default on the command line.
// What needs a segment's files or a model (the tiling of "auto") is planned as far as it can be:
// a segment or model that cannot be read makes a job that fails when it runs, so that one bad
// segment does not stop the batch.
JobPlan plan_jobs(const std::vector<JobRequest>& lines, const JobRequest& defaults,
                  const PlanContext& context, ModelCache& models);

// The folders under --out. A start's: <segment>/<x1>_<y1>_<x2>_<y2> or noise/seed-<seed>-<i>;
// in it a job's <mode>-segment[-<name>] or <mode>-noise[-<name>], or an atlas's
// atlas-<layer>[-<name>] with a folder channel-<K> per channel and its atlas.png.
std::string segment_start_key(const std::string& segment_name, const Crop& crop);
std::string noise_start_key(std::uint64_t seed, int index);
std::string atlas_folder_key(const std::string& start_key, const std::string& layer,
                             const std::string& name);

}  // namespace inkgen
