#include "inkgen/evaluate/depth_check.hpp"

#include <gtest/gtest.h>

namespace inkgen {
namespace {

DepthCheck check_of(double as_stored, double reversed, std::vector<double> shuffled,
                    LayerOrder in_use = LayerOrder::as_stored) {
  DepthCheck c;
  c.in_use = in_use;
  c.as_stored.logit = as_stored;
  c.reversed.logit = reversed;
  for (double s : shuffled) {
    c.shuffled.push_back({s, 0.0});
    c.shuffle_seeds.push_back(c.shuffle_seeds.size());
  }
  return c;
}

bool says(const DepthCheck& c, const std::string& words) {
  return depth_check_verdict(c).find(words) != std::string::npos;
}

TEST(DepthCheckVerdict, NamesTheOrderToUse) {
  EXPECT_TRUE(says(check_of(2.0, -3.0, {-9, -8}), "order in use scores highest"));
  EXPECT_TRUE(says(check_of(-3.0, 2.0, {-9, -8}), "try --reverse-layers"));
  EXPECT_TRUE(says(check_of(2.0, -3.0, {-9, -8}, LayerOrder::reversed), "drop --reverse-layers"));
  EXPECT_TRUE(says(check_of(-3.0, 2.0, {-9, -8}, LayerOrder::reversed), "scores highest"));
}

TEST(DepthCheckVerdict, ShufflesThatScoreAlikeMeanTheOrderIsNotRead) {
  EXPECT_TRUE(says(check_of(-5.0, -5.2, {-5.3, -4.9}), "does not rest on depth structure"));
  // Reverse and real order alike, but both above every shuffle: the direction is undecided.
  EXPECT_TRUE(says(check_of(1.0, 0.8, {-6, -7}), "not told apart"));
}

TEST(DepthCheckVerdict, JsonHoldsEveryScoreAndItsSeed) {
  const nlohmann::json j = depth_check_json(check_of(1.0, -2.0, {-4, -5, -6}));
  EXPECT_EQ(j.at("in_use"), "as_stored");
  EXPECT_EQ(j.at("as_stored").at("logit"), 1.0);
  EXPECT_EQ(j.at("reversed").at("logit"), -2.0);
  ASSERT_EQ(j.at("shuffled").size(), 3u);
  EXPECT_EQ(j.at("shuffled")[2].at("seed"), 2);
  EXPECT_EQ(j.at("verdict"), depth_check_verdict(check_of(1.0, -2.0, {-4, -5, -6})));
}

}  // namespace
}  // namespace inkgen
