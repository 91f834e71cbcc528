#pragma once

#include <filesystem>
#include <vector>

#include "inkgen/io/crop.hpp"

namespace inkgen {

// Size of a multipage float32 TIFF (diff.tif, a synthetic segment's ground truth), from its
// headers alone.
struct FloatStackHeader {
  int pages = 0;
  int width = 0;
  int height = 0;
};

// Throws Error(input) naming the file when it cannot be opened or its first page is not one
// float32 sample per pixel.
FloatStackHeader probe_float_tiff_stack(const std::filesystem::path& path);

// Pages first_page .. first_page+count-1 of `region`, page-major: value (p, y, x) of the region is
// at (p * region.height() + y) * region.width() + x. Decodes only the strips or tiles the region's
// rows touch, so that a window of a full-size ground truth costs the window's memory alone.
// Throws Error(input) for pages or a region outside the stack, or a page of another kind or size.
std::vector<float> read_float_tiff_stack(const std::filesystem::path& path, const Crop& region,
                                         int first_page, int count);

}  // namespace inkgen
