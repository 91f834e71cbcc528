#include "inkgen/model/ink_score.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

namespace inkgen {
namespace {

TEST(InkScore, MeanLogitAndMeanProbabilityOfAMap) {
  const auto out =
      at::tensor({0.0f, 2.0f, -2.0f, 4.0f, 1.0f, 1.0f, 1.0f, 1.0f}).reshape({2, 1, 2, 2});
  const auto scores = ink_scores(out, OutputKind::logits);
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_NEAR(scores[0].logit, 1.0, 1e-6);
  const auto s = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  EXPECT_NEAR(scores[0].probability, (s(0) + s(2) + s(-2) + s(4)) / 4, 1e-6);
  EXPECT_NEAR(scores[1].logit, 1.0, 1e-6);
  EXPECT_NEAR(scores[1].probability, s(1), 1e-6);
}

TEST(InkScore, ProbabilityModelsGetTheirLogitBack) {
  const auto out = at::tensor({0.5f, 0.9f}).reshape({2, 1});
  const auto scores = ink_scores(out, OutputKind::probability);
  EXPECT_NEAR(scores[0].logit, 0.0, 1e-6);
  EXPECT_NEAR(scores[1].logit, std::log(0.9 / 0.1), 1e-5);
  EXPECT_NEAR(scores[1].probability, 0.9, 1e-6);
}

TEST(InkScore, SaturatedProbabilitiesStayFinite) {
  const auto scores = ink_scores(at::tensor({0.0f, 1.0f}).reshape({2, 1}), OutputKind::probability);
  EXPECT_TRUE(std::isfinite(scores[0].logit));
  EXPECT_LT(scores[0].logit, -15);
  EXPECT_GT(scores[1].logit, 15);
}

TEST(InkScore, CellLogitsAreDifferentiable) {
  auto out = at::zeros({2, 1, 4, 4}).requires_grad_(true);
  const auto cells = cell_logits(out, OutputKind::logits);
  EXPECT_EQ(cells.sizes().vec(), (std::vector<std::int64_t>{2, 16}));
  cells.sum().backward();
  EXPECT_TRUE(at::allclose(out.grad(), at::ones({2, 1, 4, 4})));
}

TEST(InkScore, ScoreRowsAreMeanLogitAndMeanProbability) {
  const auto rows = score_rows(at::tensor({0.0f, 2.0f, -2.0f, 4.0f}).reshape({1, 4}));
  ASSERT_EQ(rows.sizes().vec(), (std::vector<std::int64_t>{1, 2}));
  const auto s = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  EXPECT_NEAR(rows[0][0].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(rows[0][1].item<double>(), (s(0) + s(2) + s(-2) + s(4)) / 4, 1e-6);
}

}  // namespace
}  // namespace inkgen
