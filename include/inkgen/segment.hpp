#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/crop.hpp"
#include "inkgen/raw_volume.hpp"

namespace inkgen {

// A segment directory in the Vesuvius layout: layers/00.tif .. layers/NN.tif (8- or 16-bit
// greyscale TIFF, or PNG/JPEG), and <name>_mask.png beside them. Opening reads headers only.
struct Segment {
  std::filesystem::path dir;
  std::string name;
  std::vector<std::filesystem::path> layers;  // index = layer number z
  std::optional<std::filesystem::path> mask;
  int width = 0;
  int height = 0;
  int bits = 0;

  int layer_count() const { return static_cast<int>(layers.size()); }
};

// The segment's name: its directory's name ("20230509182749" for .../20230509182749/).
std::string segment_name(const std::filesystem::path& dir);

// Throws Error(input) when the directory, a layer or the mask is missing or inconsistent.
Segment open_segment(const std::filesystem::path& dir);

// Reads layers z0 .. z0+depth-1 of `crop`, touching only those layers and the crop's rows.
// Throws Error(input) for a crop outside the image or a depth window past the last layer.
RawVolume read_crop(const Segment& segment, const Crop& crop, int z0, int depth);

// Checks that the crop and depth window fit the segment, with messages that say how.
void check_window(const Segment& segment, const Crop& crop, int z0, int depth);

}  // namespace inkgen
