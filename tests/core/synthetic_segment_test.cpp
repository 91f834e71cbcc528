#include "inkgen/synthetic_segment.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "inkgen/error.hpp"
#include "inkgen/segment.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

SynthOptions small(std::uint32_t seed) {
  SynthOptions o;
  o.width = 192;
  o.height = 144;
  o.seed = seed;
  return o;
}

TEST(SyntheticSegment, OpensAsASegmentWithMaskAndInkLabels) {
  TempDir tmp;
  const SyntheticSegment made = make_synthetic_segment(small(1));
  write_synthetic_segment(tmp / "seg1", made);

  const Segment segment = open_segment(tmp / "seg1");
  EXPECT_EQ(segment.layer_count(), 65);
  EXPECT_EQ(segment.width, 192);
  EXPECT_EQ(segment.height, 144);
  EXPECT_EQ(segment.bits, 16);
  ASSERT_TRUE(segment.mask.has_value());
  EXPECT_EQ(segment.mask->filename(), "seg1_mask.png");
  EXPECT_EQ(read_crop(segment, Crop{0, 0, 192, 144}, 0, 65).voxels, made.volume.voxels);

  const cv::Mat mask = cv::imread((tmp / "seg1" / "seg1_mask.png").string(), cv::IMREAD_UNCHANGED);
  const cv::Mat ink =
      cv::imread((tmp / "seg1" / "seg1_inklabels.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(ink.type(), CV_8UC1);
  ASSERT_EQ(mask.type(), CV_8UC1);
  EXPECT_EQ(ink.size(), cv::Size(192, 144));
  EXPECT_EQ(cv::countNonZero(ink != made.ink_labels), 0);
  EXPECT_EQ(cv::countNonZero(mask != made.mask), 0);
  // Binary labels, some ink, all of it on the papyrus; the torn edge leaves a border.
  EXPECT_EQ(cv::countNonZero((ink != 0) & (ink != 255)), 0);
  EXPECT_GT(cv::countNonZero(ink), 192 * 144 / 50);
  EXPECT_EQ(cv::countNonZero(ink & ~mask), 0);
  EXPECT_EQ(mask.at<std::uint8_t>(0, 0), 0);
  EXPECT_EQ(mask.at<std::uint8_t>(72, 96), 255);
  const double papyrus = cv::countNonZero(mask) / (192.0 * 144);
  EXPECT_GT(papyrus, 0.5);
  EXPECT_LT(papyrus, 0.95);
}

TEST(SyntheticSegment, SameSeedSameSegmentOtherSeedAnother) {
  const SyntheticSegment a = make_synthetic_segment(small(7));
  const SyntheticSegment b = make_synthetic_segment(small(7));
  const SyntheticSegment c = make_synthetic_segment(small(8));
  EXPECT_EQ(a.volume.voxels, b.volume.voxels);
  EXPECT_EQ(cv::countNonZero(a.mask != b.mask), 0);
  EXPECT_EQ(cv::countNonZero(a.ink_labels != b.ink_labels), 0);
  EXPECT_EQ(a.text, b.text);
  EXPECT_NE(a.volume.voxels, c.volume.voxels);
  EXPECT_GT(cv::countNonZero(a.ink_labels != c.ink_labels), 0);
}

// The surface lies near the middle layer and bends by a few layers; raw values are CT-like, with
// papyrus below the Grand Prize rule's clip (200 * 256) so that rule keeps the contrast.
TEST(SyntheticSegment, SheetBetweenAirNearTheMiddleLayer) {
  const SyntheticSegment s = make_synthetic_segment(small(2));
  double lo = 0, hi = 0;
  cv::minMaxLoc(s.surface, &lo, &hi);
  EXPECT_GE(lo, 28.5);
  EXPECT_LE(hi, 35.5);
  EXPECT_GT(hi - lo, 2.0);

  double air = 0, papyrus = 0;
  int n = 0;
  std::uint16_t highest = 0;
  for (int y = 0; y < s.volume.height; ++y) {
    for (int x = 0; x < s.volume.width; ++x) {
      if (!s.mask.at<std::uint8_t>(y, x)) continue;
      const int z = static_cast<int>(std::lround(s.surface.at<float>(y, x)));
      air += s.volume.at(z - 10, y, x) + s.volume.at(z + 24, y, x);
      papyrus += s.volume.at(z + 5, y, x);
      ++n;
    }
  }
  for (const auto v : s.volume.voxels)
    highest = std::max(highest, v);
  EXPECT_NEAR(air / (2 * n), 10500, 500);
  EXPECT_GT(papyrus / n, 25000);
  EXPECT_LT(papyrus / n, 40000);
  EXPECT_LT(highest, 200 * 256);
}

// Ink is a thin denser film on the surface: ink columns and the non-ink columns around them
// differ within a couple of layers of the surface and not elsewhere. Each column is read at the
// same height relative to its own surface (interpolated between layers), and compared with its
// neighbours, so that the sheet's slow changes in height and density do not count as ink.
TEST(SyntheticSegment, InkDiffersFromPapyrusOnlyNearTheSurface) {
  SynthOptions o;
  o.width = 320;
  o.height = 256;
  o.seed = 3;
  const SyntheticSegment s = make_synthetic_segment(o);
  // Columns right next to a stroke see its ink through the blur: leave them out.
  cv::Mat near, around;
  cv::dilate(s.ink_labels, near, cv::Mat(), cv::Point(-1, -1), 3);
  cv::dilate(s.ink_labels, around, cv::Mat(), cv::Point(-1, -1), 10);
  const cv::Mat beside = s.mask & around & ~near;
  const auto at_height = [&](double z, int y, int x) {
    const int z0 = static_cast<int>(std::floor(z));
    const double f = z - z0;
    return (1 - f) * s.volume.at(z0, y, x) + f * s.volume.at(z0 + 1, y, x);
  };
  std::map<int, double> difference;
  for (int offset = -12; offset <= 20; ++offset) {
    double ink = 0, plain = 0;
    int n_ink = 0, n_plain = 0;
    for (int y = 0; y < o.height; ++y) {
      for (int x = 0; x < o.width; ++x) {
        const double z = s.surface.at<float>(y, x) + offset;
        if (s.ink_labels.at<std::uint8_t>(y, x)) {
          ink += at_height(z, y, x);
          ++n_ink;
        } else if (beside.at<std::uint8_t>(y, x)) {
          plain += at_height(z, y, x);
          ++n_plain;
        }
      }
    }
    ASSERT_GT(n_ink, 2000);
    ASSERT_GT(n_plain, 2000);
    difference[offset] = ink / n_ink - plain / n_plain;
  }
  // The film shows at the surface as several hundred raw units (a few percent of the papyrus-air
  // contrast of ~20000). Deeper in the papyrus the fibres leave differences of ~100 either way,
  // in the air less.
  const double at_surface = std::min(difference[-1], difference[0]);
  EXPECT_GT(at_surface, 350);
  for (const auto& [offset, d] : difference) {
    SCOPED_TRACE("offset " + std::to_string(offset) + " difference " + std::to_string(d));
    if (offset <= -5 || offset >= 17) EXPECT_LT(std::abs(d), 60);
    if (offset >= 4 && offset <= 9) EXPECT_LT(std::abs(d), 0.3 * at_surface);
  }
}

// The same sheet without text isolates what the ink adds: a denser film on the surface, which the
// blur spreads over a few layers, and nothing deeper in the papyrus or out in the air.
TEST(SyntheticSegment, InkAddsDensityOnlyAtTheSurface) {
  SynthOptions o = small(6);
  const SyntheticSegment inked = make_synthetic_segment(o);
  o.text = "";
  const SyntheticSegment blank = make_synthetic_segment(o);
  int changed = 0;
  for (int z = 0; z < o.layers; ++z) {
    for (int y = 0; y < o.height; ++y) {
      for (int x = 0; x < o.width; ++x) {
        const int added = inked.volume.at(z, y, x) - blank.volume.at(z, y, x);
        if (added == 0) continue;
        ++changed;
        const double d = z - inked.surface.at<float>(y, x);
        ASSERT_GT(added, 0) << z << "," << y << "," << x;
        // The film spans 1.5 layers above the surface to 0.3 below; the blur reaches 3 layers.
        ASSERT_GT(d, -5.0) << z << "," << y << "," << x;
        ASSERT_LT(d, 4.0) << z << "," << y << "," << x;
      }
    }
  }
  EXPECT_GT(changed, cv::countNonZero(inked.ink_labels));
}

TEST(SyntheticSegment, WritesTheGivenText) {
  SynthOptions o = small(4);
  o.text = "ABC\nDEF";
  const SyntheticSegment s = make_synthetic_segment(o);
  EXPECT_EQ(s.text, "ABC\nDEF");
  EXPECT_GT(cv::countNonZero(s.ink_labels), 100);

  o.text = "";
  EXPECT_EQ(cv::countNonZero(make_synthetic_segment(o).ink_labels), 0);
  // The sheet does not depend on the text: without ink, the voxels away from the strokes match.
  const SyntheticSegment blank = make_synthetic_segment(o);
  EXPECT_EQ(cv::countNonZero(blank.mask != s.mask), 0);
  EXPECT_EQ(blank.volume.at(10, 72, 5), s.volume.at(10, 72, 5));
}

TEST(SyntheticSegment, RejectsWhatItCannotMake) {
  const auto kind_of = [](SynthOptions o) {
    try {
      make_synthetic_segment(o);
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::internal;
  };
  SynthOptions o = small(0);
  o.width = 8;
  EXPECT_EQ(kind_of(o), ErrorKind::usage);
  o = small(0);
  o.layers = 0;
  EXPECT_EQ(kind_of(o), ErrorKind::usage);
  o = small(0);
  o.text = "\xCE\xB1";  // Greek alpha in UTF-8: the Hershey fonts draw ASCII only
  EXPECT_EQ(kind_of(o), ErrorKind::usage);
  o = small(0);
  o.width = o.height = 20000;
  EXPECT_EQ(kind_of(o), ErrorKind::usage);
}

TEST(SyntheticSegment, ReplacesAnEarlierSegmentsLayers) {
  TempDir tmp;
  write_synthetic_segment(tmp / "seg", make_synthetic_segment(small(5)));
  SynthOptions fewer = small(5);
  fewer.layers = 20;
  write_synthetic_segment(tmp / "seg", make_synthetic_segment(fewer));
  EXPECT_EQ(open_segment(tmp / "seg").layer_count(), 20);
}

}  // namespace
}  // namespace inkgen
