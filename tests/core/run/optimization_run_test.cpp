#include "inkgen/run/optimization_run.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>

#include "inkgen/common/error.hpp"
#include "inkgen/io/segment.hpp"
#include "inkgen/optimize/volume_tensor.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using test::test_model;

RunSpec spec_for(const fs::path& out, int steps, Direction d = Direction::maximize) {
  RunSpec spec;
  spec.source = "noise";
  spec.optimize.direction = d;
  spec.optimize.steps = steps;
  spec.out = out;
  spec.options = {{"steps", steps}};
  return spec;
}

using test::read_json;

TEST(OptimizationRun, WritesTheDocumentedLayoutForOneStart) {
  test::TempDir tmp;
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  const auto starts = noise_starts(m.card, 1, {}, 3);
  const RunOutcome outcome = run_optimization(m, starts, spec_for(tmp / "out", 12));
  EXPECT_EQ(outcome.status, RunStatus::done);
  const fs::path out = tmp / "out";
  for (const char* f : {"start/00.png", "start/05.png", "result/05.png", "diff/05.png", "diff.tif",
                        "volume/layers/00.tif", "volume/layers/05.tif", "volume/volume_mask.png",
                        "montage.png", "run.json"}) {
    EXPECT_TRUE(fs::is_regular_file(out / f)) << f;
  }
  EXPECT_FALSE(fs::exists(out / "start" / "06.png"));
  const auto r = read_json(out / "run.json");
  EXPECT_EQ(r["status"], "done");
  EXPECT_EQ(r["mode"]["direction"], "maximize");
  EXPECT_EQ(r["model"]["name"], "tiny-map");
  EXPECT_EQ(r["model"]["card"]["input"]["z0"], 2);
  EXPECT_EQ(r["scale"]["rule"], "min(raw16>>8,200)/255");
  EXPECT_EQ(r["options"]["steps"], 12);
  EXPECT_EQ(r["starts"].size(), 1u);
  const auto& s = r["starts"][0];
  EXPECT_EQ(s["folder"], ".");
  EXPECT_EQ(s["trace"]["logit"].size(), 12u);
  EXPECT_GT(s["final_score"]["logit"].get<double>(), s["start_score"]["logit"].get<double>());
  EXPECT_GT(s["diff"]["scale"].get<double>(), 0.0);
  EXPECT_TRUE(r.contains("wall_seconds"));
  EXPECT_TRUE(r.contains("steps_per_second"));
}

TEST(OptimizationRun, TheVolumeReadsBackAsASegmentWithTheFinalScore) {
  test::TempDir tmp;
  for (const char* name : {"tiny-map.pt", "tiny-scalar.pt"}) {
    const InkModel m = load_ink_model(test_model(name), {});
    const fs::path out = tmp / name;
    const auto outcome = run_optimization(m, noise_starts(m.card, 1, {}, 3), spec_for(out, 20));
    const double final_logit = outcome.record["starts"][0]["final_score"]["logit"].get<double>();
    const Segment volume = open_segment(out / "volume");
    EXPECT_EQ(volume.layer_count(), m.card.depth());
    const auto back = to_model_scale(
        read_crop(volume,
                  Crop{0, 0, static_cast<int>(m.card.width()), static_cast<int>(m.card.height())},
                  0, static_cast<int>(m.card.depth())),
        m.card.scale);
    const double read_back = score_volumes(m, back.unsqueeze(0)).front().logit;
    // Only the quantisation of the rule separates them (1/255 per voxel for the GP rule).
    EXPECT_NEAR(read_back, final_logit, 0.05 + 0.01 * std::abs(final_logit)) << name;
  }
}

TEST(OptimizationRun, OneFolderPerStartInABatch) {
  test::TempDir tmp;
  const InkModel m = load_ink_model(test_model("tiny-scalar.pt"), {});
  auto spec = spec_for(tmp / "out", 5);
  spec.batch = 2;  // three starts: a batch of two, then one
  run_optimization(m, noise_starts(m.card, 3, {}, 1), spec);
  const auto top = read_json(tmp / "out" / "run.json");
  EXPECT_EQ(top["starts"].size(), 3u);
  for (const char* folder : {"000", "001", "002"}) {
    EXPECT_TRUE(fs::is_regular_file(tmp / "out" / folder / "montage.png")) << folder;
    const auto one = read_json(tmp / "out" / folder / "run.json");
    ASSERT_EQ(one["starts"].size(), 1u);
    EXPECT_EQ(one["starts"][0]["folder"], folder);
    EXPECT_EQ(one["starts"][0]["status"], "done");
  }
  EXPECT_FALSE(fs::exists(tmp / "out" / "result"));
}

TEST(OptimizationRun, RefusesToOverwriteAPreviousRun) {
  test::TempDir tmp;
  const InkModel m = load_ink_model(test_model("tiny-scalar.pt"), {});
  run_optimization(m, noise_starts(m.card, 1, {}, 1), spec_for(tmp / "out", 2));
  const std::string before = test::read_file(tmp / "out" / "run.json");
  EXPECT_THROW(run_optimization(m, noise_starts(m.card, 1, {}, 1), spec_for(tmp / "out", 3)),
               Error);
  EXPECT_EQ(test::read_file(tmp / "out" / "run.json"), before);
  auto forced = spec_for(tmp / "out", 3);
  forced.overwrite = Overwrite::allow;
  run_optimization(m, noise_starts(m.card, 1, {}, 1), forced);
  EXPECT_EQ(read_json(tmp / "out" / "run.json")["options"]["steps"], 3);
}

TEST(OptimizationRun, AnInterruptedRunWritesWhatItHasAndSaysSo) {
  test::TempDir tmp;
  const InkModel m = load_ink_model(test_model("tiny-map.pt"), {});
  std::atomic<bool> stop{false};
  OptimizeCallbacks callbacks;
  callbacks.stop = &stop;
  callbacks.on_report = [&](const StepReport& r) {
    if (r.step >= 4) stop = true;
  };
  auto spec = spec_for(tmp / "out", 10000);
  spec.optimize.report_every = 2;
  spec.batch = 2;
  const auto outcome = run_optimization(m, noise_starts(m.card, 4, {}, 1), spec, callbacks);
  EXPECT_EQ(outcome.status, RunStatus::interrupted);
  const auto r = read_json(tmp / "out" / "run.json");
  EXPECT_EQ(r["status"], "interrupted");
  EXPECT_EQ(r["starts"][0]["status"], "interrupted");
  EXPECT_EQ(r["starts"][0]["steps_done"], 4);
  EXPECT_EQ(r["starts"][2]["status"], "pending");  // the second batch never started
  EXPECT_TRUE(fs::is_regular_file(tmp / "out" / "000" / "result" / "00.png"));
  EXPECT_FALSE(fs::exists(tmp / "out" / "002"));
}

TEST(OptimizationRun, AFailedRunIsRecordedAndRethrown) {
  test::TempDir tmp;
  const InkModel m = load_ink_model(test_model("tiny-nan.pt"), {});
  StartVolume start{at::full(m.batch_shape(1), 0.5f).squeeze(0), {{"kind", "noise"}}};
  auto spec = spec_for(tmp / "out", 50, Direction::minimize);
  spec.optimize.rule.lr = 0.05;
  EXPECT_THROW(run_optimization(m, {start}, spec), Error);
  const auto r = read_json(tmp / "out" / "run.json");
  EXPECT_EQ(r["status"], "failed");
  EXPECT_EQ(r["error"]["kind"], "model");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("NaN"), std::string::npos);
}

TEST(OptimizationRun, RecordSaysRunningWhileItRuns) {
  test::TempDir tmp;
  const InkModel m = load_ink_model(test_model("tiny-scalar.pt"), {});
  std::string seen;
  OptimizeCallbacks callbacks;
  callbacks.on_report = [&](const StepReport&) {
    if (seen.empty()) seen = read_json(tmp / "out" / "run.json")["status"];
  };
  run_optimization(m, noise_starts(m.card, 1, {}, 1), spec_for(tmp / "out", 3), callbacks);
  EXPECT_EQ(seen, "running");
}

}  // namespace
}  // namespace inkgen
