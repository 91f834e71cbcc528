// Zarr surface volumes wherever a segment is taken: the same crop read from TIFF layers and from a
// Zarr written by python3-zarr gives the same score bit for bit, and runs and batches (crops auto,
// the mask beside the volume) take it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
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

// A full-resolution mask beside an OME-Zarr is shrunk to the level read, so that crops "auto" at
// level 1 keep to the papyrus as they do at level 0 (they used to ignore the mask there).
TEST_F(CliZarrInput, AFullResolutionMaskIsShrunkToTheLevelRead) {
  cv::Mat mask(128, 160, CV_8UC1, cv::Scalar(0));
  mask(cv::Rect(0, 0, 80, 128)).setTo(255);  // the left half is papyrus
  ASSERT_TRUE(cv::imwrite((tmp_ / "z" / "v2-ome_mask.png").string(), mask));
  test::write_text(tmp_ / "jobs.jsonl", R"({"mode": "maximize", "segment": ")" +
                                            (tmp_ / "z" / "v2-ome.zarr").string() +
                                            R"(", "crops": "auto", "level": 1})" + "\n");
  const auto r = run_inkgen({"--quiet", "batch", (tmp_ / "jobs.jsonl").string(), "--model",
                             test::test_model("tiny-map.pt").string(), "--steps", "1", "--out",
                             (tmp_ / "batch").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Level 1 is 80x64, tiled 16x16: the tiles wholly inside its left 40 columns.
  std::set<std::string> crops;
  std::istringstream manifest(test::read_file(tmp_ / "batch" / "manifest.jsonl"));
  for (std::string line; std::getline(manifest, line);)
    crops.insert(nlohmann::json::parse(line).at("crop").get<std::string>());
  std::set<std::string> inside;
  for (const int y : {0, 16, 32, 48})
    for (const int x : {0, 16})
      inside.insert(std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(x + 16) +
                    "," + std::to_string(y + 16));
  EXPECT_EQ(crops, inside);
}

// `inkgen synth --zarr`: the same segment as TIFF layers, as a Zarr that zarr-python (2, and 3
// where .ci/install-deps made its venv) reads voxel for voxel and inkgen scores bit for bit.
TEST_F(CliZarrInput, SynthWritesAZarrThatZarrPythonAndInkgenRead) {
  const fs::path zs = tmp_ / "zs";
  ASSERT_EQ(run_inkgen({"synth", "--out", zs.string(), "--seed", "5", "--size", "160,128", "--zarr",
                        "--quiet"})
                .exit_code,
            0);
  EXPECT_FALSE(fs::exists(zs / "layers"));
  EXPECT_TRUE(fs::exists(zs / "zs.zarr" / ".zarray"));
  EXPECT_TRUE(fs::exists(zs / "zs_mask.png"));
  EXPECT_TRUE(fs::exists(zs / "zs_ink.tif"));
  const std::string check =
      " -c 'import sys, glob, numpy as np, zarr; from PIL import Image; "
      "a = zarr.open(sys.argv[1], mode=\"r\")[:]; "
      "b = np.stack([np.array(Image.open(f)) for f in sorted(glob.glob(sys.argv[2] + "
      "\"/layers/*.tif\"))]); "
      "sys.exit(0 if a.dtype == np.uint16 and a.shape == b.shape and (a == b).all() else 1)' " +
      (zs / "zs.zarr").string() + " " + (tmp_ / "seg").string();
  EXPECT_EQ(std::system((std::string(INKGEN_PYTHON) + check).c_str()), 0) << "zarr 2";
  if (fs::exists(INKGEN_ZARR3_PYTHON)) {
    EXPECT_EQ(std::system((std::string(INKGEN_ZARR3_PYTHON) + check).c_str()), 0) << "zarr 3";
  }
  for (const char* crop : {"0,0,64,64", "70,40,134,104"})
    EXPECT_EQ(logit(zs, crop), logit(tmp_ / "seg", crop)) << crop;
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
