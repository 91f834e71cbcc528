// Every error class the foundation promises, seen from the command line: a one-line message that
// names the problem and the fix, the documented exit code, and no stack trace.
#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "test_support.hpp"

namespace inkgen {
namespace {

using test::expect_one_line_error;
using test::run_inkgen;
using test::test_model;
namespace fs = std::filesystem;

class CliErrors : public ::testing::Test {
 protected:
  void SetUp() override { test::make_segment(tmp_ / "seg", test::random_volume(8, 20, 24, 1)); }
  std::vector<std::string> score(const std::string& model, const std::string& segment,
                                 const std::string& crop, const std::string& z0 = "0") {
    return {"score", "--model", model, "--segment", segment, "--crop", crop, "--z0", z0};
  }
  test::TempDir tmp_;
  const std::string seg_ = (tmp_ / "seg").string();
  const std::string scalar_ = test_model("tiny-scalar.pt").string();
};

TEST_F(CliErrors, UnknownOptionIsAUsageError) {
  expect_one_line_error(
      run_inkgen({"score", "--segment", seg_, "--crop", "0,0,12,12", "--no-such-option"}), 2,
      "--no-such-option");
  expect_one_line_error(run_inkgen({"frobnicate"}), 2, "frobnicate");
  expect_one_line_error(run_inkgen({}), 2, "no command given");
}

TEST_F(CliErrors, AMistypedOptionGetsTheClosestOneSuggested) {
  expect_one_line_error(run_inkgen({"maximize", "--step", "5", "--from", "noise"}), 2,
                        "unknown option --step for maximize; did you mean --steps?");
  expect_one_line_error(run_inkgen({"score", "--segmnet=" + seg_}), 2,
                        "unknown option --segmnet for score; did you mean --segment?");
  expect_one_line_error(run_inkgen({"maximize", "--zzzzzzzz"}), 2,
                        "unknown option --zzzzzzzz for maximize; see inkgen maximize --help");
  // Commands too, after global options and their values.
  expect_one_line_error(run_inkgen({"maximze", "--from", "noise"}), 2,
                        "unknown command maximze; did you mean maximize?");
  expect_one_line_error(run_inkgen({"--threads", "1", "atals"}), 2,
                        "unknown command atals; did you mean atlas?");
}

TEST_F(CliErrors, EveryCommandsHelpNamesTheGlobalOptions) {
  for (const char* command : {"info", "score", "maximize", "batch", "atlas", "attribute"}) {
    const auto r = run_inkgen({command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command;
    for (const char* global : {"--threads", "--device", "--quiet", "--json", "--config"})
      EXPECT_NE(r.out.find(global), std::string::npos) << command << " --help lacks " << global;
  }
}

// tiny-nan is NaN once its input's mean falls below 0.45; with the valid range 0..0.5 the load
// check's probe (a ramp over the range, mean 0.25) already is, and loading refuses it.
TEST_F(CliErrors, AModelThatGivesNaNOnItsValidRangeIsRefusedAtLoad) {
  const std::string nan = test_model("tiny-nan.pt").string();
  expect_one_line_error(run_inkgen({"info", "--model", nan, "--range", "0,0.5"}), 4,
                        "gives NaN or infinite output on a valid input");
  EXPECT_EQ(run_inkgen({"info", "--model", nan, "--range", "0.5,1", "--quiet"}).exit_code, 0);
}

TEST_F(CliErrors, ModelFileMissing) {
  expect_one_line_error(run_inkgen({"info", "--model", "/no/such.pt"}), 4, "not found");
}

TEST_F(CliErrors, ModelNotTorchScript) {
  std::ofstream(tmp_ / "junk.pt") << "junk";
  expect_one_line_error(run_inkgen({"info", "--model", (tmp_ / "junk.pt").string()}), 4,
                        "is not a TorchScript model");
}

TEST_F(CliErrors, ModelForwardFailsOnItsCardsShape) {
  expect_one_line_error(run_inkgen({"info", "--model", test_model("tiny-badshape.pt").string()}), 4,
                        "check input.shape");
}

TEST_F(CliErrors, ModelReturnsATuple) {
  expect_one_line_error(run_inkgen({"info", "--model", test_model("tiny-tuple.pt").string()}), 4,
                        "not a tensor");
}

TEST_F(CliErrors, CardMalformed) {
  expect_one_line_error(run_inkgen({"info", "--model", test_model("tiny-badcard.pt").string()}), 4,
                        "not valid JSON");
}

TEST_F(CliErrors, CardMissingAKey) {
  fs::copy_file(test_model("tiny-nocard.pt"), tmp_ / "m.pt");
  std::ofstream(tmp_ / "m.json")
      << R"({"name": "m", "input": {"scale": "raw16/65535"}, "output": {"kind": "logits"}})";
  expect_one_line_error(run_inkgen({"info", "--model", (tmp_ / "m.pt").string()}), 4,
                        "missing key 'input.shape'");
}

TEST_F(CliErrors, NoCardAndNoShape) {
  expect_one_line_error(run_inkgen({"info", "--model", test_model("tiny-nocard.pt").string()}), 4,
                        "--input-shape");
}

TEST_F(CliErrors, SegmentDirectoryMissing) {
  expect_one_line_error(run_inkgen(score(scalar_, (tmp_ / "nope").string(), "0,0,12,12")), 3,
                        "not found");
}

TEST_F(CliErrors, LayersMissing) {
  fs::remove(tmp_ / "seg" / "layers" / "03.tif");
  expect_one_line_error(run_inkgen(score(scalar_, seg_, "0,0,12,12")), 3, "missing layer 3");
}

TEST_F(CliErrors, LayersOfDifferentSizes) {
  cv::imwrite((tmp_ / "seg" / "layers" / "05.tif").string(),
              cv::Mat(21, 24, CV_16UC1, cv::Scalar(9)));
  expect_one_line_error(run_inkgen(score(scalar_, seg_, "0,0,12,12")), 3, "one size");
}

TEST_F(CliErrors, CropOutsideTheImage) {
  expect_one_line_error(run_inkgen(score(scalar_, seg_, "20,0,32,12")), 3, "outside segment");
}

TEST_F(CliErrors, CropWithX2NotAfterX1) {
  expect_one_line_error(run_inkgen(score(scalar_, seg_, "12,0,12,12")), 2, "x2 <= x1");
}

TEST_F(CliErrors, CropOfTheWrongSizeForTheModel) {
  expect_one_line_error(run_inkgen(score(scalar_, seg_, "0,0,13,12")), 3, "takes 12x12");
}

TEST_F(CliErrors, DepthWindowBeyondTheLastLayer) {
  expect_one_line_error(run_inkgen(score(scalar_, seg_, "0,0,12,12", "5")), 3,
                        "--z0 between 0 and 4");
}

// An unknown device is refused on every machine; a missing GPU only where there is none.
TEST(CliDevice, GpuAskedForButAbsent) {
  const std::string scalar_ = test_model("tiny-scalar.pt").string();
  expect_one_line_error(run_inkgen({"info", "--model", scalar_, "--device", "tpu"}), 2,
                        "auto, cpu, cuda or cuda:N");
  const auto cuda = run_inkgen({"info", "--model", scalar_, "--device", "cuda", "--json"});
  if (cuda.exit_code == 0) {
    // A GPU machine: the model must really be on it, not quietly on the CPU.
    EXPECT_EQ(json_of(cuda).at("device").get<std::string>().rfind("cuda", 0), 0u) << cuda.out;
    return;
  }
  expect_one_line_error(run_inkgen({"info", "--model", scalar_, "--device", "cuda"}), 2,
                        "--device cpu");
}

}  // namespace
}  // namespace inkgen
