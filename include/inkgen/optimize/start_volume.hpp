#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/card/model_card.hpp"
#include "inkgen/io/crop.hpp"
#include "inkgen/io/segment.hpp"
#include "inkgen/optimize/noise.hpp"

namespace inkgen {

// Where one optimization starts: a volume on the model's input scale and what it came from.
struct StartVolume {
  at::Tensor values;      // (C, D, H, W), float32, CPU
  nlohmann::json source;  // for run.json: {"kind": "noise", ...} or {"kind": "segment", ...}
};

// Noise start `index` of `seed`, drawn alone (noise kind auto resolved against the card).
StartVolume noise_start(const ModelCard& card, const NoiseSpec& noise, std::uint64_t seed,
                        int index);
// `count` noise starts; start i depends on (seed, i) alone, not on how many are drawn.
std::vector<StartVolume> noise_starts(const ModelCard& card, int count, const NoiseSpec& noise,
                                      std::uint64_t seed);

// The real crop, scaled by the card's rule. Throws Error(input) when the crop does not have the
// model's size or the window does not fit the segment.
StartVolume segment_start(const ModelCard& card, const Segment& segment, const Crop& crop, int z0);

// A result on the model's scale back on the scale of the card's raw rule, through the statistics
// its start was normalised with (source.normalization); the values themselves when the card has
// no normalisation; nullopt for a per-crop normalisation without statistics (a noise start).
std::optional<at::Tensor> undo_normalization(const ModelCard& card, const at::Tensor& values,
                                             const nlohmann::json& source);

// The seed of start i of a run seeded with `seed` (also used for each start's jitter).
std::uint64_t start_seed(std::uint64_t seed, int index);

// Where a start came from, in a few words for captions: "<segment> crop x1,y1,x2,y2 z0 K" or
// "<kind> noise, seed S".
std::string describe_source(const nlohmann::json& source);

}  // namespace inkgen
