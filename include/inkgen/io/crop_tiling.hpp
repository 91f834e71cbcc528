#pragma once

#include <cstdint>
#include <filesystem>
#include <opencv2/core/mat.hpp>
#include <vector>

#include "inkgen/io/crop.hpp"
#include "inkgen/io/segment.hpp"

namespace inkgen {

// How "crops": "auto" tiles a segment: crops of the model's input size on a grid.
struct Tiling {
  int crop_width = 0;
  int crop_height = 0;
  int stride_x = 0;  // 0: the crop width (crops side by side, not overlapping)
  int stride_y = 0;  // 0: the crop height
};

// Every crop of the grid (x = 0, stride, 2 stride, ...; the same in y) that lies inside the
// image and whose pixels are all inside the mask (mask > 0), in raster order: rows of crops top
// to bottom, each row left to right. An empty mask means everything is inside. Throws
// Error(usage) for a crop size or stride below 1, Error(input) for a mask that is not 8-bit
// single-channel or not width x height.
std::vector<Crop> tile_crops(const cv::Mat& mask, int width, int height, const Tiling& tiling);

// `count` of the crops, drawn without repeats from `seed` by our own generator (the same on
// every platform), kept in tiling order; all of them when count >= their number.
std::vector<Crop> sample_crops(const std::vector<Crop>& crops, int count, std::uint64_t seed);

// The mask as 8-bit greyscale (OpenCV); Error(input) when it cannot be decoded.
cv::Mat read_mask(const std::filesystem::path& path);

// The segment's mask in its own pixel grid (empty without one): a full-resolution mask of a
// coarser OME-Zarr level is shrunk to it, a pixel inside where most of its block is.
cv::Mat segment_mask(const Segment& segment);

}  // namespace inkgen
