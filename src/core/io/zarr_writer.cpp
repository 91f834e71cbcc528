#include "inkgen/io/zarr_writer.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/common/json_text.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

// zlib's stream format, as numcodecs' Zlib codec writes and reads it.
std::string deflate(const std::vector<std::uint16_t>& values, const fs::path& path) {
  const auto* bytes = reinterpret_cast<const Bytef*>(values.data());
  const uLong size = static_cast<uLong>(values.size() * sizeof(std::uint16_t));
  std::string out(compressBound(size), '\0');
  uLongf written = static_cast<uLongf>(out.size());
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &written, bytes, size, 5) != Z_OK)
    throw Error(ErrorKind::internal, "cannot compress the chunk " + path.string());
  out.resize(written);
  return out;
}

}  // namespace

void write_zarr_volume(const fs::path& dir, const RawVolume& volume,
                       const std::array<int, 3>& chunks) {
  const std::array<int, 3> shape{volume.depth, volume.height, volume.width};
  std::array<int, 3> chunk{};
  for (int a = 0; a < 3; ++a)
    chunk[a] = std::max(1, std::min(chunks[a], shape[a]));
  make_directories(dir);
  // Little-endian uint16 in memory is what "<u2" names; this writer runs on x86 and ARM Linux.
  static_assert(sizeof(std::uint16_t) == 2);
  const nlohmann::json meta = {{"zarr_format", 2},
                               {"shape", shape},
                               {"chunks", chunk},
                               {"dtype", "<u2"},
                               {"compressor", {{"id", "zlib"}, {"level", 5}}},
                               {"fill_value", 0},
                               {"order", "C"},
                               {"filters", nullptr},
                               {"dimension_separator", "."}};
  write_text_atomically(dir / ".zarray", json_text(meta, 2) + "\n");
  std::vector<std::uint16_t> block(static_cast<std::size_t>(chunk[0]) * chunk[1] * chunk[2]);
  for (int cz = 0; cz * chunk[0] < shape[0]; ++cz) {
    for (int cy = 0; cy * chunk[1] < shape[1]; ++cy) {
      for (int cx = 0; cx * chunk[2] < shape[2]; ++cx) {
        std::fill(block.begin(), block.end(), 0);
        for (int z = 0; z < chunk[0] && cz * chunk[0] + z < shape[0]; ++z) {
          for (int y = 0; y < chunk[1] && cy * chunk[1] + y < shape[1]; ++y) {
            const int x0 = cx * chunk[2];
            const int n = std::min(chunk[2], shape[2] - x0);
            const std::uint16_t* row =
                &volume.voxels[(static_cast<std::size_t>(cz * chunk[0] + z) * shape[1] +
                                static_cast<std::size_t>(cy * chunk[1] + y)) *
                                   shape[2] +
                               x0];
            std::memcpy(&block[(static_cast<std::size_t>(z) * chunk[1] + y) * chunk[2]], row,
                        static_cast<std::size_t>(n) * sizeof(std::uint16_t));
          }
        }
        const fs::path file =
            dir / (std::to_string(cz) + "." + std::to_string(cy) + "." + std::to_string(cx));
        write_text_atomically(file, deflate(block, file));
      }
    }
  }
}

}  // namespace inkgen
