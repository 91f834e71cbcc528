#include "inkgen/optimize/change_sign.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace inkgen {
namespace {

std::vector<InkScore> trace_of(std::vector<double> probabilities) {
  std::vector<InkScore> t;
  for (const double p : probabilities)
    t.push_back({0.0, p});
  return t;
}

TEST(ChangeSign, AutoTakesTwoRowsAStartUpThenDown) {
  EXPECT_EQ(rows_per_start(ChangeSign::auto_), 2);
  EXPECT_EQ(rows_per_start(ChangeSign::up), 1);
  const auto s = row_signs(ChangeSign::auto_, 3, 5, at::TensorOptions(at::kFloat));
  EXPECT_EQ(s.sizes().vec(), (std::vector<int64_t>{6, 1, 1, 1, 1}));
  EXPECT_TRUE(at::equal(s.flatten(), at::tensor({1.f, 1.f, 1.f, -1.f, -1.f, -1.f})));
  EXPECT_TRUE(at::equal(row_signs(ChangeSign::both, 2, 2, at::kFloat).flatten(), at::zeros({2})));
  EXPECT_TRUE(
      at::equal(row_signs(ChangeSign::down, 2, 2, at::kFloat).flatten(), at::full({2}, -1.f)));
}

TEST(ChangeSign, AutoIsBothWaysOnPlainNoiseAndOneWayOnPapyrus) {
  const nlohmann::json crop{{"kind", "segment"}, {"crop", {0, 0, 64, 64}}};
  const nlohmann::json sheet{{"kind", "noise"}, {"noise", "sheet"}};
  const nlohmann::json uniform{{"kind", "noise"}, {"noise", "uniform"}};
  EXPECT_EQ(change_sign_for(ChangeSign::auto_, crop), ChangeSign::auto_);
  EXPECT_EQ(change_sign_for(ChangeSign::auto_, sheet), ChangeSign::auto_);
  EXPECT_EQ(change_sign_for(ChangeSign::auto_, uniform), ChangeSign::both);
  EXPECT_EQ(change_sign_for(ChangeSign::up, uniform), ChangeSign::up) << "asked for: kept";
}

TEST(ChangeSign, GradientAndVolumeKeepEachRowsSide) {
  const auto signs = at::tensor({1.f, -1.f, 0.f}).reshape({3, 1});
  const auto grad = at::tensor({-2.f, 3.f, -2.f, 3.f, -2.f, 3.f}).reshape({3, 2});
  // Descent moves by -grad: the up row keeps -2 (a rise), the down row keeps 3 (a fall).
  EXPECT_TRUE(at::equal(keep_descent_sign(grad, signs),
                        at::tensor({-2.f, 0.f, 0.f, 3.f, -2.f, 3.f}).reshape({3, 2})));
  const auto start = at::zeros({3, 2});
  const auto moved = at::tensor({1.f, -1.f, 1.f, -1.f, 1.f, -1.f}).reshape({3, 2});
  EXPECT_TRUE(at::equal(keep_change_sign(moved, start, signs),
                        at::tensor({1.f, 0.f, 0.f, -1.f, 1.f, -1.f}).reshape({3, 2})));
}

TEST(ChangeSign, EachStartKeepsTheWayThatGotThereFirstThenTheSmallerChange) {
  // Two starts, rows 0,1 up and 2,3 down; maximize to 0.9.
  const std::vector<std::vector<InkScore>> trace{
      trace_of({0.2, 0.95, 0.95}),  // start 0 up: reached at step 2
      trace_of({0.2, 0.95, 0.95}),  // start 1 up: reached at step 2
      trace_of({0.2, 0.5, 0.91}),   // start 0 down: step 3
      trace_of({0.2, 0.92, 0.92}),  // start 1 down: step 2 as well, with a smaller change
  };
  const std::vector<double> l1{5.0, 5.0, 1.0, 4.0};
  EXPECT_EQ(leading_rows(trace, l1, 2, true, 0.9), (std::vector<int64_t>{0, 3}));
  // Neither way reached: the one nearer the target (minimize: the lower probability).
  const std::vector<std::vector<InkScore>> stuck{trace_of({0.5, 0.4}), trace_of({0.5, 0.3})};
  EXPECT_EQ(leading_rows(stuck, {1.0, 9.0}, 1, false, 0.1), (std::vector<int64_t>{1}));
  // One row a start: itself.
  EXPECT_EQ(leading_rows(stuck, {1.0, 1.0}, 2, true, 0.9), (std::vector<int64_t>{0, 1}));
}

}  // namespace
}  // namespace inkgen
