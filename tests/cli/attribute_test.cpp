// `inkgen attribute` from the command line: the run folder, the refusals, --json.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "inkgen/io/float_tiff_stack.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using test::read_json;
using test::run_inkgen;
using test::test_model;

class CliAttribute : public ::testing::Test {
 protected:
  void SetUp() override { test::make_segment(tmp_ / "seg", raw_); }
  std::vector<std::string> args(const std::string& out, std::vector<std::string> more = {}) {
    std::vector<std::string> a{"attribute",
                               "--from",
                               "segment",
                               "--segment",
                               (tmp_ / "seg").string(),
                               "--model",
                               test_model("tiny-map.pt").string(),
                               "--z0",
                               "1",
                               "--out",
                               (tmp_ / out).string(),
                               "--quiet"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  test::TempDir tmp_;
  const RawVolume raw_ = test::random_volume(9, 30, 28, 21, 10000, 40000);
};

TEST_F(CliAttribute, WritesTheMapsPicturesMontageAndRecord) {
  const auto r = run_inkgen(args("run", {"--crop", "4,6,20,22"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path dir = tmp_ / "run";
  for (int z = 0; z < 6; ++z) {
    const std::string name = "0" + std::to_string(z) + ".png";
    EXPECT_TRUE(fs::exists(dir / "start" / name)) << name;
    const cv::Mat png = cv::imread((dir / "attribution" / name).string(), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(png.empty()) << name;
    EXPECT_EQ(png.channels(), 3);
    EXPECT_EQ(png.cols, 16);
  }
  EXPECT_FALSE(cv::imread((dir / "montage.png").string()).empty());
  const auto header = probe_float_tiff_stack(dir / "attribution.tif");
  EXPECT_EQ(header.pages, 6);
  EXPECT_EQ(header.width, 16);
  EXPECT_EQ(header.height, 16);

  const auto record = read_json(dir / "run.json");
  EXPECT_EQ(record["status"], "done");
  EXPECT_EQ(record["mode"], "attribute");
  EXPECT_TRUE(record.contains("inkgen_version"));
  EXPECT_EQ(record["model"]["name"], "tiny-map");
  const auto& o = record["options"];
  EXPECT_EQ(o["method"], "map-depth");
  EXPECT_EQ(o["smooth"], 1.5);
  EXPECT_EQ(o["threshold"], 0.1);
  EXPECT_EQ(o["samples"], 16);
  EXPECT_EQ(o["crops"], nlohmann::json::array({"4,6,20,22"}));
  EXPECT_EQ(o["force"], false);
  EXPECT_FALSE(o.contains("steps"));
  ASSERT_EQ(record["starts"].size(), 1u);
  const auto& s = record["starts"][0];
  EXPECT_EQ(s["source"]["kind"], "segment");
  EXPECT_EQ(s["source"]["z0"], 1);
  EXPECT_TRUE(s["start_score"].contains("logit"));
  const auto& a = s["attribution"];
  EXPECT_EQ(a["method"], "map-depth");
  EXPECT_GT(a["scale"].get<double>(), 0.0);
  EXPECT_GT(a["sum_abs"].get<double>(), 0.0);
  EXPECT_EQ(a["depth_profile"].size(), 6u);
}

TEST_F(CliAttribute, SeveralCropsGoToNumberedFoldersInDeviceBatches) {
  const auto r = run_inkgen(args("two", {"--crop", "4,6,20,22", "--crop", "10,12,26,28", "--batch",
                                         "2", "--method", "ig", "--samples", "4"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto record = read_json(tmp_ / "two" / "run.json");
  ASSERT_EQ(record["starts"].size(), 2u);
  for (const char* folder : {"000", "001"}) {
    EXPECT_TRUE(fs::exists(tmp_ / "two" / folder / "attribution.tif")) << folder;
    EXPECT_TRUE(fs::exists(tmp_ / "two" / folder / "montage.png")) << folder;
    EXPECT_EQ(read_json(tmp_ / "two" / folder / "run.json")["starts"].size(), 1u);
  }
  EXPECT_EQ(record["starts"][1]["attribution"]["method"], "ig");
  EXPECT_EQ(record["starts"][1]["attribution"]["samples"], 4);
  EXPECT_EQ(record["options"]["batch"], 2);
}

TEST_F(CliAttribute, JsonPrintsTheRecordAlone) {
  auto a = args("json", {"--crop", "4,6,20,22", "--method", "gradient", "--json"});
  a.erase(std::find(a.begin(), a.end(), "--quiet"));  // pure JSON without --quiet too
  const auto r = run_inkgen(a);
  const auto j = test::json_of(r);  // the whole of stdout parses as one JSON object
  EXPECT_EQ(j["mode"], "attribute");
  EXPECT_EQ(j["status"], "done");
  EXPECT_EQ(j["starts"][0]["attribution"]["method"], "gradient");
  EXPECT_EQ(j["out"], (tmp_ / "json").string());
}

TEST_F(CliAttribute, RefusesNoiseBadOptionsAndAnOccupiedOut) {
  auto noise = args("noise", {"--crop", "4,6,20,22"});
  noise[2] = "noise";
  auto r = run_inkgen(noise);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("real crop"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "noise"));

  r = run_inkgen(args("bad", {"--crop", "4,6,20,22", "--method", "saliency"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--method"), std::string::npos) << r.err;
  r = run_inkgen(args("bad", {"--crop", "4,6,20,22", "--threshold", "2"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--threshold"), std::string::npos) << r.err;
  r = run_inkgen(args("bad"));  // no crop
  EXPECT_EQ(r.exit_code, 2);
  r = run_inkgen(args("bad", {"--crop", "4,6,20,22", "--steps", "5"}));  // not an option here
  EXPECT_EQ(r.exit_code, 2);

  fs::create_directories(tmp_ / "full");
  test::write_text(tmp_ / "full" / "keep.txt", "mine");
  r = run_inkgen(args("full", {"--crop", "4,6,20,22", "--smooth", "0"}));
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  r = run_inkgen(args("full", {"--crop", "4,6,20,22", "--smooth", "0", "--force"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(tmp_ / "full" / "keep.txt"));
  EXPECT_TRUE(fs::exists(tmp_ / "full" / "attribution.tif"));
}

}  // namespace
}  // namespace inkgen
