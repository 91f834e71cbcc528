// `inkgen synth` from the command line: the layout it writes, its determinism, its refusals.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "inkgen/io/segment.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::read_file;
using test::run_inkgen;
namespace fs = std::filesystem;

// The pages of a multi-page float32 TIFF.
std::vector<cv::Mat> float_pages(const fs::path& path) {
  std::vector<cv::Mat> pages;
  cv::imreadmulti(path.string(), pages, cv::IMREAD_UNCHANGED);
  return pages;
}

std::vector<cv::Mat> layers_of(const fs::path& dir, int count) {
  std::vector<cv::Mat> layers;
  for (int z = 0; z < count; ++z) {
    const std::string name = (z < 10 ? "0" : "") + std::to_string(z) + ".tif";
    layers.push_back(cv::imread((dir / "layers" / name).string(), cv::IMREAD_UNCHANGED));
  }
  return layers;
}

std::vector<std::string> synth(const fs::path& out, const std::string& seed) {
  return {"synth", "--out", out.string(), "--size", "160,120", "--layers", "40", "--seed", seed};
}

TEST(CliSynth, WritesTheVesuviusLayout) {
  test::TempDir tmp;
  auto args = synth(tmp / "20230101000000", "3");
  args.push_back("--json");
  const auto r = run_inkgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["name"], "20230101000000");
  EXPECT_EQ(j["layers"], 40);
  EXPECT_GT(j["ink_pixels"].get<int>(), 0);

  const Segment s = open_segment(tmp / "20230101000000");
  EXPECT_EQ(s.layer_count(), 40);
  EXPECT_EQ(s.width, 160);
  EXPECT_EQ(s.height, 120);
  EXPECT_EQ(s.bits, 16);
  EXPECT_EQ(s.layers.front().filename(), "00.tif");
  ASSERT_TRUE(s.mask.has_value());
  EXPECT_EQ(s.mask->filename(), "20230101000000_mask.png");
  const cv::Mat ink = cv::imread((tmp / "20230101000000" / "20230101000000_inklabels.png").string(),
                                 cv::IMREAD_UNCHANGED);
  ASSERT_EQ(ink.type(), CV_8UC1);
  EXPECT_EQ(ink.size(), cv::Size(160, 120));
  EXPECT_EQ(cv::countNonZero(ink), j["ink_pixels"].get<int>());

  // The answers beside the layers: float32 pages in the segment's grid, and the options.
  const fs::path dir = tmp / "20230101000000";
  for (const auto& [file, pages] : std::vector<std::pair<std::string, std::size_t>>{
           {"_ink.tif", 40}, {"_film.tif", 40}, {"_surface.tif", 1}}) {
    const auto read = float_pages(dir / ("20230101000000" + file));
    ASSERT_EQ(read.size(), pages) << file;
    EXPECT_EQ(read[0].type(), CV_32FC1) << file;
    EXPECT_EQ(read[0].size(), cv::Size(160, 120)) << file;
  }
  std::ifstream in(dir / "20230101000000_synth.json");
  const auto record = nlohmann::json::parse(in);
  EXPECT_EQ(record["seed"], 3);
  EXPECT_EQ(record["size"], nlohmann::json({160, 120}));
  EXPECT_EQ(record["layers"], 40);
  EXPECT_EQ(record["bend"], 3.0);
  EXPECT_EQ(record["ink_depth"], -0.6);
  EXPECT_EQ(record["ink_thickness"], 1.8);
  EXPECT_EQ(record["ink_contrast"], 0.07);
  EXPECT_EQ(record["blur"], 0.85);
  EXPECT_EQ(record["text"], j["text"]);
}

TEST(CliSynth, SameSeedSameBytes) {
  test::TempDir tmp;
  ASSERT_EQ(run_inkgen(synth(tmp / "a" / "seg", "5")).exit_code, 0);
  ASSERT_EQ(run_inkgen(synth(tmp / "b" / "seg", "5")).exit_code, 0);
  ASSERT_EQ(run_inkgen(synth(tmp / "c" / "seg", "6")).exit_code, 0);
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(tmp / "a" / "seg")) {
    if (!entry.is_regular_file()) continue;
    const auto relative = fs::relative(entry.path(), tmp / "a" / "seg");
    EXPECT_EQ(read_file(entry.path()), read_file(tmp / "b" / "seg" / relative)) << relative;
    ++files;
  }
  // Layers, mask, ink labels, and the answers: ink, film, surface, options.
  EXPECT_EQ(files, 40 + 2 + 4);
  EXPECT_NE(read_file(tmp / "a" / "seg" / "layers" / "20.tif"),
            read_file(tmp / "c" / "seg" / "layers" / "20.tif"));
  EXPECT_NE(read_file(tmp / "a" / "seg" / "seg_inklabels.png"),
            read_file(tmp / "c" / "seg" / "seg_inklabels.png"));
}

TEST(CliSynth, RefusesToOverwriteWithoutForce) {
  test::TempDir tmp;
  ASSERT_EQ(run_inkgen(synth(tmp / "seg", "1")).exit_code, 0);
  const std::string before = read_file(tmp / "seg" / "layers" / "20.tif");
  const auto refused = run_inkgen(synth(tmp / "seg", "2"));
  EXPECT_EQ(refused.exit_code, 5) << refused.err;
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  EXPECT_EQ(read_file(tmp / "seg" / "layers" / "20.tif"), before);

  auto forced = synth(tmp / "seg", "2");
  forced.push_back("--force");
  EXPECT_EQ(run_inkgen(forced).exit_code, 0);
  EXPECT_NE(read_file(tmp / "seg" / "layers" / "20.tif"), before);

  std::ofstream(tmp / "file") << "x";
  EXPECT_EQ(run_inkgen(synth(tmp / "file", "1")).exit_code, 5);
  // An empty folder is fine without --force.
  fs::create_directory(tmp / "empty");
  EXPECT_EQ(run_inkgen(synth(tmp / "empty", "1")).exit_code, 0);
}

TEST(CliSynth, TextAndUsageErrors) {
  test::TempDir tmp;
  auto args = synth(tmp / "seg", "1");
  args.insert(args.end(), {"--text", "ABC\\nDE", "--json"});
  const auto r = run_inkgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["text"], "ABC\nDE");

  EXPECT_EQ(run_inkgen({"synth", "--out", (tmp / "x").string(), "--size", "160"}).exit_code, 2);
  EXPECT_EQ(run_inkgen({"synth", "--out", (tmp / "x").string(), "--layers", "0"}).exit_code, 2);
  EXPECT_EQ(run_inkgen({"synth", "--out", (tmp / "x").string(), "--seed", "-1"}).exit_code, 2);
  EXPECT_EQ(run_inkgen({"synth"}).exit_code, 2);
  EXPECT_FALSE(fs::exists(tmp / "x"));
}

// <name>_ink.tif is what the ink changed in the written layers: the layers minus those of the
// same segment with invisible ink (--ink-contrast 0), exactly, page by page.
TEST(CliSynth, InkTifIsTheLayersMinusTheSegmentWithoutInk) {
  test::TempDir tmp;
  auto inked = synth(tmp / "inked", "4");
  inked.insert(inked.end(), {"--ink-contrast", "-0.05", "--ink-depth", "1", "--ink-thickness",
                             "2.5", "--blur", "1.0"});
  auto plain = synth(tmp / "plain", "4");
  plain.insert(plain.end(), {"--ink-contrast", "0", "--blur", "1.0"});
  ASSERT_EQ(run_inkgen(inked).exit_code, 0);
  ASSERT_EQ(run_inkgen(plain).exit_code, 0);
  const auto with = layers_of(tmp / "inked", 40);
  const auto without = layers_of(tmp / "plain", 40);
  const auto ink = float_pages(tmp / "inked" / "inked_ink.tif");
  ASSERT_EQ(ink.size(), 40u);
  double lightest = 0;
  for (int z = 0; z < 40; ++z) {
    ASSERT_EQ(with[z].type(), CV_16UC1);
    cv::Mat difference;
    cv::subtract(with[z], without[z], difference, cv::noArray(), CV_32F);
    EXPECT_EQ(cv::countNonZero(difference != ink[z]), 0) << "layer " << z;
    double lo = 0;
    cv::minMaxLoc(ink[z], &lo);
    lightest = std::min(lightest, lo);
  }
  EXPECT_LT(lightest, -200);  // lighter ink: negative changes of a few hundred raw units
  const auto none = float_pages(tmp / "plain" / "plain_ink.tif");
  ASSERT_EQ(none.size(), 40u);
  for (const auto& page : none)
    EXPECT_EQ(cv::countNonZero(page), 0);
  std::ifstream in(tmp / "inked" / "inked_synth.json");
  const auto record = nlohmann::json::parse(in);
  EXPECT_EQ(record["ink_contrast"], -0.05);
  EXPECT_EQ(record["ink_depth"], 1.0);
  EXPECT_EQ(record["ink_thickness"], 2.5);
  EXPECT_EQ(record["blur"], 1.0);
}

TEST(CliSynth, BendSetsTheSurfaceRange) {
  test::TempDir tmp;
  const auto range = [&](const std::string& name, const std::string& bend) {
    const std::vector<std::string> args = {"synth",  "--out",   (tmp / name).string(),
                                           "--size", "320,240", "--layers",
                                           "40",     "--seed",  "2",
                                           "--bend", bend,      "--json"};
    const auto r = run_inkgen(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto p = nlohmann::json::parse(r.out)["surface_p01_p99"];
    return p[1].get<double>() - p[0].get<double>();
  };
  EXPECT_GT(range("bent", "3"), 1.5 * 3);
  EXPECT_GT(range("steep", "6"), 1.5 * 6);
  EXPECT_LT(range("flat", "0"), 0.5);
}

// Out-of-bounds ink and bend options: usage errors (exit 2) that name the option, nothing written.
TEST(CliSynth, RefusesInkAndBendOutOfBounds) {
  test::TempDir tmp;
  const std::vector<std::vector<std::string>> bad = {
      {"--bend", "11"},  // over a quarter of 40 layers
      {"--bend", "-1"},          {"--ink-depth", "12"},      {"--ink-thickness", "0"},
      {"--ink-contrast", "0.9"}, {"--ink-contrast", "-0.7"}, {"--blur", "4"},
      {"--blur", "nan"}};
  for (const auto& extra : bad) {
    auto args = synth(tmp / "x", "1");
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_inkgen(args);
    EXPECT_EQ(r.exit_code, 2) << extra[0] << " " << extra[1] << ": " << r.err;
    EXPECT_NE(r.err.find(extra[0]), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(tmp / "x"));
}

}  // namespace
}  // namespace inkgen
