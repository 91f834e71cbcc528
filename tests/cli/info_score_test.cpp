#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "inkgen/io/segment.hpp"
#include "inkgen/model/ink_model.hpp"
#include "inkgen/model/ink_score.hpp"
#include "inkgen/optimize/volume_tensor.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::run_inkgen;
using test::test_model;
namespace fs = std::filesystem;

TEST(CliInfo, ShowsCardParametersAndOutputShape) {
  const auto j =
      test::json_of(run_inkgen({"info", "--model", test_model("tiny-map.pt").string(), "--json"}));
  EXPECT_EQ(j["name"], "tiny-map");
  EXPECT_EQ(j["output_shape"], nlohmann::json({1, 4, 4}));
  EXPECT_EQ(j["input_shape"], nlohmann::json({1, 1, 6, 16, 16}));
  EXPECT_EQ(j["scale"], "min(raw16>>8,200)/255");
  EXPECT_EQ(j["parameters"], 297);
  EXPECT_EQ(j["device"], "cpu");
  EXPECT_EQ(j["card"]["name"], "tiny-map");

  const auto human = run_inkgen({"info", "--model", test_model("tiny-map.pt").string()});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find("parameters  297"), std::string::npos) << human.out;
}

// A user comparing timings must be able to see which gradient path the model got.
TEST(CliInfo, SaysWhichOperationsRunOnInkgensOwnKernels) {
  const auto j = test::json_of(run_inkgen({"info", "--json"}));  // the bundled model
  EXPECT_EQ(j["frozen"], true);
  EXPECT_EQ(j["single_channel_convolutions"], 1);  // its stem reads the one-channel volume
  EXPECT_EQ(j["window_max_pools"], 0);
  const auto human = run_inkgen({"info"});
  EXPECT_NE(human.out.find("runtime     frozen; inkgen's own kernels for 1 one-channel "
                           "convolution (input gradient)\n"),
            std::string::npos)
      << human.out;
  const auto plain = run_inkgen({"info", "--kernels", "libtorch"});
  EXPECT_NE(plain.out.find("runtime     frozen: LibTorch runs every operation"), std::string::npos)
      << plain.out << plain.err;
  const auto unfrozen = run_inkgen({"info", "--no-freeze"});
  EXPECT_NE(unfrozen.out.find("runtime     unfrozen: LibTorch runs every operation"),
            std::string::npos)
      << unfrozen.out << unfrozen.err;
}

TEST(CliInfo, ModelWithoutCardFromTheCommandLine) {
  const auto j =
      test::json_of(run_inkgen({"info", "--model", test_model("tiny-nocard.pt").string(),
                                "--input-shape", "1,4,12,12", "--scale", "raw16/65535", "--json"}));
  EXPECT_EQ(j["card_origin"], "command line");
  EXPECT_EQ(j["output_kind"], "logits");
}

TEST(CliScore, EqualsTheLibraryOnASyntheticSegment) {
  test::TempDir tmp;
  const RawVolume full = test::random_volume(10, 30, 40, 11);
  test::make_segment(tmp / "seg", full);
  const auto j =
      test::json_of(run_inkgen({"score", "--model", test_model("tiny-map.pt").string(), "--segment",
                                (tmp / "seg").string(), "--crop", "5,7,21,23", "--json"}));
  EXPECT_EQ(j["z0"], 2);  // from the card
  EXPECT_EQ(j["crop"], nlohmann::json({5, 7, 21, 23}));

  const InkModel model = load_ink_model(test_model("tiny-map.pt"), {});
  const auto raw = read_crop(open_segment(tmp / "seg"), Crop{5, 7, 21, 23}, 2, 6);
  c10::NoGradGuard no_grad;
  const auto expected =
      ink_scores(forward(model, to_model_scale(raw, model.card.scale).unsqueeze(0)),
                 OutputKind::logits)
          .front();
  EXPECT_NEAR(j["logit"].get<double>(), expected.logit, 1e-6);
  EXPECT_NEAR(j["probability"].get<double>(), expected.probability, 1e-6);
}

// The real model and the real scroll chunk in ../shared, against numbers computed by plain
// PyTorch with tests/reference/score_reference.py (its docstring has the command).
struct RealCase {
  const char* model;
  const char* crop;
  const char* z0;
  double logit;
  double probability;
};

TEST(CliScoreReal, MatchesPyTorchOnTheSharedScrollChunk) {
  const auto shared = test::shared_dir();
  if (!shared) GTEST_SKIP() << "../shared is not present";
  const RealCase cases[] = {
      {"keras-patch-x65m25.pt", "0,0,65,65", "29", -11.381543159484863, 1.1403906755087178e-05},
      {"keras-patch-x65m25.pt", "100,120,165,185", "29", -12.071893692016602,
       5.717954565390735e-06},
      {"keras-patch-x65m25.pt", "191,191,256,256", "20", 0.9962839484214783, 0.7303273315191252},
      {"keras-patch-x65m20.pt", "0,0,65,65", "29", -8.770059585571289, 0.0001552902070865008},
      {"keras-patch-x65m20.pt", "100,120,165,185", "29", -19.124807357788086,
       4.945403079115723e-09},
      {"keras-patch-x65m20.pt", "191,191,256,256", "20", -5.099096775054932, 0.006065244115752416},
  };
  for (const auto& c : cases) {
    const auto j =
        test::json_of(run_inkgen({"score", "--model", (*shared / "models" / c.model).string(),
                                  "--segment", (*shared / "data" / "scroll-chunk").string(),
                                  "--crop", c.crop, "--z0", c.z0, "--json", "--device", "cpu"}));
    EXPECT_NEAR(j["logit"].get<double>(), c.logit, 1e-4) << c.model << " " << c.crop;
    // Relative: four of these crops score below 1.6e-4, where an absolute 1e-4 said nothing.
    EXPECT_NEAR(j["probability"].get<double>(), c.probability, 1e-3 * c.probability)
        << c.model << " " << c.crop;
  }
}

TEST(CliScoreReal, CentredWindowIsTheAuthorsLayers) {
  const auto shared = test::shared_dir();
  if (!shared) GTEST_SKIP() << "../shared is not present";
  const auto j = test::json_of(run_inkgen(
      {"score", "--model", (*shared / "models" / "keras-patch-x65m25.pt").string(), "--segment",
       (*shared / "data" / "scroll-chunk").string(), "--crop", "0,0,65,65", "--json"}));
  EXPECT_EQ(j["z0"], 29);
  EXPECT_NEAR(j["logit"].get<double>(), -11.381543159484863, 1e-4);
}

TEST(CliInfoReal, BothSharedModels) {
  const auto shared = test::shared_dir();
  if (!shared) GTEST_SKIP() << "../shared is not present";
  for (const char* name : {"keras-patch-x65m25.pt", "keras-patch-x65m20.pt"}) {
    const auto j = test::json_of(
        run_inkgen({"info", "--model", (*shared / "models" / name).string(), "--json"}));
    EXPECT_EQ(j["input_shape"], nlohmann::json({1, 1, 8, 65, 65}));
    EXPECT_EQ(j["output_shape"], nlohmann::json({1}));
    EXPECT_EQ(j["scale"], "raw16/65535");
    EXPECT_EQ(j["parameters"], 229345);  // 32*27+32 + 32*32*27+32 + 6272*32+32 + 33
  }
}

}  // namespace
}  // namespace inkgen
