// The default model shipped in models/ (trained by models/train_bundled.py on `inkgen synth`
// segments): its card, and that it finds the synthetic ink it was trained on.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "inkgen/model/ink_model.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::run_inkgen;
namespace fs = std::filesystem;

TEST(BundledModel, LoadsWithItsCard) {
  const fs::path path = bundled_model_path();
  ASSERT_TRUE(fs::is_regular_file(path)) << path << " is missing; see README, The bundled model";
  EXPECT_EQ(path.filename(), "inkgen-synth-i3dlite.pt");
  const InkModel model = load_ink_model(path, {});
  const ModelCard& card = model.card;
  EXPECT_EQ(card.name, "inkgen-synth-i3dlite");
  EXPECT_EQ(model.card_origin, "embedded inkgen.json");
  EXPECT_EQ(model.batch_shape(1), (std::vector<std::int64_t>{1, 1, 20, 64, 64}));
  EXPECT_EQ(card.scale.text(), "min(raw16>>8,200)/255");
  ASSERT_TRUE(card.z0.has_value());
  EXPECT_LE(*card.z0 + card.depth(), 65);
  EXPECT_EQ(card.output_kind, OutputKind::logits);
  EXPECT_EQ(model.output_shape, (std::vector<std::int64_t>{1, 16, 16}));
  EXPECT_GT(model.parameter_count, 10000);
  EXPECT_LT(model.parameter_count, 1000000);

  const auto& metrics = card.json.at("metrics");
  EXPECT_GT(metrics.at("heldout_pixel_auc").get<double>(), 0.9);
  // F0.5 of a model that finds the synthetic ink (0.70 for the bundled one). Marking every pixel
  // ink scores 1.25p/(0.25p+1) for an ink share p: under 0.5 unless ink covers 44 % of the papyrus.
  EXPECT_GT(metrics.at("heldout_f05").get<double>(), 0.5);
  EXPECT_LE(metrics.at("heldout_f05").get<double>(), 1.0);
  EXPECT_GT(metrics.at("threshold").get<double>(), 0.0);
  EXPECT_LT(metrics.at("threshold").get<double>(), 1.0);
  EXPECT_GT(metrics.at("heldout_segments").get<int>(), 0);
  const auto& training = card.json.at("training");
  EXPECT_NE(training.at("command").get<std::string>().find("train_bundled.py"), std::string::npos);
  EXPECT_NE(card.json.at("source").get<std::string>().find("synthetic"), std::string::npos);
}

TEST(BundledModel, IsTheDefaultOfInfo) {
  const auto j = test::json_of(run_inkgen({"info", "--json"}));
  EXPECT_EQ(fs::path(j["path"].get<std::string>()).filename(), "inkgen-synth-i3dlite.pt");
  EXPECT_EQ(j["output_shape"], nlohmann::json({1, 16, 16}));
  EXPECT_EQ(j["scale"], "min(raw16>>8,200)/255");
}

// On a segment it has not seen (seed 77; it trained on seeds 1..12), with one line of text at
// the top of the sheet: crops over the letters score higher than crops of bare papyrus below.
TEST(BundledModel, ScoresInkAboveBarePapyrus) {
  test::TempDir tmp;
  const fs::path seg = tmp / "seg";
  ASSERT_EQ(run_inkgen({"synth", "--out", seg.string(), "--seed", "77", "--text", "MHNIN AEIDE"})
                .exit_code,
            0);
  const cv::Mat ink = cv::imread((seg / "seg_inklabels.png").string(), cv::IMREAD_UNCHANGED);
  const cv::Mat mask = cv::imread((seg / "seg_mask.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(ink.empty());
  ASSERT_FALSE(mask.empty());
  int lowest_ink_row = 0;
  for (int y = 0; y < ink.rows; ++y)
    if (cv::countNonZero(ink.row(y))) lowest_ink_row = y;

  // Crops wholly on the papyrus: the most inked ones, and bare ones well below the text.
  std::vector<std::pair<int, cv::Rect>> inked;
  std::vector<cv::Rect> bare;
  for (int y = 0; y + 64 <= ink.rows; y += 16) {
    for (int x = 0; x + 64 <= ink.cols; x += 16) {
      const cv::Rect r(x, y, 64, 64);
      if (cv::countNonZero(mask(r)) != 64 * 64) continue;
      const int n = cv::countNonZero(ink(r));
      if (n > 0) inked.emplace_back(n, r);
      if (y > lowest_ink_row + 16) bare.push_back(r);
    }
  }
  std::sort(inked.begin(), inked.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  ASSERT_GE(inked.size(), 3u);
  ASSERT_GE(bare.size(), 3u);
  const auto score = [&](const cv::Rect& r) {
    const std::string crop = std::to_string(r.x) + "," + std::to_string(r.y) + "," +
                             std::to_string(r.x + 64) + "," + std::to_string(r.y + 64);
    return test::json_of(run_inkgen({"score", "--segment", seg.string(), "--crop", crop, "--json"}))
        .at("logit")
        .get<double>();
  };
  double lowest_inked = 1e9, highest_bare = -1e9;
  for (int i = 0; i < 3; ++i) {
    lowest_inked = std::min(lowest_inked, score(inked[i].second));
    highest_bare = std::max(highest_bare, score(bare[i * (bare.size() - 1) / 2]));
  }
  EXPECT_GT(lowest_inked, highest_bare + 1.0);
}

}  // namespace
}  // namespace inkgen
