#include "inkgen/io/crop_tiling.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "inkgen/common/error.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

TEST(BatchCropTiling, WithoutAMaskTheWholeImageIsTiledInRasterOrder) {
  const auto crops = tile_crops(cv::Mat(), 40, 30, {16, 12, 0, 0});
  // 2 crops across (0, 16; 32 + 16 > 40), 2 down (0, 12; 24 + 12 > 30).
  ASSERT_EQ(crops.size(), 4u);
  EXPECT_EQ(crops[0], (Crop{0, 0, 16, 12}));
  EXPECT_EQ(crops[1], (Crop{16, 0, 32, 12}));
  EXPECT_EQ(crops[2], (Crop{0, 12, 16, 24}));
  EXPECT_EQ(crops[3], (Crop{16, 12, 32, 24}));
}

TEST(BatchCropTiling, OnlyCropsWhosePixelsAreAllInsideTheMask) {
  cv::Mat mask(32, 48, CV_8UC1, cv::Scalar(255));
  mask.at<unsigned char>(5, 20) = 0;       // one pixel outside: the crop 16..32 x 0..16 is out
  mask(cv::Rect(0, 16, 16, 16)).setTo(0);  // the bottom-left tile is out
  const auto crops = tile_crops(mask, 48, 32, {16, 16, 0, 0});
  const std::vector<Crop> expected{
      {0, 0, 16, 16}, {32, 0, 48, 16}, {16, 16, 32, 32}, {32, 16, 48, 32}};
  EXPECT_EQ(crops, expected);
  // Every crop is listed once, and its pixels are all inside.
  for (const auto& c : crops)
    EXPECT_EQ(cv::countNonZero(mask(cv::Rect(c.x1, c.y1, c.width(), c.height()))), 256);
}

TEST(BatchCropTiling, AStrideSmallerThanTheCropOverlapsThem) {
  const auto crops = tile_crops(cv::Mat(), 32, 16, {16, 16, 8, 8});
  ASSERT_EQ(crops.size(), 3u);
  EXPECT_EQ(crops[1], (Crop{8, 0, 24, 16}));
  EXPECT_TRUE(tile_crops(cv::Mat(), 8, 8, {16, 16, 0, 0}).empty());
}

TEST(BatchCropTiling, ABadMaskOrSizeIsRefused) {
  EXPECT_THROW(tile_crops(cv::Mat(10, 10, CV_8UC1), 12, 10, {4, 4, 0, 0}), Error);
  EXPECT_THROW(tile_crops(cv::Mat(10, 10, CV_16UC1), 10, 10, {4, 4, 0, 0}), Error);
  EXPECT_THROW(tile_crops(cv::Mat(), 10, 10, {0, 4, 0, 0}), Error);
}

TEST(BatchCropTiling, ASampleIsAReproducibleSubsetInTilingOrder) {
  const auto all = tile_crops(cv::Mat(), 160, 160, {16, 16, 0, 0});
  ASSERT_EQ(all.size(), 100u);
  const auto a = sample_crops(all, 10, 42);
  EXPECT_EQ(a, sample_crops(all, 10, 42));
  EXPECT_NE(a, sample_crops(all, 10, 43));
  ASSERT_EQ(a.size(), 10u);
  for (std::size_t i = 1; i < a.size(); ++i) {
    const auto before = std::find(all.begin(), all.end(), a[i - 1]);
    const auto here = std::find(all.begin(), all.end(), a[i]);
    EXPECT_LT(before, here);  // in tiling order, each once
  }
  EXPECT_EQ(sample_crops(all, 0, 1), all);
  EXPECT_EQ(sample_crops(all, 500, 1), all);
  EXPECT_THROW(sample_crops(all, -1, 1), Error);
}

TEST(BatchCropTiling, ReadsTheMaskWithOpenCv) {
  test::TempDir tmp;
  cv::Mat mask(6, 9, CV_8UC1, cv::Scalar(0));
  mask.at<unsigned char>(2, 3) = 255;
  cv::imwrite((tmp / "m.png").string(), mask);
  const cv::Mat back = read_mask(tmp / "m.png");
  EXPECT_EQ(back.type(), CV_8UC1);
  EXPECT_EQ(back.at<unsigned char>(2, 3), 255);
  std::ofstream(tmp / "bad.png") << "not a png";
  EXPECT_THROW(read_mask(tmp / "bad.png"), Error);
}

}  // namespace
}  // namespace inkgen
