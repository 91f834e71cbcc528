#include "inkgen/card/model_card.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

// The card embedded in ../shared/models/keras-patch-x65m25.pt, verbatim.
const char* const published_card = R"card({
  "name": "model_X65M_25",
  "architecture": "3D CNN patch classifier: Conv3D(32)-MaxPool-Conv3D(32)-MaxPool-Dense(32)-Dense(1)",
  "input": {"shape": [1, 8, 65, 65], "layout": "N,C,D,H,W", "dtype": "float32",
            "scale": "raw uint16 surface-layer value / 65535", "range": [0.0, 1.0]},
  "output": {"shape": [1], "kind": "logits", "meaning": "ink logit of the centre pixel"},
  "source": "OliverDaubney/segment_ink_detection (Keras 2.13.1), ported to PyTorch"
})card";

std::string card_error_of(const std::string& text) {
  try {
    parse_model_card_text(text, "test.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::model);
    return e.what();
  }
  ADD_FAILURE() << "card accepted: " << text;
  return "";
}

TEST(ModelCard, ReadsThePublishedCardAsItIs) {
  const ModelCard card = parse_model_card_text(published_card, "test");
  EXPECT_EQ(card.name, "model_X65M_25");
  EXPECT_EQ(card.input_shape, (std::array<std::int64_t, 4>{1, 8, 65, 65}));
  EXPECT_EQ(card.scale.text(), "raw16/65535");
  EXPECT_DOUBLE_EQ(card.range_lo, 0.0);
  EXPECT_DOUBLE_EQ(card.range_hi, 1.0);
  EXPECT_EQ(card.output_kind, OutputKind::logits);
  EXPECT_EQ(card.output_meaning, "ink logit of the centre pixel");
  EXPECT_FALSE(card.z0.has_value());
  // Without z0 the window is centred: layers 29..36 of 65, the layers the model's authors used.
  EXPECT_EQ(card.default_z0(65), 29);
  EXPECT_EQ(card.json["source"],
            "OliverDaubney/segment_ink_detection (Keras 2.13.1), ported to PyTorch");
}

TEST(ModelCard, ReadsInkgenExtensions) {
  const ModelCard card = parse_model_card_text(
      R"({"name":"gp","input":{"shape":[1,30,64,64],"scale":"min(raw16>>8,200)/255","z0":15},
          "output":{"kind":"probability"}})",
      "test");
  EXPECT_EQ(card.z0, 15);
  EXPECT_EQ(card.default_z0(65), 15);
  EXPECT_EQ(card.output_kind, OutputKind::probability);
  // No range: the scale's own range, 0 .. 200/255.
  EXPECT_DOUBLE_EQ(card.range_hi, 200.0 / 255.0);
}

TEST(ModelCard, ReadsTheDepthProfileAndRefusesOneThatDoesNotFit) {
  const std::string head = R"({"name":"x","output":{"kind":"logits"},"input":{"shape":[1,3,8,8],)"
                           R"("scale":"raw16/65535",)";
  const ModelCard card = parse_model_card_text(head + R"("profile":[0.1,0.5,0.2]}})", "test");
  EXPECT_EQ(card.profile, (std::vector<double>{0.1, 0.5, 0.2}));
  EXPECT_TRUE(parse_model_card_text(head + R"("range":[0,1]}})", "t").profile.empty());
  EXPECT_NE(card_error_of(head + R"("profile":[0.1,0.5]}})").find("input.profile"),
            std::string::npos);
  EXPECT_NE(card_error_of(head + R"("profile":[0.1,0.5,2.0]}})").find("input.profile"),
            std::string::npos);
  const ModelCard spread =
      parse_model_card_text(head + R"("profile":[0.1,0.5,0.2],"profile_sd":[0,0.1,0.05]}})", "t");
  EXPECT_EQ(spread.profile_sd, (std::vector<double>{0, 0.1, 0.05}));
  EXPECT_NE(card_error_of(head + R"("profile_sd":[0,0.1,0.05]}})").find("needs"),
            std::string::npos);
  EXPECT_NE(card_error_of(head + R"("profile":[0.1,0.5,0.2],"profile_sd":[0,-1,0]}})")
                .find("input.profile_sd"),
            std::string::npos);
}

TEST(ModelCard, NamesTheMissingKey) {
  EXPECT_NE(
      card_error_of(
          R"({"input":{"shape":[1,8,65,65],"scale":"raw16/65535"},"output":{"kind":"logits"}})")
          .find("missing key 'name'"),
      std::string::npos);
  EXPECT_NE(
      card_error_of(R"({"name":"x","input":{"scale":"raw16/65535"},"output":{"kind":"logits"}})")
          .find("missing key 'input.shape'"),
      std::string::npos);
  EXPECT_NE(
      card_error_of(R"({"name":"x","input":{"shape":[1,8,65,65]},"output":{"kind":"logits"}})")
          .find("missing key 'input.scale'"),
      std::string::npos);
  EXPECT_NE(card_error_of(
                R"({"name":"x","input":{"shape":[1,8,65,65],"scale":"raw16/65535"},"output":{}})")
                .find("missing key 'output.kind'"),
            std::string::npos);
}

TEST(ModelCard, RejectsMalformedJsonAndValues) {
  EXPECT_NE(card_error_of(R"({"name": "x", )").find("not valid JSON"), std::string::npos);
  EXPECT_NE(card_error_of(R"([1,2])").find("not a JSON object"), std::string::npos);
  const std::string base = R"({"name":"x","output":{"kind":"logits"},"input":)";
  EXPECT_NE(
      card_error_of(base + R"({"shape":[8,65,65],"scale":"raw16/65535"}})").find("4 integers"),
      std::string::npos);
  EXPECT_NE(card_error_of(base + R"({"shape":[1,8,65,0],"scale":"raw16/65535"}})").find("1..65536"),
            std::string::npos);
  EXPECT_NE(card_error_of(base + R"({"shape":[1,8,65,65],"scale":"raw16*3"}})").find("input.scale"),
            std::string::npos);
  EXPECT_NE(card_error_of(base + R"({"shape":[1,8,65,65],"scale":"raw16/65535","range":[1,0]}})")
                .find("input.range"),
            std::string::npos);
  EXPECT_NE(
      card_error_of(base + R"({"shape":[1,8,65,65],"scale":"raw16/65535","layout":"N,D,H,W,C"}})")
          .find("layout"),
      std::string::npos);
  EXPECT_NE(
      card_error_of(
          R"({"name":"x","input":{"shape":[1,8,65,65],"scale":"raw16/65535"},"output":{"kind":"ink"}})")
          .find("output.kind"),
      std::string::npos);
}

TEST(ModelCard, CommandLineStandsInForAMissingCard) {
  CardOverrides o;
  EXPECT_FALSE(o.can_stand_alone());
  o.input_shape = std::array<std::int64_t, 4>{1, 4, 12, 12};
  o.scale = "raw16/65535";
  ASSERT_TRUE(o.can_stand_alone());
  const ModelCard card = card_from_overrides("m", o);
  EXPECT_EQ(card.name, "m");
  EXPECT_EQ(card.depth(), 4);
  EXPECT_EQ(card.output_kind, OutputKind::logits);
}

TEST(ModelCard, CommandLineOverridesTheCard) {
  CardOverrides o;
  o.input_shape = std::array<std::int64_t, 4>{1, 8, 32, 32};
  o.z0 = 3;
  const ModelCard card = apply_overrides(parse_model_card_text(published_card, "test"), o);
  EXPECT_EQ(card.height(), 32);
  EXPECT_EQ(card.z0, 3);
  EXPECT_EQ(card.name, "model_X65M_25");
}

TEST(ModelCard, ParsesInputShapes) {
  EXPECT_EQ(parse_input_shape("1,30,64,64"), (std::array<std::int64_t, 4>{1, 30, 64, 64}));
  for (const char* bad : {"1,30,64", "1,30,64,64,1", "1,x,64,64", "1,0,64,64", ""}) {
    EXPECT_THROW(parse_input_shape(bad), Error) << bad;
  }
}

}  // namespace
}  // namespace inkgen

namespace inkgen {
namespace {

// Values that used to wrap, overflow or escape as "a bug in inkgen" are card errors (exit 4)
// that name the field.
TEST(ModelCard, RefusesValuesThatWouldWrapOrOverflow) {
  const auto error_of = [](const std::string& input) {
    try {
      parse_model_card_text(R"({"name":"x","output":{"kind":"logits"},"input":)" + input + "}",
                            "c.json");
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::model) << e.what();
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const std::string shape = R"("shape":[1,4,12,12],)";
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"shape":[1,4,3037000500,3037000500],"scale":"raw16/65535"})", "input.shape"},
      {R"({"shape":[1,4,12,99999999999999999999],"scale":"raw16/65535"})", "input.shape"},
      {R"({"shape":[1,4,60000,60000],"scale":"raw16/65535"})", "values per sample"},
      {"{" + shape + R"("scale":"raw16/65535","z0":99999999999})", "input.z0"},
      {"{" + shape + R"("scale":"raw16/65535","z0":-1})", "input.z0"},
      {"{" + shape + R"("scale":"raw16/65535","range":[0,1e999]})", "not valid JSON"},
      {"{" + shape + R"("scale":"raw16/65535","range":[-1e300,1e300]})", "input.range"},
      {"{" + shape + R"("scale":{"shift":8,"clip":-5,"divisor":255}})", "input.scale.clip"},
      {"{" + shape + R"("scale":{"shift":8,"clip":99999999999,"divisor":255}})",
       "input.scale.clip"},
      {"{" + shape + R"("scale":{"shift":8,"clip":256,"divisor":255}})", "the clip C is 256"},
      {"{" + shape + R"("scale":{"shift":99,"divisor":255}})", "input.scale.shift"},
      {"{" + shape + R"("scale":{"shift":8,"divisor":"x"}})", "input.scale.divisor"},
      {"{" + shape + R"("scale":"min(raw16>>99999999999,3)/255"})", "the shift S"},
      {"{" + shape + R"("scale":"min(raw16>>8,99999999999)/255"})", "the clip C"},
      {"{" + shape + R"("scale":"raw16/99999999999999999999"})", "the divisor D"},
      {"{" + shape + R"("scale":")" + std::string(100000, 'r') + R"("})", "unknown value scale"},
  };
  for (const auto& [input, expected] : cases) {
    const std::string m = error_of(input);
    EXPECT_NE(m.find(expected), std::string::npos) << input.substr(0, 80) << " -> " << m;
    EXPECT_LT(m.size(), 400u) << "the message quotes only an excerpt: " << m.substr(0, 100);
  }
  // Deep nesting is refused before parsing (it overflowed the stack in dump()).
  EXPECT_NE(error_of(std::string(100000, '[') + std::string(100000, ']')).find("levels deep"),
            std::string::npos);
  // Still accepted: the Grand Prize rule as an object, and the largest clip its shift allows.
  EXPECT_EQ(error_of("{" + shape + R"("scale":{"shift":8,"clip":255,"divisor":255}})"), "accepted");
}

}  // namespace
}  // namespace inkgen
