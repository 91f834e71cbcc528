// `inkgen synth` from the command line: the layout it writes, its determinism, its refusals.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "inkgen/segment.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::read_file;
using test::run_inkgen;
namespace fs = std::filesystem;

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
  EXPECT_EQ(files, 40 + 2);
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

}  // namespace
}  // namespace inkgen
