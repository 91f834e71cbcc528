#include "inkgen/io/layer_image.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <vector>

#include "inkgen/common/error.hpp"
#include "inkgen/io/tiff_file.hpp"

namespace inkgen {

namespace {

namespace fs = std::filesystem;

std::string lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

bool is_tiff(const fs::path& path) {
  const auto ext = lower_extension(path);
  return ext == ".tif" || ext == ".tiff";
}

[[noreturn]] void bad_layer(const fs::path& path, const std::string& problem,
                            const std::string& fix) {
  throw Error(ErrorKind::input, "layer " + path.string() + " " + problem + "; " + fix);
}

struct TiffLayout {
  std::uint32_t width = 0, height = 0;
  std::uint16_t bits = 0, samples = 1, format = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG,
                photometric = PHOTOMETRIC_MINISBLACK;
};

TiffLayout tiff_layout(const TiffFile& tif, const fs::path& path) {
  TiffLayout t;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &t.width);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &t.height);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_BITSPERSAMPLE, &t.bits);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLESPERPIXEL, &t.samples);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLEFORMAT, &t.format);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_PLANARCONFIG, &t.planar);
  if (!TIFFGetField(tif.get(), TIFFTAG_PHOTOMETRIC, &t.photometric))
    t.photometric = PHOTOMETRIC_MINISBLACK;
  if (t.width == 0 || t.height == 0) bad_layer(path, "has no image size", "re-export the layer");
  // Crops and pixel counts are ints; real segments are well under this a side.
  constexpr std::uint32_t max_side = 1u << 20;
  if (t.width > max_side || t.height > max_side) {
    bad_layer(path,
              "claims a size of " + std::to_string(t.width) + "x" + std::to_string(t.height) +
                  " pixels, more than inkgen reads (" + std::to_string(max_side) + " a side)",
              "check the file or re-export the layer");
  }
  if (t.samples != 1) {
    bad_layer(path, "has " + std::to_string(t.samples) + " samples per pixel",
              "segment layers must be greyscale (one sample)");
  }
  if ((t.bits != 8 && t.bits != 16) || t.format != SAMPLEFORMAT_UINT) {
    const char* kind = t.format == SAMPLEFORMAT_UINT     ? " unsigned integer"
                       : t.format == SAMPLEFORMAT_INT    ? " signed integer"
                       : t.format == SAMPLEFORMAT_IEEEFP ? " floating-point"
                                                         : " complex or unknown-format";
    bad_layer(path, "is " + std::to_string(t.bits) + "-bit" + kind,
              "segment layers must be 8- or 16-bit unsigned greyscale: convert it to uint16");
  }
  if (t.photometric != PHOTOMETRIC_MINISBLACK && t.photometric != PHOTOMETRIC_MINISWHITE) {
    bad_layer(path, "is not greyscale (photometric " + std::to_string(t.photometric) + ")",
              "segment layers must be greyscale");
  }
  return t;
}

TiffFile open_tiff(const fs::path& path) {
  TiffFile tif(path, "r");
  if (!tif.ok()) {
    bad_layer(
        path,
        "is not a readable TIFF (" + (tif.message().empty() ? "cannot open" : tif.message()) + ")",
        "check the file or re-export the layer");
  }
  return tif;
}

std::uint16_t widen(const unsigned char* row, int x, int bits) {
  if (bits == 8) return static_cast<std::uint16_t>(row[x] * 257);
  std::uint16_t v;
  std::memcpy(&v, row + 2 * x, 2);
  return v;
}

// Copies the part of a decoded block (a strip or a tile, `block_width` wide, holding image rows
// from `block_y` and columns from `block_x`) that lies inside `region`.
void copy_block(const unsigned char* block, int block_x, int block_y, int block_width,
                int block_rows, const TiffLayout& t, const Crop& region, std::uint16_t* out) {
  const int y_begin = std::max(region.y1, block_y),
            y_end = std::min(region.y2, block_y + block_rows);
  const int x_begin = std::max(region.x1, block_x),
            x_end = std::min(region.x2, block_x + block_width);
  const std::size_t row_bytes = static_cast<std::size_t>(block_width) * (t.bits / 8);
  // Widened 8-bit values span 0..65535 too, so one XOR inverts either depth.
  const std::uint16_t flip = t.photometric == PHOTOMETRIC_MINISWHITE ? 0xFFFF : 0;
  for (int y = y_begin; y < y_end; ++y) {
    const unsigned char* row = block + static_cast<std::size_t>(y - block_y) * row_bytes;
    std::uint16_t* dst = out + static_cast<std::size_t>(y - region.y1) * region.width();
    for (int x = x_begin; x < x_end; ++x)
      dst[x - region.x1] = widen(row, x - block_x, t.bits) ^ flip;
  }
}

void read_tiff_region(const fs::path& path, const Crop& region, std::uint16_t* out) {
  TiffFile tif = open_tiff(path);
  const TiffLayout t = tiff_layout(tif, path);
  if (t.planar != PLANARCONFIG_CONTIG && t.samples != 1)
    bad_layer(path, "is planar", "store it contiguous");
  const auto fail = [&](const char* what) {
    bad_layer(path,
              std::string("is truncated or corrupt (") + what + ": " +
                  (tif.message().empty() ? "read error" : tif.message()) + ")",
              "re-export the layer");
  };
  // Said before libtiff tries: its own message for this reports a byte count near 2^64.
  std::error_code size_ec;
  const std::uint64_t file_size = fs::file_size(path, size_ec);
  const auto check_in_file = [&](std::uint32_t strile, const char* what) {
    const std::uint64_t offset = TIFFGetStrileOffset(tif.get(), strile);
    const std::uint64_t count = TIFFGetStrileByteCount(tif.get(), strile);
    if (size_ec || (offset <= file_size && count <= file_size - offset)) return;
    bad_layer(path,
              std::string("is truncated or corrupt: its ") + what + " " + std::to_string(strile) +
                  " claims bytes from " + std::to_string(offset) + " (" + std::to_string(count) +
                  " of them), past the end of the " + std::to_string(file_size) + "-byte file",
              "re-export the layer");
  };
  if (TIFFIsTiled(tif.get())) {
    std::uint32_t tw = 0, th = 0;
    TIFFGetField(tif.get(), TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif.get(), TIFFTAG_TILELENGTH, &th);
    if (tw == 0 || th == 0) fail("tile size");
    std::vector<unsigned char> buffer(static_cast<std::size_t>(TIFFTileSize(tif.get())));
    for (std::uint32_t ty = region.y1 / th * th; ty < static_cast<std::uint32_t>(region.y2);
         ty += th) {
      for (std::uint32_t tx = region.x1 / tw * tw; tx < static_cast<std::uint32_t>(region.x2);
           tx += tw) {
        const auto tile = TIFFComputeTile(tif.get(), tx, ty, 0, 0);
        check_in_file(tile, "tile");
        if (TIFFReadEncodedTile(tif.get(), tile, buffer.data(),
                                static_cast<tmsize_t>(buffer.size())) < 0) {
          fail("tile");
        }
        copy_block(buffer.data(), static_cast<int>(tx), static_cast<int>(ty), static_cast<int>(tw),
                   static_cast<int>(th), t, region, out);
      }
    }
    return;
  }
  std::uint32_t rows_per_strip = t.height;
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
  rows_per_strip = std::clamp<std::uint32_t>(rows_per_strip, 1, t.height);
  std::vector<unsigned char> buffer(static_cast<std::size_t>(TIFFStripSize(tif.get())));
  const std::size_t row_bytes = static_cast<std::size_t>(t.width) * (t.bits / 8);
  for (std::uint32_t strip_y = region.y1 / rows_per_strip * rows_per_strip;
       strip_y < static_cast<std::uint32_t>(region.y2); strip_y += rows_per_strip) {
    const auto strip = TIFFComputeStrip(tif.get(), strip_y, 0);
    check_in_file(strip, "strip");
    const std::uint32_t rows = std::min(rows_per_strip, t.height - strip_y);
    const tmsize_t got =
        TIFFReadEncodedStrip(tif.get(), strip, buffer.data(), static_cast<tmsize_t>(buffer.size()));
    if (got < static_cast<tmsize_t>(rows * row_bytes)) fail("strip");
    copy_block(buffer.data(), 0, static_cast<int>(strip_y), static_cast<int>(t.width),
               static_cast<int>(rows), t, region, out);
  }
}

std::uint32_t big_endian(const unsigned char* p, int bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | p[i];
  return v;
}

LayerHeader probe_png(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::array<unsigned char, 26> head{};
  in.read(reinterpret_cast<char*>(head.data()), head.size());
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (in.gcount() < 26 || std::memcmp(head.data(), signature, 8) != 0 ||
      std::memcmp(head.data() + 12, "IHDR", 4) != 0) {
    bad_layer(path, "is not a readable PNG", "check the file or re-export the layer");
  }
  return {static_cast<int>(big_endian(head.data() + 16, 4)),
          static_cast<int>(big_endian(head.data() + 20, 4)), head[24] <= 8 ? 8 : 16};
}

LayerHeader probe_jpeg(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> data((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  std::size_t i = 2;
  if (data.size() < 4 || data[0] != 0xFF || data[1] != 0xD8)
    bad_layer(path, "is not a readable JPEG", "re-export the layer");
  // Walk the marker segments to the first start-of-frame, which holds the size.
  while (i + 9 < data.size()) {
    if (data[i] != 0xFF) break;
    const unsigned char marker = data[i + 1];
    const std::size_t length = big_endian(&data[i + 2], 2);
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      return {static_cast<int>(big_endian(&data[i + 7], 2)),
              static_cast<int>(big_endian(&data[i + 5], 2)), 8};
    }
    i += 2 + length;
  }
  bad_layer(path, "is a JPEG without a frame header", "re-export the layer");
}

}  // namespace

bool is_layer_file_name(const fs::path& path) {
  const auto ext = lower_extension(path);
  return ext == ".tif" || ext == ".tiff" || ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

LayerHeader probe_layer(const fs::path& path) {
  if (is_tiff(path)) {
    TiffFile tif = open_tiff(path);
    const TiffLayout t = tiff_layout(tif, path);
    return {static_cast<int>(t.width), static_cast<int>(t.height), t.bits};
  }
  const auto ext = lower_extension(path);
  if (ext == ".png") return probe_png(path);
  if (ext == ".jpg" || ext == ".jpeg") return probe_jpeg(path);
  bad_layer(path, "has an unknown file type", "use .tif, .png or .jpg layers");
}

void read_layer_region(const fs::path& path, const Crop& region, std::uint16_t* out) {
  if (is_tiff(path)) {
    read_tiff_region(path, region, out);
    return;
  }
  const cv::Mat image = cv::imread(path.string(), cv::IMREAD_ANYDEPTH | cv::IMREAD_GRAYSCALE);
  if (image.empty()) bad_layer(path, "cannot be decoded", "check the file or re-export the layer");
  if (region.x2 > image.cols || region.y2 > image.rows) {
    bad_layer(path, "is smaller than its header says", "re-export the layer");
  }
  for (int y = region.y1; y < region.y2; ++y) {
    std::uint16_t* dst = out + static_cast<std::size_t>(y - region.y1) * region.width();
    for (int x = region.x1; x < region.x2; ++x) {
      dst[x - region.x1] = image.depth() == CV_8U
                               ? static_cast<std::uint16_t>(image.at<std::uint8_t>(y, x) * 257)
                               : image.at<std::uint16_t>(y, x);
    }
  }
}

}  // namespace inkgen
