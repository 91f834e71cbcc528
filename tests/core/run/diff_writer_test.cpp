#include "inkgen/run/diff_writer.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <tiffio.h>

#include <opencv2/imgcodecs.hpp>

#include "test_support.hpp"

namespace inkgen {
namespace {

TEST(DiffWriter, RedAddedBlueRemovedWhiteUnchanged) {
  const auto slice = at::tensor({0.2f, -0.2f, 0.0f, 0.1f}).reshape({1, 4});
  const cv::Mat c = diff_to_colour(slice, 0.2);
  EXPECT_EQ(c.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 255));      // BGR red
  EXPECT_EQ(c.at<cv::Vec3b>(0, 1), cv::Vec3b(255, 0, 0));      // blue
  EXPECT_EQ(c.at<cv::Vec3b>(0, 2), cv::Vec3b(255, 255, 255));  // white
  EXPECT_EQ(c.at<cv::Vec3b>(0, 3), cv::Vec3b(128, 128, 255));  // half way to red
}

TEST(DiffWriter, OneSymmetricScaleForTheVolumeAndExactValuesInTheTiff) {
  test::TempDir tmp;
  const auto start = at::full({1, 3, 4, 5}, 0.5f);
  auto result = start.clone();
  result[0][0][1][2] = 0.9f;  // +0.4
  result[0][2][3][4] = 0.3f;  // -0.2
  const DiffSummary s = write_diff(tmp.path(), start, result);
  EXPECT_NEAR(s.scale, 0.4, 1e-6);
  EXPECT_NEAR(s.max_added, 0.4, 1e-6);
  EXPECT_NEAR(s.max_removed, 0.2, 1e-6);
  // Slice 2 holds only the -0.2 change; on the volume's scale it is half blue, not full blue.
  const cv::Mat slice2 = cv::imread((tmp / "diff" / "02.png").string(), cv::IMREAD_COLOR);
  EXPECT_EQ(slice2.at<cv::Vec3b>(3, 4), cv::Vec3b(255, 128, 128));
  EXPECT_EQ(slice2.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));

  TIFF* tif = TIFFOpen((tmp / "diff.tif").c_str(), "r");
  ASSERT_NE(tif, nullptr);
  EXPECT_EQ(TIFFNumberOfDirectories(tif), 3);
  const auto expected = (result - start).contiguous();
  std::vector<float> row(5);
  for (int z = 0; z < 3; ++z) {
    ASSERT_TRUE(TIFFSetDirectory(tif, static_cast<tdir_t>(z)));
    uint16_t bits = 0, format = 0;
    TIFFGetField(tif, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetField(tif, TIFFTAG_SAMPLEFORMAT, &format);
    EXPECT_EQ(bits, 32);
    EXPECT_EQ(format, SAMPLEFORMAT_IEEEFP);
    for (int y = 0; y < 4; ++y) {
      ASSERT_EQ(TIFFReadScanline(tif, row.data(), y, 0), 1);
      for (int x = 0; x < 5; ++x)
        EXPECT_FLOAT_EQ(row[x], expected[0][z][y][x].item<float>());
    }
  }
  TIFFClose(tif);
}

TEST(DiffWriter, UnchangedVolumeIsAllWhite) {
  const DiffSummary s = summarize_diff(at::zeros({2, 3, 3}));
  EXPECT_GT(s.scale, 0.0);
  const cv::Mat c = diff_to_colour(at::zeros({3, 3}), s.scale);
  EXPECT_EQ(c.at<cv::Vec3b>(1, 1), cv::Vec3b(255, 255, 255));
}

}  // namespace
}  // namespace inkgen
