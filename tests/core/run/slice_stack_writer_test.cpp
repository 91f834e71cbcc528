#include "inkgen/run/slice_stack_writer.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "test_support.hpp"

namespace inkgen {
namespace {

TEST(SliceStackWriter, OneFixedScaleForEverySlice) {
  test::TempDir tmp;
  // Slice 0 spans the whole range, slice 1 only a sliver of it: with per-slice min-max both
  // would look alike; on the fixed scale slice 1 must stay mid-grey.
  auto v = at::zeros({1, 2, 4, 4});
  v[0][0] = at::linspace(0, 1, 16).reshape({4, 4});
  v[0][1] = at::linspace(0.5, 0.52, 16).reshape({4, 4});
  write_slice_stack(tmp / "s", v, 0.0, 1.0);
  const cv::Mat s0 = cv::imread((tmp / "s" / "00.png").string(), cv::IMREAD_UNCHANGED);
  const cv::Mat s1 = cv::imread((tmp / "s" / "01.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(s0.type(), CV_8UC1);
  EXPECT_EQ(s0.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(s0.at<uint8_t>(3, 3), 255);
  EXPECT_EQ(s1.at<uint8_t>(0, 0), 128);  // round(0.5 * 255)
  EXPECT_EQ(s1.at<uint8_t>(3, 3), 133);  // round(0.52 * 255)
}

TEST(SliceStackWriter, ClipsOutsideTheRange) {
  const auto slice = at::tensor({-0.5f, 0.0f, 0.4f, 0.8f, 2.0f}).reshape({1, 5});
  const cv::Mat g = slice_to_gray8(slice, 0.0, 0.8);
  EXPECT_EQ(g.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(g.at<uint8_t>(0, 2), 128);  // round(0.5 * 255)
  EXPECT_EQ(g.at<uint8_t>(0, 3), 255);
  EXPECT_EQ(g.at<uint8_t>(0, 4), 255);
}

}  // namespace
}  // namespace inkgen
