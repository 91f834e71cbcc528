#pragma once

// Channel atlases: every channel of a hidden layer maximized from the same start, one tile each.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/model/ink_model.hpp"

namespace inkgen {

// "all", or channels and ranges as "0-31" or "0,3,8-11", each below `channels`, in the order
// given without repeats. Throws Error(usage) naming the part that is not one.
std::vector<std::int64_t> parse_channel_list(const std::string& text, std::int64_t channels);

// The channels of `layer` that `channels` ("all" or a list) names, checked against the model:
// Error(usage) naming the model's layers when it has no such layer.
std::vector<std::int64_t> atlas_channels(const InkModel& model, const std::string& layer,
                                         const std::string& channels);

struct AtlasTile {
  std::int64_t channel = 0;
  at::Tensor diff;           // (D, H, W) or (1, D, H, W): the change the channel made to the start
  double start_value = 0.0;  // the channel's mean before and after
  double final_value = 0.0;
};

// The tile of one channel's run, from its diff.tif (which holds the change exactly): `start` is
// an entry of run.json's "starts", `run_dir` the folder of that run.json. Empty when the start has
// no objective values (it did not run to its end).
std::optional<AtlasTile> read_atlas_tile(const std::filesystem::path& run_dir,
                                         const nlohmann::json& start, std::int64_t channel);

// The layer each tile shows: the one the change is largest in (mean |diff|). The window's
// middle layer, which a feature-visualization grid of 2D images would suggest, is often one the
// channel does not touch at all.
int atlas_tile_layer(const at::Tensor& diff);

// The atlas's caption: what was maximized, on which model, from what, and how to read a tile.
std::vector<std::string> atlas_caption(const std::string& layer, const std::string& model_name,
                                       const std::string& source, int steps,
                                       const std::string& optimizer);

// Writes the atlas as one PNG, atomically: per channel, its diff at that layer (blue lighter,
// red denser, each tile on its own symmetric scale) over its depth profile (mean |diff| per
// layer), labelled with the channel, the layer and its value before -> after.
void write_atlas(const std::filesystem::path& path, const std::vector<AtlasTile>& tiles,
                 const std::vector<std::string>& caption);

}  // namespace inkgen
