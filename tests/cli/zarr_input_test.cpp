// Zarr surface volumes wherever a segment is taken: the same crop read from TIFF layers and from a
// Zarr written by python3-zarr gives the same score bit for bit, and runs and batches (crops auto,
// the mask beside the volume) take it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "test_support.hpp"

namespace inkgen {
namespace {

using test::run_inkgen;
namespace fs = std::filesystem;

class CliZarrInput : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string python = INKGEN_PYTHON;
    if (std::system((python + " -c 'import zarr, PIL' >/dev/null 2>&1").c_str()) != 0)
      GTEST_SKIP() << python << " has no zarr; run .ci/install-deps (python3-zarr)";
    ASSERT_EQ(
        run_inkgen({"synth", "--out", (tmp_ / "seg").string(), "--seed", "5", "--size", "160,128"})
            .exit_code,
        0);
    ASSERT_EQ(std::system((python + " " + INKGEN_TEST_SOURCE_DIR + "/tests/zarr/write_zarr.py " +
                           (tmp_ / "seg").string() + " " + (tmp_ / "z").string() + " >/dev/null")
                              .c_str()),
              0);
    // villa's layout: a segment folder holding its surface volume and the mask.
    fs::create_directories(tmp_ / "villa");
    fs::rename(tmp_ / "z" / "v2-blosc.zarr", tmp_ / "villa" / "surface-volume.zarr");
    fs::copy_file(tmp_ / "seg" / "seg_mask.png", tmp_ / "villa" / "villa_mask.png");
  }

  double logit(const fs::path& segment, const std::string& crop) {
    return test::json_of(
               run_inkgen({"--json", "score", "--segment", segment.string(), "--crop", crop}))
        .at("logit")
        .get<double>();
  }

  test::TempDir tmp_;
};

TEST_F(CliZarrInput, ScoresTheSameAsTheTiffLayersBitForBit) {
  for (const char* crop : {"0,0,64,64", "70,40,134,104"}) {
    const double want = logit(tmp_ / "seg", crop);
    EXPECT_EQ(logit(tmp_ / "villa", crop), want) << crop;
    EXPECT_EQ(logit(tmp_ / "z" / "v2-zstd.zarr", crop), want) << crop;
    EXPECT_EQ(logit(tmp_ / "z" / "v2-ome.zarr", crop), want) << crop;
  }
}

TEST_F(CliZarrInput, RunsAndBatchesReadIt) {
  const fs::path run = tmp_ / "run";
  ASSERT_EQ(run_inkgen({"--quiet", "maximize", "--from", "segment", "--segment",
                        (tmp_ / "villa").string(), "--crop", "0,0,64,64", "--steps", "2", "--out",
                        run.string()})
                .exit_code,
            0);
  const auto record = test::read_json(run / "run.json");
  EXPECT_EQ(record.at("starts")[0].at("source").at("segment_name"), "villa");
  EXPECT_NEAR(record.at("starts")[0].at("start_score").at("logit").get<double>(),
              logit(tmp_ / "seg", "0,0,64,64"), 1e-4);

  // crops auto over the Zarr folder and over the TIFF segment: the same tiles inside the mask.
  std::string jobs;
  for (const char* segment : {"villa", "seg"})
    jobs += R"({"mode": "minimize", "segment": ")" + (tmp_ / segment).string() +
            R"(", "crops": "auto", "stride": 32})" + "\n";
  test::write_text(tmp_ / "jobs.jsonl", jobs);
  const fs::path batch = tmp_ / "batch";
  const auto r = run_inkgen({"--quiet", "batch", (tmp_ / "jobs.jsonl").string(), "--steps", "1",
                             "--out", batch.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::set<std::string>> crops;
  std::istringstream manifest(test::read_file(batch / "manifest.jsonl"));
  for (std::string line; std::getline(manifest, line);) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("status"), "done");
    crops[fs::path(j.at("segment").get<std::string>()).filename().string()].insert(
        j.at("crop").get<std::string>());
  }
  EXPECT_FALSE(crops["seg"].empty());
  EXPECT_LT(crops["seg"].size(), 12u) << "the mask left out no tile of the 4x3 grid";
  EXPECT_EQ(crops["villa"], crops["seg"]);
}

TEST_F(CliZarrInput, AMissingLevelOrASegmentFolderWithTwoVolumesIsAOneLineInputError) {
  test::expect_one_line_error(
      run_inkgen({"score", "--segment", (tmp_ / "z" / "v2-ome.zarr").string(), "--crop",
                  "0,0,64,64", "--level", "5"}),
      3, "choose --level");
  fs::rename(tmp_ / "z" / "v2-zstd.zarr", tmp_ / "villa" / "other.zarr");
  test::expect_one_line_error(
      run_inkgen({"score", "--segment", (tmp_ / "villa").string(), "--crop", "0,0,64,64"}), 3,
      "several Zarr volumes");
}

}  // namespace
}  // namespace inkgen
