#include "inkgen/io/zarr_array.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "inkgen/common/error.hpp"
#include "inkgen/io/segment.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

// An uncompressed v2 array written by hand, chunks (2, 8, 8), little-endian uint16: the reader's
// indexing on its own, without a Zarr library. With `fill` set, chunk (0, 0, 1) is left out: it
// reads as the fill value.
fs::path write_plain_v2(const fs::path& dir, const RawVolume& v,
                        std::optional<std::uint16_t> fill = std::nullopt) {
  fs::create_directories(dir);
  test::write_text(
      dir / ".zarray",
      R"({"zarr_format": 2, "shape": [)" + std::to_string(v.depth) + ", " +
          std::to_string(v.height) + ", " + std::to_string(v.width) +
          R"(], "chunks": [2, 8, 8], "dtype": "<u2", "compressor": null, "fill_value": )" +
          std::to_string(fill.value_or(0)) + R"(, "filters": null, "order": "C"})");
  for (int cz = 0; cz * 2 < v.depth; ++cz) {
    for (int cy = 0; cy * 8 < v.height; ++cy) {
      for (int cx = 0; cx * 8 < v.width; ++cx) {
        if (fill && cz == 0 && cy == 0 && cx == 1) continue;
        std::vector<std::uint16_t> chunk(2 * 8 * 8, 0);
        for (int z = 0; z < 2; ++z)
          for (int y = 0; y < 8; ++y)
            for (int x = 0; x < 8; ++x) {
              const int Z = cz * 2 + z, Y = cy * 8 + y, X = cx * 8 + x;
              if (Z < v.depth && Y < v.height && X < v.width)
                chunk[(z * 8 + y) * 8 + x] = v.at(Z, Y, X);
            }
        std::ofstream(
            dir / (std::to_string(cz) + "." + std::to_string(cy) + "." + std::to_string(cx)),
            std::ios::binary)
            .write(reinterpret_cast<const char*>(chunk.data()), chunk.size() * 2);
      }
    }
  }
  return dir;
}

TEST(ZarrArray, ReadsOnlyTheChunksACropTouchesAndFillsMissingOnes) {
  TempDir tmp;
  const RawVolume v = test::random_volume(6, 20, 21, 5, 1, 60000);
  const fs::path dir = write_plain_v2(tmp / "a.zarr", v, 7);
  const ZarrArray a = open_zarr_array(dir);
  EXPECT_EQ(a.shape, (std::array<std::int64_t, 3>{6, 20, 21}));
  int reads = 0;
  const auto got = read_zarr_region(a, 2, 4, Crop{1, 9, 7, 15}, &reads);
  EXPECT_EQ(reads, 1);
  for (int z = 0; z < 2; ++z)
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 6; ++x)
        ASSERT_EQ(got[(z * 6 + y) * 6 + x], v.at(2 + z, 9 + y, 1 + x));
  reads = 0;
  const auto edge = read_zarr_region(a, 0, 6, Crop{5, 3, 21, 20}, &reads);
  EXPECT_EQ(reads, 3 * 3 * 3 - 1) << "every chunk under the crop but the missing one";
  for (int z = 0; z < 6; ++z)
    for (int y = 0; y < 17; ++y)
      for (int x = 0; x < 16; ++x) {
        const bool missing = z < 2 && y + 3 < 8 && x + 5 >= 8 && x + 5 < 16;
        ASSERT_EQ(edge[(z * 17 + y) * 16 + x], missing ? 7 : v.at(z, 3 + y, 5 + x));
      }
}

TEST(ZarrArray, ASegmentReadsAZarrAsItReadsLayersAndTurnsItOver) {
  TempDir tmp;
  const RawVolume v = test::random_volume(6, 20, 21, 6);
  write_plain_v2(tmp / "seg" / "surface.zarr", v);
  const Segment s = open_segment(tmp / "seg");  // a segment folder holding one *.zarr
  EXPECT_EQ(s.name, "seg");
  EXPECT_EQ(s.layer_count(), 6);
  EXPECT_EQ(s.width, 21);
  EXPECT_EQ(s.bits, 16);
  const Segment direct = open_segment(tmp / "seg" / "surface.zarr", LayerOrder::reversed);
  EXPECT_EQ(direct.name, "surface");
  const Crop crop{0, 0, 21, 20};
  const RawVolume forward = read_crop(s, crop, 1, 4);
  const RawVolume reversed = read_crop(direct, crop, 1, 4);
  for (int z = 0; z < 4; ++z)
    for (int y = 0; y < 20; ++y)
      for (int x = 0; x < 21; ++x) {
        ASSERT_EQ(forward.at(z, y, x), v.at(1 + z, y, x));
        ASSERT_EQ(reversed.at(z, y, x), v.at(6 - 1 - (1 + z), y, x));
      }
}

TEST(ZarrArray, RefusesWhatItCannotReadWithTheFix) {
  TempDir tmp;
  const auto refused = [&](const std::string& name, const std::string& file,
                           const std::string& meta) {
    fs::create_directories(tmp / name);
    test::write_text(tmp / name / file, meta);
    try {
      open_zarr_array(tmp / name);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::input);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const std::string v2 = R"({"zarr_format": 2, "shape": [4, 8, 8], "chunks": [2, 8, 8], )";
  EXPECT_NE(refused("f32", ".zarray", v2 + R"("dtype": "<f4", "compressor": null})")
                .find("uint8 or uint16"),
            std::string::npos);
  EXPECT_NE(refused("lz", ".zarray", v2 + R"("dtype": "<u2", "compressor": {"id": "lzma"}})")
                .find("blosc, zstd, zlib, gzip"),
            std::string::npos);
  EXPECT_NE(refused("f", ".zarray", v2 + R"("dtype": "<u2", "compressor": null, "order": "F"})")
                .find("Fortran"),
            std::string::npos);
  EXPECT_NE(
      refused(
          "4d", ".zarray",
          R"({"zarr_format": 2, "shape": [1, 4, 8, 8], "chunks": [1, 2, 8, 8], "dtype": "<u2"})")
          .find("three dimensions"),
      std::string::npos);
  EXPECT_NE(
      refused(
          "huge", ".zarray",
          R"({"zarr_format": 2, "shape": [4, 8, 8], "chunks": [4096, 4096, 4096], "dtype": "<u2"})")
          .find("rechunk"),
      std::string::npos);
  // Sides whose product overflows 64 bits passed the 1 GiB check and became "out of memory".
  EXPECT_NE(refused("wrap", ".zarray",
                    R"({"zarr_format": 2, "shape": [12, 64, 96], "chunks": [12, 1000000000, )"
                    R"(1000000000], "dtype": "<u2", "compressor": null})")
                .find("rechunk"),
            std::string::npos);
  EXPECT_NE(
      refused("shard", "zarr.json",
              R"({"zarr_format": 3, "node_type": "array", "shape": [4, 8, 8], "data_type": "uint16",
                        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4, 8, 8]}},
                        "codecs": [{"name": "sharding_indexed", "configuration": {}}]})")
          .find("sharded"),
      std::string::npos);
  // Found by the fuzzer: an array where an object belongs escaped as nlohmann's type_error.
  EXPECT_NE(
      refused(
          "grid", "zarr.json",
          R"({"zarr_format": 3, "node_type": "array", "shape": [4, 8, 8], "data_type": "uint16", "chunk_grid": [1]})")
          .find("wrong shape"),
      std::string::npos);
  EXPECT_NE(refused("group", ".zgroup", R"({"zarr_format": 2})").find("without OME-Zarr"),
            std::string::npos);
  EXPECT_NE(refused("bad", ".zarray", "{").find("not valid JSON"), std::string::npos);
}

TEST(ZarrArray, ACorruptChunkIsAnInputErrorOnlyWhereACropTouchesIt) {
  TempDir tmp;
  const RawVolume v = test::random_volume(4, 16, 16, 7);
  const fs::path dir = write_plain_v2(tmp / "a.zarr", v);
  test::write_text(dir / "1.1.1", "garbage");
  const ZarrArray a = open_zarr_array(dir);
  EXPECT_NO_THROW(read_zarr_region(a, 0, 2, Crop{0, 0, 8, 8}));
  EXPECT_THROW(read_zarr_region(a, 2, 4, Crop{8, 8, 16, 16}), Error);
}

// Arrays written by real Zarr libraries: Debian's python3-zarr (v2) and zarr 3 from PyPI (the
// venv .ci/install-deps makes). Each is read exactly as the TIFF layers it was written from.
class ZarrWrittenByZarr : public ::testing::TestWithParam<std::string> {};

std::string python_for(const std::string& which) {
  return which == "zarr2" ? std::string(INKGEN_PYTHON) : std::string(INKGEN_ZARR3_PYTHON);
}

TEST_P(ZarrWrittenByZarr, EveryCodecAndLayoutReadsAsTheTiffLayers) {
  const std::string python = python_for(GetParam());
  if (std::system((python + " -c 'import zarr, PIL' >/dev/null 2>&1").c_str()) != 0)
    GTEST_SKIP() << python << " has no zarr (" << GetParam() << "); run .ci/install-deps";
  TempDir tmp;
  const RawVolume v = test::random_volume(9, 40, 37, 8);
  test::make_segment(tmp / "seg", v);
  const std::string list = (tmp / "written.txt").string();
  ASSERT_EQ(std::system((python + " " + INKGEN_TEST_SOURCE_DIR + "/tests/zarr/write_zarr.py " +
                         (tmp / "seg").string() + " " + (tmp / "z").string() + " > " + list)
                            .c_str()),
            0);
  std::vector<std::string> names;
  std::ifstream in(list);
  for (std::string line; std::getline(in, line);)
    names.push_back(line);
  ASSERT_GE(names.size(), 6u);
  const Segment tiff = open_segment(tmp / "seg");
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const bool u8 = name.find("u8") != std::string::npos;
    for (const LayerOrder order : {LayerOrder::as_stored, LayerOrder::reversed}) {
      const Segment z = open_segment(tmp / "z" / name, order);
      ASSERT_EQ(z.layer_count(), 9);
      ASSERT_EQ(z.width, 37);
      for (const Crop crop : {Crop{0, 0, 37, 40}, Crop{13, 7, 30, 33}}) {
        const RawVolume want = read_crop(in_order(tiff, order), crop, 2, 5);
        const RawVolume got = read_crop(z, crop, 2, 5);
        for (std::size_t i = 0; i < want.voxels.size(); ++i) {
          const std::uint16_t w =
              u8 ? static_cast<std::uint16_t>((want.voxels[i] >> 8) * 257) : want.voxels[i];
          ASSERT_EQ(got.voxels[i], w) << "voxel " << i;
        }
      }
    }
    if (name.find("ome") != std::string::npos) {
      const Segment coarse = open_segment(tmp / "z" / name, LayerOrder::as_stored, 1);
      EXPECT_EQ(coarse.width, 19);
      EXPECT_EQ(coarse.height, 20);
      const RawVolume got = read_crop(coarse, Crop{0, 0, 19, 20}, 0, 9);
      EXPECT_EQ(got.at(3, 5, 7), v.at(3, 10, 14));
      EXPECT_THROW(open_segment(tmp / "z" / name, LayerOrder::as_stored, 2), Error);
    }
  }
  // Only the chunks under the crop: chunks are (4, 16, 16), so layers 4..7 of x, y < 16 are one.
  const ZarrArray a = open_zarr_array(tmp / "z" / names.front());
  int reads = 0;
  read_zarr_region(a, 4, 8, Crop{0, 0, 16, 16}, &reads);
  EXPECT_EQ(reads, 1);
}

INSTANTIATE_TEST_SUITE_P(, ZarrWrittenByZarr, ::testing::Values("zarr2", "zarr3"));

}  // namespace
}  // namespace inkgen
