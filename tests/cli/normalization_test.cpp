// A card's per-crop normalisation at the CLI: the statistics a start was normalised with are in
// run.json, and the written volume goes back through them to the crop's raw values (all but the
// clipped ones, which come back at their bound); a noise start has no statistics and no volume.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "inkgen/io/segment.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::run_inkgen;
namespace fs = std::filesystem;

class CliNormalization : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy_file(test::test_model("tiny-sidecar.pt"), tmp_ / "m.pt");
    nlohmann::json card = test::read_json(test::test_model("tiny-sidecar.json"));
    card["input"]["normalize"] = {{"kind", "percentile"}, {"low", 5}, {"high", 95}};
    test::write_text(tmp_ / "m.json", card.dump());
    test::make_segment(tmp_ / "seg", test::random_volume(8, 20, 20, 9));
  }
  test::TempDir tmp_;
};

TEST_F(CliNormalization, TheStatisticsAreRecordedAndTheVolumeGoesBackThroughThem) {
  // --stop-at below the start's probability: the start is the result, unchanged.
  const fs::path out = tmp_ / "run";
  ASSERT_EQ(run_inkgen({"--quiet", "maximize", "--model", (tmp_ / "m.pt").string(), "--from",
                        "segment", "--segment", (tmp_ / "seg").string(), "--crop", "3,4,15,16",
                        "--stop-at", "0.0001", "--out", out.string()})
                .exit_code,
            0);
  const auto start = test::read_json(out / "run.json").at("starts")[0];
  ASSERT_EQ(start.at("diff").at("max_added"), 0.0);
  const auto& n = start.at("source").at("normalization");
  EXPECT_EQ(n.at("kind"), "percentile");
  const double lo = n.at("center").get<double>(), hi = lo + n.at("spread").get<double>();
  EXPECT_LT(lo, hi);
  const int z0 = start.at("source").at("z0").get<int>();
  const RawVolume crop = read_crop(open_segment(tmp_ / "seg"), Crop{3, 4, 15, 16}, z0, 4);
  const RawVolume back = read_crop(open_segment(out / "volume"), Crop{0, 0, 12, 12}, 0, 4);
  int clipped = 0;
  for (std::size_t i = 0; i < crop.voxels.size(); ++i) {
    const double v = crop.voxels[i] / 65535.0;
    clipped += v < lo || v > hi;
    const double want = std::round(std::clamp(v, lo, hi) * 65535.0);
    ASSERT_NEAR(back.voxels[i], want, 1.0) << "voxel " << i;
  }
  EXPECT_GT(clipped, 0) << "the 5th and 95th percentiles clip some voxels";
}

TEST_F(CliNormalization, ANoiseStartHasNoStatisticsSoNoVolume) {
  const fs::path out = tmp_ / "noise";
  ASSERT_EQ(run_inkgen({"--quiet", "maximize", "--model", (tmp_ / "m.pt").string(), "--from",
                        "noise", "--steps", "2", "--out", out.string()})
                .exit_code,
            0);
  const auto start = test::read_json(out / "run.json").at("starts")[0];
  EXPECT_NE(start.at("volume").get<std::string>().find("not written"), std::string::npos);
  EXPECT_FALSE(fs::exists(out / "volume"));
  EXPECT_TRUE(fs::exists(out / "result"));
}

TEST_F(CliNormalization, AnUnboundedNormalisationWithoutARangeIsACardError) {
  nlohmann::json card = test::read_json(tmp_ / "m.json");
  card["input"]["normalize"] = {{"kind", "standardize"}};
  test::write_text(tmp_ / "m.json", card.dump());
  test::expect_one_line_error(run_inkgen({"info", "--model", (tmp_ / "m.pt").string()}), 4,
                              "give 'input.range'");
}

}  // namespace
}  // namespace inkgen
