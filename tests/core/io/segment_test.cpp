#include "inkgen/io/segment.hpp"

#include <gtest/gtest.h>
#include <tiffio.h>

#include <array>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "inkgen/common/error.hpp"
#include "inkgen/io/layer_image.hpp"
#include "inkgen/io/segment_writer.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

// Writes a 16-bit greyscale TIFF either in strips of `rows_per_strip` rows or in 16x16 tiles.
void write_tiff(const fs::path& path, int width, int height,
                const std::vector<std::uint16_t>& pixels, bool tiled, int rows_per_strip = 1) {
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tif, nullptr);
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 16);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
  if (tiled) {
    TIFFSetField(tif, TIFFTAG_TILEWIDTH, 16);
    TIFFSetField(tif, TIFFTAG_TILELENGTH, 16);
    std::vector<std::uint16_t> tile(16 * 16);
    for (int ty = 0; ty < height; ty += 16) {
      for (int tx = 0; tx < width; tx += 16) {
        for (int y = 0; y < 16; ++y) {
          for (int x = 0; x < 16; ++x) {
            const bool inside = ty + y < height && tx + x < width;
            tile[y * 16 + x] = inside ? pixels[(ty + y) * width + tx + x] : 0;
          }
        }
        TIFFWriteTile(tif, tile.data(), tx, ty, 0, 0);
      }
    }
  } else {
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rows_per_strip);
    for (int y = 0; y < height; ++y) {
      TIFFWriteScanline(tif, const_cast<std::uint16_t*>(pixels.data() + y * width), y, 0);
    }
  }
  TIFFClose(tif);
}

// A hand-made little-endian TIFF, one row per strip, whose strips from row `first_bad_row` on
// point past the end of the file: libtiff cannot read those rows, and nothing else is wrong.
void write_raw_strip_tiff(const fs::path& path, int width, int height,
                          const std::vector<std::uint16_t>& pixels, int first_bad_row) {
  std::string file;
  const auto put16 = [&](std::uint16_t v) { file.append(reinterpret_cast<const char*>(&v), 2); };
  const auto put32 = [&](std::uint32_t v) { file.append(reinterpret_cast<const char*>(&v), 4); };
  const std::uint32_t row_bytes = width * 2;
  const std::uint32_t data_at = 8;
  const std::uint32_t offsets_at = data_at + row_bytes * height;
  const std::uint32_t counts_at = offsets_at + 4 * height;
  const std::uint32_t ifd_at = counts_at + 4 * height;
  file += "II";
  put16(42);
  put32(ifd_at);
  file.append(reinterpret_cast<const char*>(pixels.data()), row_bytes * height);
  for (int row = 0; row < height; ++row)
    put32(row < first_bad_row ? data_at + row * row_bytes : (1u << 30));
  for (int row = 0; row < height; ++row)
    put32(row_bytes);
  const std::vector<std::array<std::uint32_t, 4>> entries = {
      {256, 4, 1, static_cast<std::uint32_t>(width)},
      {257, 4, 1, static_cast<std::uint32_t>(height)},
      {258, 3, 1, 16},
      {259, 3, 1, 1},
      {262, 3, 1, 1},
      {273, 4, static_cast<std::uint32_t>(height), offsets_at},
      {277, 3, 1, 1},
      {278, 4, 1, 1},
      {279, 4, static_cast<std::uint32_t>(height), counts_at}};
  put16(static_cast<std::uint16_t>(entries.size()));
  for (const auto& e : entries) {
    put16(static_cast<std::uint16_t>(e[0]));
    put16(static_cast<std::uint16_t>(e[1]));
    put32(e[2]);
    if (e[1] == 3 && e[2] == 1) {
      put16(static_cast<std::uint16_t>(e[3]));
      put16(0);
    } else {
      put32(e[3]);
    }
  }
  put32(0);
  std::ofstream(path, std::ios::binary) << file;
}

std::vector<std::uint16_t> plane(const RawVolume& v, int z) {
  const std::size_t n = static_cast<std::size_t>(v.height) * v.width;
  return {v.voxels.begin() + z * n, v.voxels.begin() + (z + 1) * n};
}

void expect_crop_matches(const RawVolume& got, const RawVolume& full, const Crop& crop, int z0) {
  ASSERT_EQ(got.depth * got.height * got.width, static_cast<int>(got.voxels.size()));
  for (int z = 0; z < got.depth; ++z) {
    for (int y = 0; y < got.height; ++y) {
      for (int x = 0; x < got.width; ++x) {
        ASSERT_EQ(got.at(z, y, x), full.at(z0 + z, crop.y1 + y, crop.x1 + x))
            << z << "," << y << "," << x;
      }
    }
  }
}

std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::input) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(Segment, ReadsTheCropAndDepthWindowItIsAskedFor) {
  TempDir tmp;
  const RawVolume full = test::random_volume(10, 40, 50, 1);
  test::make_segment(tmp / "seg", full);
  const Segment s = open_segment(tmp / "seg");
  EXPECT_EQ(s.name, "seg");
  EXPECT_EQ(s.layer_count(), 10);
  EXPECT_EQ(s.width, 50);
  EXPECT_EQ(s.height, 40);
  EXPECT_EQ(s.bits, 16);
  ASSERT_TRUE(s.mask.has_value());
  EXPECT_EQ(s.mask->filename(), "seg_mask.png");
  const Crop crop{7, 3, 31, 30};
  const RawVolume got = read_crop(s, crop, 2, 5);
  EXPECT_EQ(got.depth, 5);
  EXPECT_EQ(got.height, 27);
  EXPECT_EQ(got.width, 24);
  expect_crop_matches(got, full, crop, 2);
}

// A segment whose layers run the other way: layer z of the reversed stack is file N-1-z, so the
// same window rule reads the corrected stack; every check still names the files as stored.
TEST(Segment, ReadsTheLayersReversedWhenAsked) {
  TempDir tmp;
  const RawVolume full = test::random_volume(10, 40, 50, 2);
  test::make_segment(tmp / "seg", full);
  const Segment stored = open_segment(tmp / "seg");
  const Segment reversed = open_segment(tmp / "seg", LayerOrder::reversed);
  EXPECT_EQ(reversed.order, LayerOrder::reversed);
  EXPECT_EQ(reversed.layer_count(), 10);
  EXPECT_EQ(reversed.stored_layer(0), 9);
  EXPECT_EQ(reversed.stored_layer(9), 0);
  EXPECT_EQ(stored.stored_layer(3), 3);
  const Crop crop{4, 5, 20, 17};
  const RawVolume got = read_crop(reversed, crop, 2, 5);
  for (int z = 0; z < 5; ++z)
    for (int y = 0; y < crop.height(); ++y)
      for (int x = 0; x < crop.width(); ++x)
        ASSERT_EQ(got.at(z, y, x), full.at(10 - 1 - (2 + z), crop.y1 + y, crop.x1 + x));
  EXPECT_THROW(read_crop(reversed, crop, 6, 5), Error);
}

TEST(Segment, ReadsTiledAndStripedTiffs) {
  for (const bool tiled : {true, false}) {
    TempDir tmp;
    const RawVolume full = test::random_volume(3, 37, 45, 2);
    fs::create_directories(tmp / "seg" / "layers");
    for (int z = 0; z < 3; ++z) {
      write_tiff(tmp / "seg" / "layers" / layer_file_name(z, 3), 45, 37, plane(full, z), tiled, 4);
    }
    const Segment s = open_segment(tmp / "seg");
    const Crop crop{13, 5, 40, 36};
    expect_crop_matches(read_crop(s, crop, 0, 3), full, crop, 0);
  }
}

TEST(Segment, DecodesOnlyTheStripsTheCropTouches) {
  // Rows 30.. of the layer are unreadable; a crop above them must still read, one into them must
  // not.
  TempDir tmp;
  const RawVolume full = test::random_volume(1, 64, 32, 3);
  fs::create_directories(tmp / "seg" / "layers");
  const fs::path layer = tmp / "seg" / "layers" / "00.tif";
  write_raw_strip_tiff(layer, 32, 64, plane(full, 0), 30);
  const Segment s = open_segment(tmp / "seg");
  const Crop above{0, 0, 32, 30};
  expect_crop_matches(read_crop(s, above, 0, 1), full, above, 0);
  const std::string message = input_error([&] { read_crop(s, Crop{0, 20, 32, 40}, 0, 1); });
  EXPECT_NE(message.find("truncated or corrupt"), std::string::npos) << message;
  // Row 30's strip points at byte 2^30 of a small file: said in numbers a person can check
  // (libtiff's own message reported a byte count near 2^64).
  EXPECT_NE(message.find("strip 30 claims bytes from 1073741824 (64 of them), past the end of the"),
            std::string::npos)
      << message;
}

// The same for tiles: one deflate tile whose bytes are garbage, and crops beside it and over it.
TEST(Segment, DecodesOnlyTheTilesTheCropTouches) {
  TempDir tmp;
  const RawVolume full = test::random_volume(1, 64, 64, 4);
  fs::create_directories(tmp / "seg" / "layers");
  const fs::path layer = tmp / "seg" / "layers" / "00.tif";
  {
    TIFF* tif = TIFFOpen(layer.c_str(), "w");
    ASSERT_NE(tif, nullptr);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, 64);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, 64);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 16);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    TIFFSetField(tif, TIFFTAG_TILEWIDTH, 16);
    TIFFSetField(tif, TIFFTAG_TILELENGTH, 16);
    std::vector<std::uint16_t> tile(16 * 16);
    for (int ty = 0; ty < 64; ty += 16) {
      for (int tx = 0; tx < 64; tx += 16) {
        for (int y = 0; y < 16; ++y)
          for (int x = 0; x < 16; ++x)
            tile[y * 16 + x] = full.at(0, ty + y, tx + x);
        ASSERT_GT(TIFFWriteTile(tif, tile.data(), tx, ty, 0, 0), 0);
      }
    }
    TIFFClose(tif);
  }
  // Tile (x 32..47, y 32..47) is number 2 * 4 + 2 in row-major order: overwrite its bytes.
  std::uint64_t offset = 0, size = 0;
  {
    TIFF* tif = TIFFOpen(layer.c_str(), "r");
    ASSERT_NE(tif, nullptr);
    const ttile_t bad = TIFFComputeTile(tif, 32, 32, 0, 0);
    ASSERT_EQ(bad, 10u);
    offset = TIFFGetStrileOffset(tif, bad);
    size = TIFFGetStrileByteCount(tif, bad);
    TIFFClose(tif);
  }
  ASSERT_GT(size, 8u);
  {
    std::fstream f(layer, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(offset));
    const std::string garbage(size, '\xff');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  const Segment s = open_segment(tmp / "seg");
  // Beside the bad tile (left of it, above it, and the tiles after it): read exactly.
  for (const Crop crop : {Crop{0, 0, 32, 64}, Crop{0, 0, 64, 32}, Crop{48, 32, 64, 64}})
    expect_crop_matches(read_crop(s, crop, 0, 1), full, crop, 0);
  // One pixel of it is enough to refuse the crop.
  const std::string message = input_error([&] { read_crop(s, Crop{20, 20, 33, 33}, 0, 1); });
  EXPECT_NE(message.find("00.tif"), std::string::npos) << message;
}

TEST(Segment, WidensEightBitLayersAndReadsPng) {
  TempDir tmp;
  fs::create_directories(tmp / "seg" / "layers");
  cv::Mat eight(20, 30, CV_8UC1);
  cv::randu(eight, 0, 256);
  ASSERT_TRUE(cv::imwrite((tmp / "seg" / "layers" / "00.tif").string(), eight));
  ASSERT_TRUE(cv::imwrite((tmp / "seg" / "layers" / "01.tif").string(), eight));
  Segment s = open_segment(tmp / "seg");
  EXPECT_EQ(s.bits, 8);
  RawVolume got = read_crop(s, Crop{0, 0, 30, 20}, 0, 2);
  EXPECT_EQ(got.at(1, 7, 9), eight.at<std::uint8_t>(7, 9) * 257);

  TempDir png;
  fs::create_directories(png / "seg" / "layers");
  ASSERT_TRUE(cv::imwrite((png / "seg" / "layers" / "00.png").string(), eight));
  s = open_segment(png / "seg");
  got = read_crop(s, Crop{5, 5, 10, 10}, 0, 1);
  EXPECT_EQ(got.at(0, 2, 3), eight.at<std::uint8_t>(7, 8) * 257);
}

TEST(Segment, MissingDirectoryOrLayers) {
  TempDir tmp;
  EXPECT_NE(input_error([&] { open_segment(tmp / "nope"); }).find("not found"), std::string::npos);
  fs::create_directories(tmp / "empty");
  EXPECT_NE(input_error([&] { open_segment(tmp / "empty"); }).find("no layers/"),
            std::string::npos);
  fs::create_directories(tmp / "empty" / "layers");
  EXPECT_NE(input_error([&] { open_segment(tmp / "empty"); }).find("no layer images"),
            std::string::npos);

  test::make_segment(tmp / "gap", test::random_volume(5, 8, 8, 4));
  fs::remove(tmp / "gap" / "layers" / "02.tif");
  EXPECT_NE(input_error([&] { open_segment(tmp / "gap"); }).find("missing layer 2"),
            std::string::npos);
}

TEST(Segment, LayersOfDifferentSizesOrDepths) {
  TempDir tmp;
  test::make_segment(tmp / "seg", test::random_volume(3, 8, 8, 5));
  cv::Mat bigger(9, 8, CV_16UC1, cv::Scalar(1));
  ASSERT_TRUE(cv::imwrite((tmp / "seg" / "layers" / "01.tif").string(), bigger));
  EXPECT_NE(input_error([&] {
              open_segment(tmp / "seg");
            }).find("all layers of a segment must have one size"),
            std::string::npos);
  cv::Mat eight(8, 8, CV_8UC1, cv::Scalar(1));
  ASSERT_TRUE(cv::imwrite((tmp / "seg" / "layers" / "01.tif").string(), eight));
  EXPECT_NE(input_error([&] { open_segment(tmp / "seg"); }).find("one bit depth"),
            std::string::npos);
}

TEST(Segment, MaskOfTheWrongSize) {
  TempDir tmp;
  test::make_segment(tmp / "seg", test::random_volume(2, 8, 8, 6));
  ASSERT_TRUE(cv::imwrite((tmp / "seg" / "seg_mask.png").string(),
                          cv::Mat(8, 9, CV_8UC1, cv::Scalar(255))));
  EXPECT_NE(input_error([&] { open_segment(tmp / "seg"); }).find("the mask must match the layers"),
            std::string::npos);
}

TEST(Segment, UnreadableAndTruncatedTiff) {
  TempDir tmp;
  test::make_segment(tmp / "seg", test::random_volume(2, 64, 64, 7));
  { std::ofstream(tmp / "seg" / "layers" / "01.tif") << "not a tiff"; }
  EXPECT_NE(input_error([&] { open_segment(tmp / "seg"); }).find("not a readable TIFF"),
            std::string::npos);

  test::make_segment(tmp / "trunc", test::random_volume(2, 64, 64, 8));
  const fs::path layer = tmp / "trunc" / "layers" / "01.tif";
  write_tiff(layer, 64, 64, std::vector<std::uint16_t>(64 * 64, 7), false, 64);
  fs::resize_file(layer, fs::file_size(layer) / 2);
  const std::string message = input_error([&] {
    const Segment s = open_segment(tmp / "trunc");
    read_crop(s, Crop{0, 0, 64, 64}, 0, 2);
  });
  EXPECT_NE(message.find("01.tif"), std::string::npos) << message;
}

TEST(Segment, ATiffClaimingAnImpossibleSizeIsAnInputError) {
  // Found by the layer_reader fuzz target: a width of 3,070,230,544 became negative as an int.
  TempDir tmp;
  test::make_segment(tmp / "seg", test::random_volume(2, 64, 64, 7));
  fs::copy_file(fs::path(INKGEN_TEST_SOURCE_DIR) / "tests/fuzz/corpus/layer/huge-width.tif",
                tmp / "seg" / "layers" / "01.tif", fs::copy_options::overwrite_existing);
  const std::string message = input_error([&] { open_segment(tmp / "seg"); });
  EXPECT_NE(message.find("3070230544x12"), std::string::npos) << message;
}

TEST(Segment, CropOutsideTheImageOrDepthBeyondTheLastLayer) {
  TempDir tmp;
  test::make_segment(tmp / "seg", test::random_volume(6, 20, 30, 9));
  const Segment s = open_segment(tmp / "seg");
  EXPECT_NE(input_error([&] {
              read_crop(s, Crop{10, 0, 31, 20}, 0, 2);
            }).find("outside segment"),
            std::string::npos);
  EXPECT_NE(input_error([&] {
              read_crop(s, Crop{0, 5, 30, 21}, 0, 2);
            }).find("y2 <= 20"),
            std::string::npos);
  const std::string depth = input_error([&] { read_crop(s, Crop{0, 0, 30, 20}, 3, 4); });
  EXPECT_NE(depth.find("layers 0..5"), std::string::npos) << depth;
  EXPECT_NE(depth.find("--z0 between 0 and 2"), std::string::npos) << depth;
}

TEST(Segment, NamesItselfAfterItsFolder) {
  EXPECT_EQ(segment_name("/data/20230509182749/"), "20230509182749");
  EXPECT_EQ(segment_name("/data/20230509182749"), "20230509182749");
}

}  // namespace
}  // namespace inkgen
