// libFuzzer target: arbitrary bytes as a Zarr array, read as inkgen reads surface volumes. The
// first byte picks the format (v2 .zarray or v3 zarr.json); the rest up to the first NUL is the
// metadata, what follows it is chunk 0 of the array. Opening and reading the first chunk's corner
// must answer with voxels or an inkgen::Error. Links no LibTorch library but c10.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "inkgen/common/error.hpp"
#include "inkgen/io/zarr_array.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path& scratch() {
  static const fs::path path =
      fs::temp_directory_path() / ("inkgen-fuzz-zarr-" + std::to_string(::getpid()));
  return path;
}

void write(const fs::path& path, const std::uint8_t* data, std::size_t size) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::error_code ec;
  fs::remove_all(scratch(), ec);
  const bool v3 = data[0] & 1;
  const std::uint8_t* meta = data + 1;
  const std::uint8_t* end = data + size;
  const std::uint8_t* nul = std::find(meta, end, std::uint8_t{0});
  write(scratch() / (v3 ? "zarr.json" : ".zarray"), meta, static_cast<std::size_t>(nul - meta));
  const std::uint8_t* chunk = nul == end ? end : nul + 1;
  write(scratch() / (v3 ? "c/0/0/0" : "0.0.0"), chunk, static_cast<std::size_t>(end - chunk));
  try {
    const inkgen::ZarrArray a = inkgen::open_zarr_array(scratch());
    if (a.shape[0] < 1 || a.shape[1] < 1 || a.shape[2] < 1 || (a.bytes != 1 && a.bytes != 2))
      __builtin_trap();  // open_zarr_array promises a usable array or an Error
    // Big chunks are legitimate but make the fuzzer crawl.
    if (a.chunk_voxels() * a.bytes > (std::int64_t{1} << 22)) return 0;
    const int d = static_cast<int>(std::min<std::int64_t>(a.shape[0], 3));
    const int h = static_cast<int>(std::min<std::int64_t>(a.shape[1], 5));
    const int w = static_cast<int>(std::min<std::int64_t>(a.shape[2], 5));
    const auto voxels = inkgen::read_zarr_region(a, 0, d, inkgen::Crop{0, 0, w, h});
    if (voxels.size() != static_cast<std::size_t>(d) * h * w) __builtin_trap();
  } catch (const inkgen::Error&) {
  }
  return 0;
}
