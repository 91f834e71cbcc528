#pragma once

// A whole `inkgen attribute` run: segment starts -> attribution maps (in device batches) -> the
// files of README "Attribution" in a run folder, written as maximize's are.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "inkgen/common/output_dir.hpp"
#include "inkgen/model/ink_model.hpp"
#include "inkgen/optimize/start_volume.hpp"
#include "inkgen/options/attribution_options.hpp"
#include "inkgen/run/optimization_run.hpp"

namespace inkgen {

struct AttributionSpec {
  AttributionOptions attribution;
  std::uint64_t seed = 0;  // smoothgrad's noise; start i draws from start_seed(seed, i)
  int batch = 1;           // starts that go to the device together
  std::filesystem::path out;
  Overwrite overwrite = Overwrite::refuse;
  nlohmann::json options;  // every option with its value, for run.json
};

// Per start, in its folder (start_folder(out, i, count): `out` itself for one start):
// start/NN.png, attribution/NN.png (diverging colours on one symmetric scale, +-max|A|),
// attribution.tif (float32, one page per slice), montage.png; run.json in `out` with every start
// (and in each start folder with that start alone when there are several). run.json is written
// when the run starts ("running"), after each device batch and at the end ("done" or
// "interrupted"), always atomically; an Error is recorded in run.json ("failed") and rethrown.
// `stop` is polled between device batches.
RunOutcome run_attribution(const InkModel& model, const std::vector<StartVolume>& starts,
                           const AttributionSpec& spec, const std::atomic<bool>* stop = nullptr);

}  // namespace inkgen
