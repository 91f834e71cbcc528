#include "inkgen/optimize/start_volume.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "inkgen/card/model_card.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/model/ink_model.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

TEST(StartVolume, NoiseStartDependsOnSeedAndIndexAlone) {
  const InkModel m = load_ink_model(test::test_model("tiny-map.pt"), {});
  const auto one = noise_starts(m.card, 1, {}, 5);
  const auto four = noise_starts(m.card, 4, {}, 5);
  ASSERT_EQ(four.size(), 4u);
  EXPECT_TRUE(at::equal(one[0].values, four[0].values));
  EXPECT_FALSE(at::equal(four[0].values, four[1].values));
  EXPECT_EQ(four[2].values.sizes().vec(), (std::vector<int64_t>{1, 6, 16, 16}));
  // The default range is the card's valid range.
  EXPECT_LE(four[3].values.max().item<double>(), 200.0 / 255.0 + 1e-6);
  EXPECT_EQ(four[1].source["kind"], "noise");
}

TEST(StartVolume, SheetNoiseIsTheCardsProfilePlusSmallNoise) {
  ModelCard card = parse_model_card_text(
      R"({"name":"x","output":{"kind":"logits"},"input":{"shape":[1,4,16,16],)"
      R"("scale":"min(raw16>>8,200)/255","profile":[0.1,0.3,0.5,0.2]}})",
      "test");
  NoiseSpec sheet;
  sheet.kind = NoiseKind::sheet;
  const auto s = noise_start(card, sheet, 3, 0).values;
  for (int z = 0; z < 4; ++z) {
    const auto layer = s[0][z];
    EXPECT_NEAR(layer.mean().item<double>(), card.profile[z], 0.01) << z;
    EXPECT_LE((layer - card.profile[z]).abs().max().item<double>(), 0.05 + 1e-6) << z;
    EXPECT_GT(layer.std().item<double>(), 0.01) << z;  // noise, not a flat layer
  }
  NoiseSpec automatic;
  automatic.kind = NoiseKind::auto_;
  EXPECT_TRUE(at::equal(noise_start(card, automatic, 3, 0).values, s));
  EXPECT_EQ(noise_start(card, automatic, 3, 0).source["noise"], "sheet");
  // With the card's spreads per layer, the noise is quiet: uniform within +- the smallest
  // spread above 0, in every layer alike (each layer's own spread read as ink; samples/README.md).
  card.profile_sd = {0.0, 0.02, 0.08, 0.04};
  const auto quiet = noise_start(card, sheet, 3, 0).values;
  for (int z = 0; z < 4; ++z) {
    const auto offsets = quiet[0][z] - card.profile[z];
    EXPECT_LE(offsets.abs().max().item<double>(), 0.02 + 1e-6) << z;
    EXPECT_GT(offsets.abs().max().item<double>(), 0.015) << z;  // the whole width is used
  }
  EXPECT_EQ(noise_start(card, sheet, 3, 0).source["range"], nlohmann::json({-0.02, 0.02}));
  card.profile.clear();  // no profile: auto is uniform noise, and sheet is refused
  card.profile_sd.clear();
  EXPECT_EQ(noise_start(card, automatic, 3, 0).source["noise"], "uniform");
  EXPECT_THROW(noise_start(card, sheet, 3, 0), Error);
}

TEST(StartVolume, NoiseRangeMustLieInsideTheValidRange) {
  const InkModel m = load_ink_model(test::test_model("tiny-scalar.pt"), {});
  NoiseSpec spec;
  spec.range = std::array<double, 2>{0.2, 0.4};
  const auto s = noise_starts(m.card, 1, spec, 1);
  EXPECT_GE(s[0].values.min().item<double>(), 0.2 - 1e-6);
  EXPECT_LE(s[0].values.max().item<double>(), 0.4 + 1e-6);
  spec.range = std::array<double, 2>{0.5, 1.5};
  EXPECT_THROW(noise_starts(m.card, 1, spec, 1), Error);
}

TEST(StartVolume, SegmentStartIsTheCropOnTheModelsScale) {
  test::TempDir tmp;
  const RawVolume raw = test::random_volume(9, 20, 20, 4);
  test::make_segment(tmp / "seg", raw);
  const InkModel m = load_ink_model(test::test_model("tiny-map.pt"), {});
  const auto s = segment_start(m.card, open_segment(tmp / "seg"), Crop{2, 3, 18, 19}, 1);
  EXPECT_EQ(s.values.sizes().vec(), (std::vector<int64_t>{1, 6, 16, 16}));
  const float expected = m.card.scale.to_model(raw.at(1 + 2, 3 + 4, 2 + 5));
  EXPECT_FLOAT_EQ(s.values[0][2][4][5].item<float>(), expected);
  EXPECT_EQ(s.source["crop"], nlohmann::json({2, 3, 18, 19}));
  EXPECT_EQ(s.source["z0"], 1);
}

TEST(StartVolume, CropOfTheWrongSizeForTheModel) {
  test::TempDir tmp;
  test::make_segment(tmp / "seg", test::random_volume(9, 20, 20, 4));
  const InkModel m = load_ink_model(test::test_model("tiny-map.pt"), {});
  try {
    segment_start(m.card, open_segment(tmp / "seg"), Crop{0, 0, 17, 16}, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::input);
    EXPECT_NE(std::string(e.what()).find("takes 16x16"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace inkgen
