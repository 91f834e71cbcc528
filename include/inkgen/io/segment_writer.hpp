#pragma once

#include <filesystem>
#include <opencv2/core/mat.hpp>
#include <string>

#include "inkgen/io/raw_volume.hpp"

namespace inkgen {

// The file name of layer z in a stack of `count` layers: 00.tif .. 64.tif, 000.tif past 100.
std::string layer_file_name(int z, int count, const std::string& extension = ".tif");

// Writes a volume in the Vesuvius segment layout that open_segment reads and other tools know:
// dir/layers/NN.tif (16-bit greyscale) and dir/<name>_mask.png (8-bit, 255 = papyrus), each
// file atomically. An empty mask means "all inside".
void write_segment(const std::filesystem::path& dir, const RawVolume& volume,
                   const cv::Mat& mask = cv::Mat());

}  // namespace inkgen
