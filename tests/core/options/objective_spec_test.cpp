// The objective grammar (objective_spec.hpp): LibTorch-free, so it also runs in the memory suite.
#include "inkgen/options/objective_spec.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

std::string usage_error(const std::string& text) {
  try {
    parse_objective_spec(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage) << text;
    return e.what();
  }
  ADD_FAILURE() << "'" << text << "' was taken";
  return "";
}

TEST(ObjectiveSpec, TodaysInkObjectivesStayWhatTheyWere) {
  for (const std::string text : {"logit", "bce"}) {
    const auto s = parse_objective_spec(text);
    EXPECT_EQ(s.text(), text);
    ASSERT_TRUE(s.plain_ink().has_value());
    EXPECT_EQ(to_string(*s.plain_ink()), text);
    EXPECT_FALSE(s.reads_layers());
  }
  EXPECT_EQ(parse_objective_spec("ink").text(), "logit");
  EXPECT_EQ(ObjectiveSpec{}.text(), "logit");
  EXPECT_EQ(ink_objective(Objective::bce).text(), "bce");
  // A weighted ink term is no longer the plain objective.
  EXPECT_FALSE(parse_objective_spec("2*logit").plain_ink().has_value());
}

TEST(ObjectiveSpec, ReadsEveryTermKindAndWeights) {
  const auto s = parse_objective_spec(
      "  channel:Mixed_4f:12 - 0.5 * logit + 2*neuron:down2:3:4,8,8 - direction:fuse:/a/b-c:d.npy "
      "+ neuron:pooled:1 ");
  ASSERT_EQ(s.terms.size(), 5u);
  EXPECT_EQ(s.terms[0].kind, TermKind::channel);
  EXPECT_EQ(s.terms[0].layer, "Mixed_4f");
  EXPECT_EQ(s.terms[0].channel, 12);
  EXPECT_DOUBLE_EQ(s.terms[0].weight, 1.0);
  EXPECT_EQ(s.terms[1].kind, TermKind::logit);
  EXPECT_DOUBLE_EQ(s.terms[1].weight, -0.5);
  EXPECT_EQ(s.terms[2].kind, TermKind::neuron);
  EXPECT_EQ(s.terms[2].position, (std::vector<std::int64_t>{4, 8, 8}));
  EXPECT_DOUBLE_EQ(s.terms[2].weight, 2.0);
  EXPECT_EQ(s.terms[3].kind, TermKind::direction);
  EXPECT_EQ(s.terms[3].file, "/a/b-c:d.npy");  // a path keeps its dashes and colons
  EXPECT_DOUBLE_EQ(s.terms[3].weight, -1.0);
  EXPECT_TRUE(s.terms[4].position.empty());  // the centre
  EXPECT_TRUE(s.reads_layers());
  const std::string canonical =
      "channel:Mixed_4f:12 - 0.5*logit + 2*neuron:down2:3:4,8,8 - direction:fuse:/a/b-c:d.npy + "
      "neuron:pooled:1";
  EXPECT_EQ(s.text(), canonical);
  EXPECT_EQ(parse_objective_spec(canonical).text(), canonical);
  EXPECT_EQ(parse_objective_spec("-channel:a:0").text(), "-channel:a:0");
}

TEST(ObjectiveSpec, AJsonListIsTheSameObjective) {
  const auto list =
      nlohmann::json::parse(R"([{"term": "channel:down2:3"}, {"term": "bce", "weight": -0.25}])");
  EXPECT_EQ(objective_text_of(list), "channel:down2:3 - 0.25*bce");
  EXPECT_EQ(objective_text_of("channel:down2:3 -0.25*bce"), "channel:down2:3 - 0.25*bce");
  for (const char* bad : {R"([])", R"([{"term": 3}])", R"([{"term": "bce", "w": 1}])",
                          R"([{"term": "bce + logit"}])", R"(7)"}) {
    try {
      objective_text_of(nlohmann::json::parse(bad));
      ADD_FAILURE() << bad << " was taken";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::usage) << bad;
    }
  }
}

TEST(ObjectiveSpec, BadTextsAreUsageErrorsThatShowTheGrammar) {
  EXPECT_NE(usage_error("").find("is empty"), std::string::npos);
  EXPECT_NE(usage_error("mean").find("'mean' is unknown"), std::string::npos);
  EXPECT_NE(usage_error("channel:down2").find("names no layer and channel"), std::string::npos);
  EXPECT_NE(usage_error("channel:down2:x").find("not a whole number"), std::string::npos);
  EXPECT_NE(usage_error("channel:down2:-1").find("not a whole number"), std::string::npos);
  EXPECT_NE(usage_error("neuron:a:1:2,x").find("coordinate"), std::string::npos);
  EXPECT_NE(usage_error("channel:a:1:2").find("too many parts"), std::string::npos);
  EXPECT_NE(usage_error("logit:a").find("takes no layer"), std::string::npos);
  EXPECT_NE(usage_error("logit -").find("ends with an operator"), std::string::npos);
  EXPECT_NE(usage_error("logit bce").find("where + or - should join"), std::string::npos);
  EXPECT_NE(usage_error("0.5 logit").find("not followed by *TERM"), std::string::npos);
  EXPECT_NE(usage_error("1e999*logit").find("not a finite number"), std::string::npos);
  EXPECT_NE(usage_error(std::string(5000, 'a')).find("characters long"), std::string::npos);
  std::string many = "logit";
  for (int i = 0; i < 70; ++i)
    many += " + logit";
  EXPECT_NE(usage_error(many).find("more than 64 terms"), std::string::npos);
  // Every message says how to write one.
  EXPECT_NE(usage_error("channel:a").find("channel:LAYER:K"), std::string::npos);
}

}  // namespace
}  // namespace inkgen
