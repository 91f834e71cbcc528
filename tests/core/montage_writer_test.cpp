#include "inkgen/montage_writer.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "test_support.hpp"

namespace inkgen {
namespace {

TEST(MontageWriter, ChoosesEvenlySpacedSlices) {
  EXPECT_EQ(montage_slices(4, 8), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(montage_slices(30, 4), (std::vector<int>{0, 10, 19, 29}));
}

TEST(MontageWriter, WritesStartResultAndDiffSideBySide) {
  test::TempDir tmp;
  const auto start = at::zeros({1, 3, 16, 16});
  const auto result = at::ones({1, 3, 16, 16});
  MontageContent c{start, result, 0.0, 1.0, 1.0, {"a caption line"}, 8};
  write_montage(tmp / "m.png", c);
  const cv::Mat m = cv::imread((tmp / "m.png").string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(m.empty());
  EXPECT_GE(m.cols, 3 * 128);  // 16-pixel slices are enlarged to 128
  EXPECT_GE(m.rows, 3 * 128);
  // In the first row: a black start tile, a white result tile, a red diff tile.
  const int y = 26 + 64, x0 = 56 + 64, step = 128 + 6;
  EXPECT_EQ(m.at<cv::Vec3b>(y, x0), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(m.at<cv::Vec3b>(y, x0 + step), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(m.at<cv::Vec3b>(y, x0 + 2 * step), cv::Vec3b(0, 0, 255));
}

}  // namespace
}  // namespace inkgen
