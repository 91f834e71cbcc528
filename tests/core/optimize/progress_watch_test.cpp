// What the progress line notes beside its numbers (ProgressWatch), on made-up reports.
#include "inkgen/optimize/progress_watch.hpp"

#include <gtest/gtest.h>

namespace inkgen {
namespace {

StepReport at(int step, double logit, double p, std::size_t first = 0) {
  StepReport r{step, 200, 1.0, {{logit, p}}};
  r.first_start = first;
  r.total_starts = first > 0 ? 4 : 0;
  return r;
}

TEST(ProgressWatch, SaysOnceThatPSaturatedAndWhatWouldHaveStoppedIt) {
  ProgressWatch watch(Direction::maximize, false);
  EXPECT_TRUE(watch.notes(at(10, 5.0, 0.99)).empty());
  const auto notes = watch.notes(at(20, 11.0, 0.99995));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("from step 20"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("--stop-at 0.9"), std::string::npos) << notes[0];
  EXPECT_TRUE(watch.notes(at(30, 40.0, 1.0)).empty());  // once

  ProgressWatch down(Direction::minimize, false);
  const auto low = down.notes(at(10, -12.0, 0.00005));
  ASSERT_EQ(low.size(), 1u);
  EXPECT_NE(low[0].find("--stop-at 0.1"), std::string::npos) << low[0];

  // A run that stops at its target cannot saturate unnoticed: nothing to say.
  ProgressWatch stopping(Direction::maximize, true);
  EXPECT_TRUE(stopping.notes(at(10, 12.0, 0.99999)).empty());
}

TEST(ProgressWatch, SaysWhenPFallsWhileTheLogitRises) {
  ProgressWatch watch(Direction::maximize, true);
  EXPECT_TRUE(watch.notes(at(10, 0.5, 0.60)).empty());
  EXPECT_TRUE(watch.notes(at(20, 1.0, 0.70)).empty());
  EXPECT_TRUE(watch.notes(at(30, 1.5, 0.69)).empty());  // within 0.02 of the best
  // Both falling: the run lost ground, nothing moves apart.
  EXPECT_TRUE(watch.notes(at(40, 1.2, 0.60)).empty());
  const auto notes = watch.notes(at(50, 2.0, 0.62));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("from 0.7000 at step 20 to 0.6200"), std::string::npos) << notes[0];
  EXPECT_TRUE(watch.notes(at(60, 3.0, 0.5)).empty());  // once
}

TEST(ProgressWatch, MinimizeMovesApartTheOtherWayAndEachBatchStartsOver) {
  ProgressWatch watch(Direction::minimize, true);
  EXPECT_TRUE(watch.notes(at(10, -1.0, 0.2)).empty());
  // The next batch of starts begins at step 1 with a higher p: not a move back.
  EXPECT_TRUE(watch.notes(at(1, -0.5, 0.4, 2)).empty());
  EXPECT_TRUE(watch.notes(at(10, -0.8, 0.3, 2)).empty());
  const auto notes = watch.notes(at(20, -1.2, 0.35, 2));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("from 0.3000 at step 10"), std::string::npos) << notes[0];
}

}  // namespace
}  // namespace inkgen
