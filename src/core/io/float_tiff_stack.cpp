#include "inkgen/io/float_tiff_stack.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "inkgen/common/error.hpp"
#include "inkgen/io/tiff_file.hpp"

namespace inkgen {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void bad_stack(const fs::path& path, const std::string& problem,
                            const std::string& fix) {
  throw Error(ErrorKind::input, path.string() + " " + problem + "; " + fix);
}

TiffFile open_stack(const fs::path& path) {
  TiffFile tif(path, "r");
  if (!tif.ok()) {
    bad_stack(
        path,
        "is not a readable TIFF (" + (tif.message().empty() ? "cannot open" : tif.message()) + ")",
        "check the file or write it again");
  }
  return tif;
}

struct PageLayout {
  std::uint32_t width = 0, height = 0;
};

// The current page's size, after checking that it holds what we decode: one float32 sample.
PageLayout page_layout(const TiffFile& tif, const fs::path& path, int page) {
  PageLayout p;
  std::uint16_t bits = 0, samples = 1, format = SAMPLEFORMAT_UINT;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &p.width);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &p.height);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLESPERPIXEL, &samples);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLEFORMAT, &format);
  constexpr std::uint32_t max_side = 1u << 20;
  if (p.width == 0 || p.height == 0 || p.width > max_side || p.height > max_side) {
    bad_stack(path, "page " + std::to_string(page) + " has no usable image size",
              "check the file or write it again");
  }
  if (bits != 32 || samples != 1 || format != SAMPLEFORMAT_IEEEFP) {
    bad_stack(path,
              "page " + std::to_string(page) + " is not float32 greyscale (" +
                  std::to_string(bits) + " bits, " + std::to_string(samples) +
                  " samples, sample format " + std::to_string(format) + ")",
              "give a float32 TIFF stack as inkgen writes it");
  }
  return p;
}

// Copies the part of a decoded block (a strip or tile `block_width` wide, holding image rows from
// `block_y` and columns from `block_x`) that lies inside `region`.
void copy_float_block(const unsigned char* block, int block_x, int block_y, int block_width,
                      int block_rows, const Crop& region, float* out) {
  const int y_begin = std::max(region.y1, block_y),
            y_end = std::min(region.y2, block_y + block_rows);
  const int x_begin = std::max(region.x1, block_x),
            x_end = std::min(region.x2, block_x + block_width);
  if (x_begin >= x_end) return;
  for (int y = y_begin; y < y_end; ++y) {
    const unsigned char* row =
        block + (static_cast<std::size_t>(y - block_y) * block_width + (x_begin - block_x)) * 4;
    float* dst =
        out + static_cast<std::size_t>(y - region.y1) * region.width() + (x_begin - region.x1);
    std::memcpy(dst, row, static_cast<std::size_t>(x_end - x_begin) * 4);
  }
}

void read_page_region(const TiffFile& tif, const fs::path& path, int page, const Crop& region,
                      float* out) {
  const auto fail = [&](const char* what) {
    bad_stack(path,
              "page " + std::to_string(page) + " is truncated or corrupt (" + what + ": " +
                  (tif.message().empty() ? "read error" : tif.message()) + ")",
              "write the file again");
  };
  TIFF* t = tif.get();
  if (TIFFIsTiled(t)) {
    std::uint32_t tw = 0, th = 0;
    TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(t, TIFFTAG_TILELENGTH, &th);
    if (tw == 0 || th == 0) fail("tile size");
    std::vector<unsigned char> buffer(static_cast<std::size_t>(TIFFTileSize(t)));
    if (buffer.size() < static_cast<std::size_t>(tw) * th * 4) fail("tile size");
    for (std::uint32_t ty = region.y1 / th * th; ty < static_cast<std::uint32_t>(region.y2);
         ty += th) {
      for (std::uint32_t tx = region.x1 / tw * tw; tx < static_cast<std::uint32_t>(region.x2);
           tx += tw) {
        if (TIFFReadEncodedTile(t, TIFFComputeTile(t, tx, ty, 0, 0), buffer.data(),
                                static_cast<tmsize_t>(buffer.size())) < 0) {
          fail("tile");
        }
        copy_float_block(buffer.data(), static_cast<int>(tx), static_cast<int>(ty),
                         static_cast<int>(tw), static_cast<int>(th), region, out);
      }
    }
    return;
  }
  std::uint32_t height = 0, width = 0;
  TIFFGetField(t, TIFFTAG_IMAGELENGTH, &height);
  TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &width);
  std::uint32_t rows_per_strip = height;
  TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
  rows_per_strip = std::clamp<std::uint32_t>(rows_per_strip, 1, height);
  std::vector<unsigned char> buffer(static_cast<std::size_t>(TIFFStripSize(t)));
  const std::size_t row_bytes = static_cast<std::size_t>(width) * 4;
  for (std::uint32_t strip_y = region.y1 / rows_per_strip * rows_per_strip;
       strip_y < static_cast<std::uint32_t>(region.y2); strip_y += rows_per_strip) {
    const std::uint32_t rows = std::min(rows_per_strip, height - strip_y);
    const tmsize_t got = TIFFReadEncodedStrip(t, TIFFComputeStrip(t, strip_y, 0), buffer.data(),
                                              static_cast<tmsize_t>(buffer.size()));
    if (got < static_cast<tmsize_t>(rows * row_bytes)) fail("strip");
    copy_float_block(buffer.data(), 0, static_cast<int>(strip_y), static_cast<int>(width),
                     static_cast<int>(rows), region, out);
  }
}

}  // namespace

FloatStackHeader probe_float_tiff_stack(const fs::path& path) {
  const TiffFile tif = open_stack(path);
  const PageLayout p = page_layout(tif, path, 0);
  FloatStackHeader h;
  h.width = static_cast<int>(p.width);
  h.height = static_cast<int>(p.height);
  // Counting directories walks the page headers only, not the pixels.
  h.pages = static_cast<int>(TIFFNumberOfDirectories(tif.get()));
  return h;
}

std::vector<float> read_float_tiff_stack(const fs::path& path, const Crop& region, int first_page,
                                         int count) {
  const TiffFile tif = open_stack(path);
  const int pages = static_cast<int>(TIFFNumberOfDirectories(tif.get()));
  if (first_page < 0 || count < 0 || first_page + count > pages) {
    bad_stack(path,
              "has " + std::to_string(pages) + " pages, but pages " + std::to_string(first_page) +
                  ".." + std::to_string(first_page + count - 1) + " were asked for",
              "check that the file belongs to this segment or run");
  }
  std::vector<float> out(static_cast<std::size_t>(count) * region.width() * region.height());
  for (int k = 0; k < count; ++k) {
    const int page = first_page + k;
    if (!TIFFSetDirectory(tif.get(), static_cast<tdir_t>(page))) {
      bad_stack(path, "page " + std::to_string(page) + " cannot be read", "write the file again");
    }
    const PageLayout p = page_layout(tif, path, page);
    if (region.x1 < 0 || region.y1 < 0 || region.x2 > static_cast<int>(p.width) ||
        region.y2 > static_cast<int>(p.height)) {
      bad_stack(path,
                "page " + std::to_string(page) + " is " + std::to_string(p.width) + "x" +
                    std::to_string(p.height) + ", too small for region " + region.text(),
                "check that the file belongs to this segment or run");
    }
    read_page_region(tif, path, page, region,
                     out.data() + static_cast<std::size_t>(k) * region.width() * region.height());
  }
  return out;
}

}  // namespace inkgen
