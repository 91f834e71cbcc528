// `inkgen fidelity` from the command line: the table, the JSON, and the refusals with exit code 3.
#include <gtest/gtest.h>

#include <algorithm>

#include "fidelity_fixture.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::run_inkgen;
namespace fs = std::filesystem;

class CliFidelity : public ::testing::Test {
 protected:
  void SetUp() override {
    segment_ = test::make_truth_segment(tmp_ / "seg");
    test::write_run(tmp_ / "runs" / "oracle", test::segment_run_record("minimize", segment_),
                    test::linear_ink_signal(segment_, -1));
    test::write_run(tmp_ / "runs" / "flipped", test::segment_run_record("maximize", segment_),
                    test::linear_ink_signal(segment_, -1));
  }
  void expect_input_error(const test::CommandResult& r, const std::string& needle) {
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(r.err.rfind("inkgen: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  test::TempDir tmp_;
  test::TruthSegment segment_;
  const std::string seg_ = (tmp_ / "seg").string();
};

TEST_F(CliFidelity, PrintsOneRowPerStartAndTheSummaries) {
  const auto r = run_inkgen({"fidelity", "--truth", seg_, (tmp_ / "runs").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("KAS_film"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find((tmp_ / "runs" / "oracle").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4,2,20,18"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0.5000 -> 0.8800"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("all (2 starts)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("minimize (1 starts)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("maximize (1 starts)"), std::string::npos) << r.out;
}

TEST_F(CliFidelity, JsonIsPureAndHasTheKnownAnswers) {
  const auto j =
      test::json_of(run_inkgen({"fidelity", "--truth", seg_, (tmp_ / "runs" / "oracle").string(),
                                (tmp_ / "runs" / "flipped").string(), "--json"}));
  ASSERT_EQ(j["runs"].size(), 2u);
  const auto& oracle = j["runs"][0];
  EXPECT_EQ(oracle["mode"], "minimize");
  EXPECT_EQ(oracle["crop"], nlohmann::json({4, 2, 20, 18}));
  EXPECT_EQ(oracle["layers"], nlohmann::json({2, 13}));
  EXPECT_GT(oracle["KAS_ink"].get<double>(), 0.9999);
  EXPECT_GT(oracle["F_band"].get<double>(), 0.95);
  const auto& flipped = j["runs"][1];
  EXPECT_LT(flipped["KAS_ink"].get<double>(), 0.0);
  EXPECT_EQ(flipped["KAS_film"].get<double>(), 0.0);
  EXPECT_EQ(j["summary"]["starts"], 2);
  EXPECT_NEAR(j["summary"]["KAS_ink"].get<double>(), 0.0, 1e-6);
  EXPECT_GT(j["summary"]["by_mode"]["minimize"]["KAS_ink"].get<double>(), 0.9999);
}

TEST_F(CliFidelity, SegmentWithoutGroundTruthIsAnInputError) {
  fs::remove(tmp_ / "seg" / "seg_ink.tif");
  expect_input_error(run_inkgen({"fidelity", "--truth", seg_, (tmp_ / "runs").string()}),
                     "inkgen synth");
}

TEST_F(CliFidelity, DiffOfAnotherSizeIsAnInputError) {
  FloatVolume small{test::truth_depth, 8, 8, std::vector<float>(test::truth_depth * 64, 0.1f)};
  test::write_run(tmp_ / "runs" / "oracle", test::segment_run_record("minimize", segment_), small);
  expect_input_error(run_inkgen({"fidelity", "--truth", seg_, (tmp_ / "runs").string()}), "8x8");
}

TEST_F(CliFidelity, FolderWithoutRunRecordIsAnInputError) {
  fs::create_directories(tmp_ / "nothing");
  expect_input_error(run_inkgen({"fidelity", "--truth", seg_, (tmp_ / "nothing").string()}),
                     "no run.json");
}

}  // namespace
}  // namespace inkgen
