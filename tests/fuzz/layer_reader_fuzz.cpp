// libFuzzer target: arbitrary bytes as a TIFF segment layer, read as inkgen reads layers (the
// header, then a corner crop and the opposite corner, which touch the first and last strips or
// tiles). The reader must answer with pixels or an inkgen::Error. Links no LibTorch library but
// c10.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "inkgen/common/error.hpp"
#include "inkgen/io/layer_image.hpp"

namespace {

const std::filesystem::path& scratch() {
  // One file per fuzzing process, rewritten for every input; libtiff reads layers by path.
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("inkgen-fuzz-layer-" + std::to_string(::getpid()) + ".tif");
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(scratch().c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const inkgen::LayerHeader header = inkgen::probe_layer(scratch());
    if (header.width <= 0 || header.height <= 0 || (header.bits != 8 && header.bits != 16))
      __builtin_trap();  // probe_layer promises a usable header or an Error
    const int w = std::min(header.width, 24), h = std::min(header.height, 24);
    for (const inkgen::Crop& region :
         {inkgen::Crop{0, 0, w, h},
          inkgen::Crop{header.width - w, header.height - h, header.width, header.height}}) {
      std::vector<std::uint16_t> pixels(static_cast<std::size_t>(w) * h);
      inkgen::read_layer_region(scratch(), region, pixels.data());
    }
  } catch (const inkgen::Error&) {
  }
  return 0;
}
