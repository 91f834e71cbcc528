// `inkgen report` from the command line, on a real run and a real batch.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using test::run_inkgen;
using test::test_model;

class CliReport : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"s1", "bad"})
      test::make_segment(tmp_ / name, test::random_volume(8, 40, 36, 5, 10000, 40000));
    // A layer the window (layers 2..7 of tiny-map) reads, cut short: that job fails.
    const fs::path layer = tmp_ / "bad" / "layers" / "03.tif";
    test::write_text(layer, test::read_file(layer).substr(0, fs::file_size(layer) / 2));
  }
  test::TempDir tmp_;
  const std::string model_ = test_model("tiny-map.pt").string();
};

TEST_F(CliReport, ARunGetsAPageWithItsSlicesAndLayerNumbers) {
  const fs::path out = tmp_ / "run";
  ASSERT_EQ(run_inkgen({"maximize", "--from", "segment", "--segment", (tmp_ / "s1").string(),
                        "--crop", "0,0,16,16", "--crop", "16,16,32,32", "--z0", "1", "--steps", "3",
                        "--model", model_, "--out", out.string(), "--quiet"})
                .exit_code,
            0);
  const auto r = run_inkgen({"report", out.string(), "--json"});
  const auto j = test::json_of(r);
  EXPECT_EQ(j["kind"], "run");
  EXPECT_EQ(fs::path(j["report"].get<std::string>()), out / "report.html");
  const std::string html = test::read_file(out / "report.html");
  // Window layer 0 is segment layer 1 (--z0 1); both starts' slices are named.
  EXPECT_NE(html.find(R"("layers":["layer 1","layer 2")"), std::string::npos);
  EXPECT_NE(html.find("001/diff/05.png"), std::string::npos);
  EXPECT_TRUE(fs::is_regular_file(out / "001" / "diff" / "05.png"));
  // Plain output: the page's path alone.
  const auto plain = run_inkgen({"report", out.string()});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, (out / "report.html").string() + "\n");
}

TEST_F(CliReport, ABatchGetsATableWithItsFailureFirstAndAPagePerJob) {
  test::write_text(tmp_ / "list.txt", "s1\nbad\n");
  const fs::path out = tmp_ / "out";
  EXPECT_EQ(
      run_inkgen({"batch", (tmp_ / "list.txt").string(), "--crop", "0,0,16,16", "--mode",
                  "maximize", "--steps", "3", "--model", model_, "--out", out.string(), "--quiet"})
          .exit_code,
      1);
  const auto j = test::json_of(run_inkgen({"report", out.string(), "--json"}));
  EXPECT_EQ(j["kind"], "batch");
  EXPECT_EQ(j["jobs"], 2);
  EXPECT_EQ(j["failed"], 1);
  const std::string html = test::read_file(out / "report.html");
  const auto bad = html.find(R"("key":"bad/0_0_16_16/maximize-segment")");
  const auto good = html.find(R"("key":"s1/0_0_16_16/maximize-segment")");
  ASSERT_NE(bad, std::string::npos);
  ASSERT_NE(good, std::string::npos);
  EXPECT_LT(bad, good) << "the failure is not first";
  EXPECT_NE(html.find("03.tif"), std::string::npos) << "the failure's message is missing";
  EXPECT_TRUE(fs::is_regular_file(out / "s1" / "0_0_16_16" / "maximize-segment" / "report.html"));
}

TEST_F(CliReport, AFolderThatIsNeitherARunNorABatchIsRefused) {
  test::expect_one_line_error(run_inkgen({"report", tmp_.path().string()}), 3, "no run.json");
  test::expect_one_line_error(run_inkgen({"report", (tmp_ / "missing").string()}), 3,
                              "no run.json");
}

}  // namespace
}  // namespace inkgen
