#include "inkgen/io/float_tiff_stack.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "inkgen/common/error.hpp"
#include "inkgen/io/segment_writer.hpp"
#include "inkgen/run/diff_writer.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

TEST(FloatTiffStack, ReadsTheAskedPagesAndRegionExactly) {
  test::TempDir tmp;
  const auto volume = at::arange(4 * 5 * 7, at::kFloat).reshape({4, 5, 7}) * 0.25f - 3.0f;
  write_float_tiff_stack(tmp / "v.tif", volume);
  const FloatStackHeader h = probe_float_tiff_stack(tmp / "v.tif");
  EXPECT_EQ(h.pages, 4);
  EXPECT_EQ(h.width, 7);
  EXPECT_EQ(h.height, 5);
  const Crop region{2, 1, 6, 4};
  const std::vector<float> v = read_float_tiff_stack(tmp / "v.tif", region, 1, 2);
  ASSERT_EQ(v.size(), 2u * 3 * 4);
  std::size_t i = 0;
  for (int p = 1; p < 3; ++p)
    for (int y = region.y1; y < region.y2; ++y)
      for (int x = region.x1; x < region.x2; ++x)
        EXPECT_FLOAT_EQ(v[i++], volume[p][y][x].item<float>());
}

TEST(FloatTiffStack, RefusesPagesOrRegionsOutsideAndOtherKindsOfTiff) {
  test::TempDir tmp;
  write_float_tiff_stack(tmp / "v.tif", at::zeros({2, 3, 3}));
  EXPECT_THROW(read_float_tiff_stack(tmp / "v.tif", {0, 0, 3, 3}, 1, 2), Error);
  EXPECT_THROW(read_float_tiff_stack(tmp / "v.tif", {0, 0, 4, 3}, 0, 1), Error);
  EXPECT_THROW(probe_float_tiff_stack(tmp / "missing.tif"), Error);
  write_segment(tmp / "seg", test::random_volume(1, 3, 3, 1));
  try {
    probe_float_tiff_stack(tmp / "seg" / "layers" / "00.tif");
    FAIL() << "a 16-bit layer was read as float";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::input);
    EXPECT_NE(std::string(e.what()).find("not float32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace inkgen
