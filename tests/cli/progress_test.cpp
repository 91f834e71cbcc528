// What maximize/minimize print while they run (stderr), beside the run's files.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using test::run_inkgen;
using test::test_model;

class CliProgress : public ::testing::Test {
 protected:
  void SetUp() override {
    test::make_segment(tmp_ / "seg", test::random_volume(8, 40, 36, 5, 10000, 40000));
  }
  std::vector<std::string> args(std::vector<std::string> more) {
    std::vector<std::string> a{"maximize",
                               "--from",
                               "segment",
                               "--segment",
                               (tmp_ / "seg").string(),
                               "--crop",
                               "0,0,16,16",
                               "--crop",
                               "16,16,32,32",
                               "--z0",
                               "1",
                               "--steps",
                               "4",
                               "--report-every",
                               "2",
                               "--stop-at",
                               "off",
                               "--model",
                               test_model("tiny-map.pt").string(),
                               "--out",
                               (tmp_ / "run").string(),
                               "--force"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  test::TempDir tmp_;
};

TEST_F(CliProgress, EachBatchOfStartsIsNamedOnItsLines) {
  // Not on a terminal: a line per report.
  const auto r = run_inkgen(args({"--batch", "1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("start 0 of 2: step 2/4"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("start 1 of 2: step 4/4"), std::string::npos) << r.err;
  // Both starts in one batch: the line is of both, as before.
  const auto together = run_inkgen(args({"--batch", "2"}));
  ASSERT_EQ(together.exit_code, 0) << together.err;
  EXPECT_EQ(together.err.find(" of 2: step"), std::string::npos) << together.err;
  EXPECT_NE(together.err.find("step 4/4"), std::string::npos) << together.err;
}

TEST_F(CliProgress, ShiftedRunsSayWhichVolumeTheirScoresAreOf) {
  const auto r = run_inkgen(args({"--jitter", "1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Among the run's other information, on stdout (--json keeps stdout to the JSON).
  EXPECT_NE(r.out.find("progress scores are of the volume as the model saw it"), std::string::npos)
      << r.out;
  const auto plain = run_inkgen(args({}));
  EXPECT_EQ(plain.out.find("as the model saw it"), std::string::npos) << plain.out;
  // --quiet keeps it quiet.
  const auto quiet = run_inkgen(args({"--jitter", "1", "--quiet"}));
  EXPECT_EQ(quiet.out + quiet.err, "");
}

}  // namespace
}  // namespace inkgen
