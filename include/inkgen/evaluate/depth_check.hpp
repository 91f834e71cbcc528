#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/io/crop.hpp"
#include "inkgen/io/segment.hpp"
#include "inkgen/model/ink_model.hpp"
#include "inkgen/model/ink_score.hpp"
#include "inkgen/optimize/start_volume.hpp"

namespace inkgen {

// Whether a crop's depth window and direction suit a model: its score with the layers as stored,
// with the whole stack reversed (each under the same window rule), and with the window's layers
// of the order in use shuffled. A model that reads ink where the window is centred scores the
// right order clearly above the shuffles; a higher score reversed says the layers run the other
// way (villa's issues #1648, #1867); shuffles that score like the real order say the score does
// not come from depth structure at all (villa PR #1813).
struct DepthCheck {
  LayerOrder in_use = LayerOrder::as_stored;
  int z0_as_stored = 0, z0_reversed = 0;
  InkScore as_stored;
  InkScore reversed;
  std::vector<std::uint64_t> shuffle_seeds;
  std::vector<InkScore> shuffled;
};

// Reads the crop in both orders of `segment` (the order it was opened in is the one in use) and
// scores 2 + `shuffles` volumes. `z0` unset: the card's z0, else the centred window.
DepthCheck depth_check(const InkModel& model, const Segment& segment, const Crop& crop,
                       std::optional<int> z0, int shuffles, std::uint64_t seed);

nlohmann::json depth_check_json(const DepthCheck& check);

// Records the depth check of a start read from `segment` in its source (run.json's
// starts[i].source.depth_check) when `shuffles` > 0.
void attach_depth_check(const InkModel& model, const Segment& segment, StartVolume& start,
                        int shuffles, std::uint64_t seed);

// One sentence for people: which order the model prefers, and whether the order matters.
std::string depth_check_verdict(const DepthCheck& check);

}  // namespace inkgen
