#include "inkgen/optimize/objective.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

// Two samples of three cells: one cell far past "ink", two undecided.
at::Tensor two_samples() {
  return at::tensor({20.0f, 0.0f, -1.0f, 0.0f, 0.0f, 0.0f}).reshape({2, 3}).requires_grad_(true);
}

TEST(Objective, LogitLossIsTheSignedMeanLogit) {
  const auto cells = two_samples();
  const auto up = sample_loss(cells, Objective::logit, Direction::maximize);
  EXPECT_NEAR(up[0].item<double>(), -19.0 / 3, 1e-5);
  const auto down = sample_loss(cells, Objective::logit, Direction::minimize);
  EXPECT_NEAR(down[0].item<double>(), 19.0 / 3, 1e-5);
  up.sum().backward();
  // Every cell pulls alike, however sure it already is.
  EXPECT_TRUE(at::allclose(cells.grad(), at::full({2, 3}, -1.0 / 3)));
}

TEST(Objective, BceIsTheCrossEntropyAgainstTheWantedLabel) {
  const auto cells = two_samples();
  const auto softplus = [](double x) { return std::log1p(std::exp(x)); };
  const auto up = sample_loss(cells, Objective::bce, Direction::maximize);
  EXPECT_NEAR(up[0].item<double>(), (softplus(-20) + softplus(0) + softplus(1)) / 3, 1e-5);
  EXPECT_NEAR(up[1].item<double>(), std::log(2.0), 1e-5);
  const auto down = sample_loss(cells, Objective::bce, Direction::minimize);
  EXPECT_NEAR(down[0].item<double>(), (softplus(20) + softplus(0) + softplus(-1)) / 3, 1e-4);
}

TEST(Objective, BceLeavesCellsThatAgreeAlone) {
  const auto cells = two_samples();
  sample_loss(cells, Objective::bce, Direction::maximize).sum().backward();
  const auto g = cells.grad();
  // d/dl of -log sigmoid(l) is -sigmoid(-l): nothing for the sure cell, most for the one at -1.
  EXPECT_LT(std::abs(g[0][0].item<double>()), 1e-8);
  EXPECT_NEAR(g[0][1].item<double>(), -0.5 / 3, 1e-6);
  EXPECT_NEAR(g[0][2].item<double>(), -1.0 / (1.0 + std::exp(-1.0)) / 3, 1e-6);
}

TEST(Objective, NamesRoundTripAndUnknownOnesAreUsageErrors) {
  for (const auto o : {Objective::logit, Objective::bce})
    EXPECT_EQ(parse_objective(to_string(o)), o);
  try {
    parse_objective("probability");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("use logit or bce"), std::string::npos);
  }
}

}  // namespace
}  // namespace inkgen
