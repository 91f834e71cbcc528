#include "inkgen/model/ink_model.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>

#include "inkgen/common/error.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::test_model;
namespace fs = std::filesystem;

std::string model_error(const fs::path& path, const LoadOptions& options = {}) {
  try {
    load_ink_model(path, options);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::model) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "loaded " << path;
  return "";
}

TEST(InkModel, LoadsAMapModelWithItsEmbeddedCard) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  EXPECT_EQ(m.card.name, "tiny-map");
  EXPECT_EQ(m.card_origin, "embedded inkgen.json");
  EXPECT_EQ(m.batch_shape(2), (std::vector<std::int64_t>{2, 1, 6, 16, 16}));
  EXPECT_EQ(m.output_shape, (std::vector<std::int64_t>{1, 4, 4}));
  EXPECT_EQ(m.card.z0, 2);
  // conv3d 1->4 k3 (108+4), two conv2d (4*4*9+4, 4*9+1)
  EXPECT_EQ(m.parameter_count, 112 + 148 + 37);
}

// Unfrozen, so that the module still has parameters to look at (a frozen module folds them into
// constants and has none, which made the loop below check nothing). Catches a loader that
// forgets requires_grad_(false): every step would then also build the weights' gradients.
TEST(InkModel, FreezesTheWeights) {
  LoadOptions unfrozen;
  unfrozen.freeze = Freeze::no;
  const InkModel m = load_ink_model(test_model("tiny-scalar.pt"), unfrozen);
  std::size_t parameters = 0;
  for (const auto& p : m.module.parameters()) {
    EXPECT_FALSE(p.requires_grad());
    ++parameters;
  }
  EXPECT_GT(parameters, 0u);
  EXPECT_GT(m.parameter_count, 0);
  EXPECT_EQ(m.output_shape, (std::vector<std::int64_t>{1}));
}

TEST(InkModel, ReadsASidecarCard) {
  const InkModel m = load_ink_model(test_model("tiny-sidecar.pt"), {});
  EXPECT_EQ(m.card.name, "tiny-sidecar");
  EXPECT_NE(m.card_origin.find("tiny-sidecar.json"), std::string::npos);
}

TEST(InkModel, WithoutACardNeedsShapeAndScale) {
  EXPECT_NE(model_error(test_model("tiny-nocard.pt")).find("--input-shape C,D,H,W and --scale"),
            std::string::npos);
  LoadOptions options;
  options.overrides.input_shape = std::array<std::int64_t, 4>{1, 4, 12, 12};
  options.overrides.scale = "raw16/65535";
  const InkModel m = load_ink_model(test_model("tiny-nocard.pt"), options);
  EXPECT_EQ(m.card.name, "tiny-nocard");
  EXPECT_EQ(m.card_origin, "command line");
}

TEST(InkModel, MissingFile) {
  EXPECT_NE(model_error("/nonexistent/model.pt").find("not found"), std::string::npos);
}

TEST(InkModel, NotTorchScript) {
  test::TempDir tmp;
  std::ofstream(tmp / "junk.pt") << "this is not a zip archive";
  EXPECT_NE(model_error(tmp / "junk.pt").find("is not a TorchScript model"), std::string::npos);
}

TEST(InkModel, ForwardFailsOnTheCardsShape) {
  const std::string message = model_error(test_model("tiny-badshape.pt"));
  EXPECT_NE(message.find("[1,1,5,20,20]"), std::string::npos) << message;
  EXPECT_NE(message.find("cannot be multiplied"), std::string::npos) << message;
}

TEST(InkModel, ReturnsSomethingThatIsNotATensor) {
  EXPECT_NE(model_error(test_model("tiny-tuple.pt")).find("not a tensor"), std::string::npos);
}

TEST(InkModel, MalformedEmbeddedCard) {
  EXPECT_NE(model_error(test_model("tiny-badcard.pt")).find("not valid JSON"), std::string::npos);
}

TEST(InkModel, SidecarMissingAKey) {
  test::TempDir tmp;
  fs::copy_file(test_model("tiny-nocard.pt"), tmp / "m.pt");
  std::ofstream(tmp / "m.json")
      << R"({"name": "m", "input": {"shape": [1, 4, 12, 12]}, "output": {"kind": "logits"}})";
  EXPECT_NE(model_error(tmp / "m.pt").find("missing key 'input.scale'"), std::string::npos);
}

TEST(InkModel, ForwardKeepsOneRowPerSample) {
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto out = forward(m, at::rand(m.batch_shape(3)));
  EXPECT_EQ(out.sizes().vec(), (std::vector<std::int64_t>{3, 1, 4, 4}));
}

TEST(InkModel, FrozenAndUnfrozenAgree) {
  LoadOptions unfrozen;
  unfrozen.freeze = Freeze::no;
  const InkModel a = load_ink_model(test_model("tiny-map.pt"), {});
  const InkModel b = load_ink_model(test_model("tiny-map.pt"), unfrozen);
  EXPECT_TRUE(a.frozen);
  EXPECT_FALSE(b.frozen);
  EXPECT_EQ(a.parameter_count, b.parameter_count);
  const auto x = at::rand(a.batch_shape(2)) * 0.7;
  EXPECT_TRUE(at::allclose(forward(a, x), forward(b, x), 1e-5, 1e-6));
}

TEST(InkModel, Bf16ArithmeticStaysCloseToFp32) {
  LoadOptions bf16;
  bf16.precision = Precision::bf16;
  const InkModel a = load_ink_model(test_model("tiny-map.pt"), {});
  const InkModel b = load_ink_model(test_model("tiny-map.pt"), bf16);
  EXPECT_EQ(b.precision, Precision::bf16);
  const auto x = at::rand(a.batch_shape(2)) * 0.7;
  const auto out = forward(b, x);
  EXPECT_EQ(out.scalar_type(), at::kFloat);  // scores are read in fp32 whatever the arithmetic
  // bf16 keeps 8 bits of mantissa: agreement to a few percent of the output's spread.
  EXPECT_LT((out - forward(a, x)).abs().max().item<double>(),
            0.05 * std::max(1.0, forward(a, x).abs().max().item<double>()));
}

TEST(InkModel, Fp16NeedsAGpu) {
  LoadOptions fp16;
  fp16.precision = Precision::fp16;
  try {
    load_ink_model(test_model("tiny-map.pt"), fp16);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("bf16 or fp32"), std::string::npos);
  }
  EXPECT_THROW(parse_precision("fp8"), Error);
}

TEST(InkModel, FindsTheBundledModelPath) {
  EXPECT_EQ(bundled_model_path().parent_path().filename(), "models");
  EXPECT_EQ(bundled_model_path().extension(), ".pt");
}

}  // namespace
}  // namespace inkgen
