#pragma once

#include <cstdint>
#include <filesystem>

#include "inkgen/io/crop.hpp"

namespace inkgen {

// Size and bit depth of one greyscale layer image, read from its header alone.
struct LayerHeader {
  int width = 0;
  int height = 0;
  int bits = 0;  // 8 or 16
};

// TIFF (8/16-bit greyscale, striped or tiled, any compression libtiff knows), PNG or JPEG.
// Throws Error(input) naming the file and the problem.
LayerHeader probe_layer(const std::filesystem::path& path);

// Reads the pixels of `region` (inside the image) into `out` (region.height() * region.width()
// values, row-major), widened to 16 bits as raw8 * 257. A TIFF decodes only the strips or tiles
// that the region touches, so that a crop of a layer tens of thousands of pixels a side costs
// memory for the crop's rows alone; PNG and JPEG are decoded whole.
void read_layer_region(const std::filesystem::path& path, const Crop& region, std::uint16_t* out);

bool is_layer_file_name(const std::filesystem::path& path);

}  // namespace inkgen
