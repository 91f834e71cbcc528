#include "inkgen/synth/synthetic_segment.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "inkgen/common/error.hpp"
#include "inkgen/io/segment.hpp"
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
  // On the papyrus the surface spans the default bend of 3 layers either side of layer 32; the
  // border beyond the mask may bend a little further.
  const auto [p01, p99] = surface_percentiles(s, 1, 99);
  EXPECT_NEAR(p01, 29, 0.01);
  EXPECT_NEAR(p99, 35, 0.01);
  double lo = 0, hi = 0;
  cv::minMaxLoc(s.surface, &lo, &hi);
  EXPECT_GE(lo, 24);
  EXPECT_LE(hi, 40);

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
        // The film spans 1.5 layers above the surface to 0.3 below; the blur reaches 3 layers
        // (and 3 pixels sideways, where the bending surface may lie a little higher or lower).
        ASSERT_GT(d, -5.5) << z << "," << y << "," << x;
        ASSERT_LT(d, 4.5) << z << "," << y << "," << x;
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

  const auto message_of = [](SynthOptions o) -> std::string {
    try {
      make_synthetic_segment(o);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::usage) return e.what();
    }
    return "";
  };
  const auto refused = [&](const char* option, auto set) {
    SynthOptions bad = small(0);
    set(bad);
    const std::string message = message_of(bad);
    EXPECT_NE(message.find(option), std::string::npos) << option << ": '" << message << "'";
    EXPECT_NE(message.find("give"), std::string::npos) << message;
  };
  refused("--bend", [](SynthOptions& b) { b.bend = -0.5; });
  refused("--bend", [](SynthOptions& b) { b.bend = 17; });  // over a quarter of 65 layers
  refused("--bend", [](SynthOptions& b) { b.bend = std::nan(""); });
  refused("--ink-depth", [](SynthOptions& b) { b.ink_depth = 11; });
  refused("--ink-depth", [](SynthOptions& b) { b.ink_depth = -5; });
  refused("--ink-thickness", [](SynthOptions& b) { b.ink_thickness = 0; });
  refused("--ink-contrast", [](SynthOptions& b) { b.ink_contrast = 0.6; });
  refused("--ink-contrast", [](SynthOptions& b) { b.ink_contrast = -0.6; });
  refused("--blur", [](SynthOptions& b) { b.blur = -0.1; });
  refused("--blur", [](SynthOptions& b) { b.blur = 3.5; });
}

TEST(SyntheticSegment, ReplacesAnEarlierSegmentsLayers) {
  TempDir tmp;
  write_synthetic_segment(tmp / "seg", make_synthetic_segment(small(5)));
  SynthOptions fewer = small(5);
  fewer.layers = 20;
  write_synthetic_segment(tmp / "seg", make_synthetic_segment(fewer));
  EXPECT_EQ(open_segment(tmp / "seg").layer_count(), 20);
}

// Surface heights on the papyrus, sorted.
std::vector<float> papyrus_heights(const SyntheticSegment& s) {
  std::vector<float> heights;
  for (int y = 0; y < s.mask.rows; ++y)
    for (int x = 0; x < s.mask.cols; ++x)
      if (s.mask.at<std::uint8_t>(y, x)) heights.push_back(s.surface.at<float>(y, x));
  std::sort(heights.begin(), heights.end());
  return heights;
}

double quantile(const std::vector<float>& sorted, double q) {
  return sorted[static_cast<std::size_t>(q * (sorted.size() - 1))];
}

// On a full-size segment the surface spans about the bend either side of the middle layer inside
// the papyrus (it used to be normalized by its peak in the corners and lay flat inside), with
// bends tens to a hundred-odd pixels apart; and the volume follows it: air just above, papyrus
// just below, in every column.
TEST(SyntheticSegment, SurfaceBendsAboutTheBendInsideThePapyrus) {
  SynthOptions o;
  o.seed = 11;
  const SyntheticSegment s = make_synthetic_segment(o);
  const auto heights = papyrus_heights(s);
  const double p01 = quantile(heights, 0.01), p99 = quantile(heights, 0.99);
  EXPECT_GT(p99 - p01, 1.5 * o.bend);
  EXPECT_LT(p99 - p01, 2.5 * o.bend);
  EXPECT_NEAR((p01 + p99) / 2, 32, 0.5);

  // Crossings of the middle height along the rows: bends neither a few pixels nor the whole
  // sheet apart.
  int crossings = 0;
  long run = 0;
  for (int y = 0; y < o.height; y += 8) {
    for (int x = 1; x < o.width; ++x) {
      if (!s.mask.at<std::uint8_t>(y, x) || !s.mask.at<std::uint8_t>(y, x - 1)) continue;
      ++run;
      crossings += (s.surface.at<float>(y, x) > 32) != (s.surface.at<float>(y, x - 1) > 32);
    }
  }
  ASSERT_GT(crossings, 0);
  const double spacing = static_cast<double>(run) / crossings;
  EXPECT_GT(spacing, 30) << crossings << " crossings";
  EXPECT_LT(spacing, 300) << crossings << " crossings";

  int columns = 0, followed = 0;
  for (int y = 0; y < o.height; ++y) {
    for (int x = 0; x < o.width; ++x) {
      if (!s.mask.at<std::uint8_t>(y, x)) continue;
      const int z = static_cast<int>(std::lround(s.surface.at<float>(y, x)));
      ++columns;
      followed += s.volume.at(z - 3, y, x) < 14000 && s.volume.at(z + 3, y, x) > 20000;
    }
  }
  EXPECT_GT(followed, 0.99 * columns) << followed << " of " << columns;

  o.bend = 0;
  const auto flat = papyrus_heights(make_synthetic_segment(o));
  EXPECT_LT(quantile(flat, 0.99) - quantile(flat, 0.01), 0.5);
}

SynthOptions with_ink(std::uint32_t seed, double depth, double thickness, double contrast) {
  SynthOptions o = small(seed);
  o.ink_depth = depth;
  o.ink_thickness = thickness;
  o.ink_contrast = contrast;
  return o;
}

// The ink answer is exact: the written voxels minus those of the same segment with invisible ink
// (or no text), voxel for voxel. The sheet does not depend on the ink options.
TEST(SyntheticSegment, InkIsExactlyWithInkMinusWithout) {
  const SyntheticSegment inked = make_synthetic_segment(with_ink(9, 2, 3, 0.05));
  const SyntheticSegment invisible = make_synthetic_segment(with_ink(9, -1, 1, 0));
  SynthOptions bare = small(9);
  bare.text = "";
  const SyntheticSegment blank = make_synthetic_segment(bare);
  EXPECT_EQ(invisible.volume.voxels, blank.volume.voxels);
  EXPECT_EQ(cv::countNonZero(invisible.ink_labels != inked.ink_labels), 0);
  ASSERT_EQ(inked.ink.values.size(), inked.volume.voxels.size());
  EXPECT_EQ(inked.ink.depth, 65);
  EXPECT_EQ(inked.ink.height, 144);
  EXPECT_EQ(inked.ink.width, 192);
  long nonzero = 0;
  for (std::size_t i = 0; i < inked.volume.voxels.size(); ++i) {
    const float difference = float(inked.volume.voxels[i]) - float(blank.volume.voxels[i]);
    ASSERT_EQ(inked.ink.values[i], difference) << i;
    nonzero += inked.ink.values[i] != 0;
  }
  EXPECT_GT(nonzero, cv::countNonZero(inked.ink_labels));
  for (const float v : invisible.ink.values)
    ASSERT_EQ(v, 0.f);
  for (const float v : blank.ink.values)
    ASSERT_EQ(v, 0.f);
}

// A deep, thick film: the ink changes voxels only under the strokes (and as far beside them as
// the blur reaches) and only around surface + ink_depth, and most of it within the film.
TEST(SyntheticSegment, InkLiesUnderTheLabelsAtTheGivenDepth) {
  const SynthOptions o = with_ink(12, 3, 3, 0.08);
  const SyntheticSegment s = make_synthetic_segment(o);
  const int reach = static_cast<int>(std::ceil(3 * o.blur));
  cv::Mat near;
  cv::dilate(s.ink_labels, near, cv::Mat::ones(2 * reach + 1, 2 * reach + 1, CV_8UC1));
  double total = 0, within_film = 0;
  for (int z = 0; z < o.layers; ++z) {
    for (int y = 0; y < o.height; ++y) {
      for (int x = 0; x < o.width; ++x) {
        const float v = s.ink.at(z, y, x);
        if (v == 0) continue;
        ASSERT_GT(v, 0) << z << "," << y << "," << x;
        ASSERT_TRUE(near.at<std::uint8_t>(y, x)) << z << "," << y << "," << x;
        const double d = z - s.surface.at<float>(y, x) - o.ink_depth;
        // Half the film, the blur's reach, and the bend over the blur's reach sideways.
        ASSERT_LT(std::abs(d), o.ink_thickness / 2 + reach + 1.5) << z << "," << y << "," << x;
        total += v;
        if (std::abs(d) <= o.ink_thickness / 2 + 1) within_film += v;
      }
    }
  }
  EXPECT_GT(total, 0);
  EXPECT_GT(within_film, 0.9 * total);
}

TEST(SyntheticSegment, NegativeContrastGivesLighterInk) {
  const SyntheticSegment light = make_synthetic_segment(with_ink(13, -0.6, 1.8, -0.06));
  double sum = 0;
  for (const float v : light.ink.values) {
    ASSERT_LE(v, 0.f);
    sum += v;
  }
  EXPECT_LT(sum, -1000.0 * cv::countNonZero(light.ink_labels));
}

// The film answer: on the papyrus, each column's film weight peaks at surface + ink_depth, at
// about 1; far from the papyrus it is 0; it does not depend on the text.
TEST(SyntheticSegment, FilmPeaksAtSurfacePlusInkDepth) {
  for (const double depth : {-0.6, 2.5}) {
    SCOPED_TRACE("ink depth " + std::to_string(depth));
    const SynthOptions o = with_ink(14, depth, 1.8, 0.07);
    const SyntheticSegment s = make_synthetic_segment(o);
    cv::Mat inside, outside;
    cv::erode(s.mask, inside, cv::Mat::ones(9, 9, CV_8UC1));
    cv::dilate(s.mask, outside, cv::Mat::ones(9, 9, CV_8UC1));
    int columns = 0;
    float lowest_peak = 1;
    for (int y = 0; y < o.height; ++y) {
      for (int x = 0; x < o.width; ++x) {
        if (!outside.at<std::uint8_t>(y, x)) {
          for (int z = 0; z < o.layers; ++z)
            ASSERT_EQ(s.film.at(z, y, x), 0.f);
        }
        if (!inside.at<std::uint8_t>(y, x)) continue;
        int peak = 0;
        for (int z = 1; z < o.layers; ++z)
          if (s.film.at(z, y, x) > s.film.at(peak, y, x)) peak = z;
        ASSERT_LE(std::abs(peak - (s.surface.at<float>(y, x) + depth)), 1.0) << y << "," << x;
        ASSERT_LE(s.film.at(peak, y, x), 1.f);
        lowest_peak = std::min(lowest_peak, s.film.at(peak, y, x));
        ++columns;
      }
    }
    EXPECT_GT(columns, o.width * o.height / 3);
    EXPECT_GT(lowest_peak, 0.7f);

    SynthOptions blank = o;
    blank.text = "";
    EXPECT_EQ(make_synthetic_segment(blank).film.values, s.film.values);
  }
}

TEST(SyntheticSegment, SameOptionsSameAnswers) {
  const SynthOptions o = with_ink(15, 1, 2, -0.04);
  const SyntheticSegment a = make_synthetic_segment(o);
  const SyntheticSegment b = make_synthetic_segment(o);
  EXPECT_EQ(a.volume.voxels, b.volume.voxels);
  EXPECT_EQ(a.ink.values, b.ink.values);
  EXPECT_EQ(a.film.values, b.film.values);
  EXPECT_EQ(cv::countNonZero(a.surface != b.surface), 0);
}

}  // namespace
}  // namespace inkgen
