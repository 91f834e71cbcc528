#pragma once

#include <cstdint>
#include <vector>

namespace inkgen {

// Raw 16-bit segment values of a crop, layer-major: voxel (z, y, x) is at (z * height + y) * width
// + x.
struct RawVolume {
  int depth = 0;
  int height = 0;
  int width = 0;
  std::vector<std::uint16_t> voxels;

  std::uint16_t at(int z, int y, int x) const {
    return voxels[(static_cast<std::size_t>(z) * height + y) * width + x];
  }
};

}  // namespace inkgen
