#pragma once

// Surface volumes stored as Zarr (v2 or v3) arrays or OME-Zarr groups, laid out (layers, Y, X) as
// the Vesuvius community writes them (villa's ink inference reads surface-volume.zarr, (21, Y, X)
// uint8). Only what a crop touches is read: the chunk files of its layers, rows and columns.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "inkgen/io/crop.hpp"

namespace inkgen {

enum class ChunkCodec { none, blosc, zstd, zlib_or_gzip };

struct ZarrArray {
  std::filesystem::path dir;  // the array itself (for an OME-Zarr group: its level's folder)
  int format = 2;             // 2 or 3
  std::array<std::int64_t, 3> shape{};   // layers, rows, columns
  std::array<std::int64_t, 3> chunks{};  // the same, of one chunk
  int bytes = 1;                         // 1 (uint8) or 2 (uint16)
  bool big_endian = false;
  ChunkCodec codec = ChunkCodec::none;
  bool crc32c_suffix = false;    // v3: a 4-byte checksum after the compressed bytes
  std::string key_prefix;        // "c/" for v3's default chunk keys, "" otherwise
  char separator = '.';          // between the chunk indices in a key
  std::uint16_t fill_value = 0;  // of chunks that were never written

  std::int64_t chunk_voxels() const { return chunks[0] * chunks[1] * chunks[2]; }
};

// Whether `path` is a Zarr array or group (holds .zarray, .zgroup or zarr.json).
bool is_zarr(const std::filesystem::path& path);

// Opens the array at `path`: an array itself, or an OME-Zarr group's multiscale level `level`
// (0: full resolution). Reads metadata only. Throws Error(input) naming what is unsupported or
// inconsistent (another dtype or dimension count, sharding, transposed or F-order chunks, an
// unknown compressor) and the fix.
ZarrArray open_zarr_array(const std::filesystem::path& path, int level = 0);

// Layers [z_begin, z_end) of `crop`, layer-major (z, y, x), 16-bit (uint8 widened by 257 as for
// 8-bit TIFF layers). Reads and decodes only the chunks that intersect the region; a missing chunk
// file is the fill value, as Zarr writers leave chunks that hold only it. `chunks_read`, when
// given, counts the chunk files read. Throws Error(input) for a chunk that cannot be decoded.
std::vector<std::uint16_t> read_zarr_region(const ZarrArray& array, int z_begin, int z_end,
                                            const Crop& crop, int* chunks_read = nullptr);

}  // namespace inkgen
