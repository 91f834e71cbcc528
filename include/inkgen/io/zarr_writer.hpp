#pragma once

// Writes a surface volume as a Zarr v2 array, (layers, Y, X) uint16, the layout the community's
// tools (zarr-python, villa's vesuvius) and inkgen's own reader open.
#include <array>
#include <cstdint>
#include <filesystem>

#include "inkgen/io/raw_volume.hpp"

namespace inkgen {

// Writes `volume` to the folder `dir` (made if missing): .zarray, then one zlib-compressed chunk
// file per chunk ("z.y.x", C order, edge chunks padded with 0 as Zarr requires), each atomically.
// Throws Error(output) when a file cannot be written.
void write_zarr_volume(const std::filesystem::path& dir, const RawVolume& volume,
                       const std::array<int, 3>& chunks = {8, 128, 128});

}  // namespace inkgen
