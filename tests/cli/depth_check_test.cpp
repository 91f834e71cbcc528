// The depth direction on a known answer: the bundled model reads a film on the air side of the
// papyrus surface, so on a synthetic segment with ink it scores the layers as written above the
// same layers turned over and above any shuffle of them, and a copy of the segment whose layer
// files run the other way is caught and read right with --reverse-layers.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "test_support.hpp"

namespace inkgen {
namespace {

using test::run_inkgen;
namespace fs = std::filesystem;

class CliDepthCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    const fs::path seg = *dir_ / "seg";
    ASSERT_EQ(run_inkgen({"synth", "--out", seg.string(), "--seed", "77", "--size", "256,192",
                          "--text", "MHNIN\\nAEIDE"})
                  .exit_code,
              0);
    // The most inked 64x64 crop wholly on the papyrus.
    const cv::Mat ink = cv::imread((seg / "seg_inklabels.png").string(), cv::IMREAD_UNCHANGED);
    const cv::Mat mask = cv::imread((seg / "seg_mask.png").string(), cv::IMREAD_UNCHANGED);
    int best = -1;
    for (int y = 0; y + 64 <= ink.rows; y += 8) {
      for (int x = 0; x + 64 <= ink.cols; x += 8) {
        const cv::Rect r(x, y, 64, 64);
        if (cv::countNonZero(mask(r)) != 64 * 64) continue;
        const int n = cv::countNonZero(ink(r));
        if (n > best) {
          best = n;
          crop_ = std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(x + 64) + "," +
                  std::to_string(y + 64);
        }
      }
    }
    ASSERT_GT(best, 64 * 64 / 10) << "the synthetic text left no well-inked crop";
    // The same segment with its layer files numbered the other way.
    const fs::path flipped = *dir_ / "flipped";
    fs::create_directories(flipped / "layers");
    std::vector<fs::path> layers;
    for (const auto& e : fs::directory_iterator(seg / "layers"))
      layers.push_back(e.path());
    std::sort(layers.begin(), layers.end());
    const int n = static_cast<int>(layers.size());
    for (int k = 0; k < n; ++k) {
      char name[16];
      std::snprintf(name, sizeof name, "%02d.tif", n - 1 - k);
      fs::copy_file(layers[k], flipped / "layers" / name);
    }
    fs::copy_file(seg / "seg_mask.png", flipped / "flipped_mask.png");
  }
  static void TearDownTestSuite() { delete dir_; }

  static nlohmann::json score(const std::string& segment, std::vector<std::string> extra) {
    std::vector<std::string> args{"--json", "score", "--segment", (*dir_ / segment).string(),
                                  "--crop", crop_};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::json_of(run_inkgen(args));
  }

  static test::TempDir* dir_;
  static std::string crop_;
};

test::TempDir* CliDepthCheck::dir_ = nullptr;
std::string CliDepthCheck::crop_;

TEST_F(CliDepthCheck, TheWrittenOrderScoresAboveItsReverseAndEveryShuffle) {
  const auto j = score("seg", {"--depth-check", "4"});
  const auto& check = j.at("depth_check");
  const double stored = check.at("as_stored").at("logit").get<double>();
  EXPECT_NEAR(stored, j.at("logit").get<double>(), 1e-3);
  EXPECT_GT(stored, check.at("reversed").at("logit").get<double>() + 1.0);
  ASSERT_EQ(check.at("shuffled").size(), 4u);
  for (const auto& s : check.at("shuffled"))
    EXPECT_GT(stored, s.at("logit").get<double>() + 1.0);
  EXPECT_NE(check.at("verdict").get<std::string>().find("scores highest"), std::string::npos);
  EXPECT_EQ(j.at("layer_order"), "as_stored");
}

TEST_F(CliDepthCheck, ALayerStackThatRunsTheOtherWayIsCaughtAndReadRight) {
  const auto flipped = score("flipped", {"--depth-check", "2"});
  EXPECT_NE(flipped.at("depth_check").at("verdict").get<std::string>().find("try --reverse-layers"),
            std::string::npos);
  // Turned back over, the flipped files are the original voxels: the same score, bit for bit.
  const auto original = score("seg", {});
  const auto righted = score("flipped", {"--reverse-layers"});
  EXPECT_EQ(righted.at("logit"), original.at("logit"));
  EXPECT_EQ(righted.at("layer_order"), "reversed");
  EXPECT_LT(flipped.at("logit").get<double>(), original.at("logit").get<double>() - 1.0);
}

TEST_F(CliDepthCheck, RunsAndBatchesRecordTheOrderAndTheCheck) {
  const fs::path out = *dir_ / "run";
  ASSERT_EQ(run_inkgen({"--quiet", "maximize", "--from", "segment", "--segment",
                        (*dir_ / "flipped").string(), "--crop", crop_, "--reverse-layers",
                        "--depth-check", "2", "--steps", "2", "--out", out.string()})
                .exit_code,
            0);
  const auto record = test::read_json(out / "run.json");
  EXPECT_EQ(record.at("options").at("reverse_layers"), true);
  const auto& source = record.at("starts")[0].at("source");
  EXPECT_EQ(source.at("layer_order"), "reversed");
  const int z0 = source.at("z0").get<int>();
  const int last = source.at("layers")[1].get<int>();
  EXPECT_EQ(source.at("stored_layers"), nlohmann::json({64 - z0, 64 - last}));
  EXPECT_EQ(source.at("depth_check").at("in_use"), "reversed");
  EXPECT_EQ(source.at("depth_check").at("shuffled").size(), 2u);
  EXPECT_NEAR(source.at("depth_check").at("reversed").at("logit").get<double>(),
              record.at("starts")[0].at("start_score").at("logit").get<double>(), 1e-3);

  const fs::path jobs = *dir_ / "jobs.jsonl";
  test::write_text(jobs, R"({"mode": "maximize", "segment": ")" + (*dir_ / "seg").string() +
                             R"(", "crops": [")" + crop_ + R"("], "depth-check": 1})" + "\n");
  const fs::path batch = *dir_ / "batch";
  ASSERT_EQ(run_inkgen({"--quiet", "batch", jobs.string(), "--steps", "2", "--out", batch.string()})
                .exit_code,
            0);
  const auto line = nlohmann::json::parse(test::read_file(batch / "manifest.jsonl"));
  EXPECT_EQ(line.at("depth_check").at("in_use"), "as_stored");
  EXPECT_EQ(line.at("depth_check").at("shuffled").size(), 1u);
}

TEST_F(CliDepthCheck, RefusesAShuffleCountOutOfRange) {
  for (const char* bad : {"-1", "65", "two"}) {
    test::expect_one_line_error(run_inkgen({"score", "--segment", (*dir_ / "seg").string(),
                                            "--crop", crop_, "--depth-check", bad}),
                                2, "--depth-check");
  }
}

}  // namespace
}  // namespace inkgen
