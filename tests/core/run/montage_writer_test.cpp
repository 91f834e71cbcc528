#include "inkgen/run/montage_writer.hpp"

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
  MontageContent c{start, result, 0.0, 1.0, 1.0, {"a caption line"}, 8, {}, {}, {}};
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

TEST(MontageWriter, ShowsTheInkMapsAndTheDepthProfile) {
  test::TempDir tmp;
  MontageContent c{
      at::zeros({1, 2, 16, 16}), at::zeros({1, 2, 16, 16}), 0.0, 1.0, 1.0, {}, 8, {}, {}, {}};
  c.ink_before = at::zeros({4, 4});
  c.ink_after = at::ones({4, 4});
  c.depth_profile = {0.0, 1.0};
  write_montage(tmp / "m.png", c);
  const cv::Mat m = cv::imread((tmp / "m.png").string(), cv::IMREAD_COLOR);
  // Below the two slice rows: the maps over a black slice (no ink: black; ink: red at 0.6),
  // then the profile, whose layer 1 bar fills the width and whose layer 0 has none.
  const int y = 26 + 2 * (128 + 6) + 26 + 64, x0 = 56 + 64, step = 128 + 6;
  EXPECT_EQ(m.at<cv::Vec3b>(y, x0), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(m.at<cv::Vec3b>(y, x0 + step), cv::Vec3b(0, 0, 153));
  const int bars_top = 26 + 2 * (128 + 6) + 26;
  EXPECT_EQ(m.at<cv::Vec3b>(bars_top + 96, 56 + 2 * step + 100), cv::Vec3b(80, 170, 240));
  EXPECT_EQ(m.at<cv::Vec3b>(bars_top + 32, 56 + 2 * step + 100), cv::Vec3b(60, 60, 60));
}

TEST(MontageWriter, FindsTheBorderTheModelNeverChanges) {
  auto diff = at::zeros({4, 12, 10});
  diff.index_put_({at::indexing::Slice(), at::indexing::Slice(0, 9), at::indexing::Slice(0, 8)},
                  0.5);
  auto border = untouched_border(diff);
  EXPECT_EQ(border.rows, 3);
  EXPECT_EQ(border.cols, 2);
  // A change in the last column of any one slice means the model reads it.
  diff[2][0][9] = -0.1;
  border = untouched_border(diff);
  EXPECT_EQ(border.rows, 3);
  EXPECT_EQ(border.cols, 0);
  // Nothing changed at all: no border to explain.
  border = untouched_border(at::zeros({4, 12, 10}));
  EXPECT_EQ(border.rows, 0);
  EXPECT_EQ(border.cols, 0);
}

TEST(MontageWriter, SaysWhichLayersItShowsAndWhyABorderStaysTheSame) {
  MontageContent c{
      at::zeros({1, 20, 16, 16}), at::zeros({1, 20, 16, 16}), 0.0, 1.0, 1.0, {}, 8, {}, {}, {}};
  for (int z = 0; z < 20; ++z)
    c.layer_numbers.push_back(29 + z);
  c.result.index_put_(
      {0, at::indexing::Slice(), at::indexing::Slice(0, 13), at::indexing::Slice(0, 13)}, 0.2);
  const auto notes = montage_notes(c);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0],
            "8 of 20 layers shown (29, 32, 34, 37, 40, 43, 45, 48); every layer is in start/, "
            "result/, diff/");
  EXPECT_EQ(notes[1],
            "the last 3 rows and 3 columns never change: the model's output does not depend on "
            "them");
  // All slices shown, nothing untouched: nothing to say.
  c.max_rows = 20;
  c.result = at::ones({1, 20, 16, 16});
  EXPECT_TRUE(montage_notes(c).empty());
}

TEST(MontageWriter, AOneScoreModelGetsItsScoreWrittenNotAPaintedMap) {
  test::TempDir tmp;
  MontageContent c{
      at::zeros({1, 2, 16, 16}), at::zeros({1, 2, 16, 16}), 0.0, 1.0, 1.0, {}, 8, {}, {}, {}};
  c.ink_before = at::full({1, 1}, 0.9);
  c.ink_after = at::full({1, 1}, 0.95);
  write_montage(tmp / "m.png", c);
  const cv::Mat m = cv::imread((tmp / "m.png").string(), cv::IMREAD_COLOR);
  // The map row's tiles: black slices, not red ones, with the score on a band across the middle.
  const int top = 26 + 2 * (128 + 6) + 26, x0 = 56, step = 128 + 6;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(m.at<cv::Vec3b>(top + 10, x0 + i * step + 64), cv::Vec3b(0, 0, 0)) << i;
    EXPECT_EQ(m.at<cv::Vec3b>(top + 64, x0 + i * step + 126), cv::Vec3b(38, 38, 38)) << i;
  }
}

}  // namespace
}  // namespace inkgen
