#include "inkgen/batch/batch_run.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>

#include "inkgen/batch/batch_status.hpp"
#include "inkgen/batch/job_plan.hpp"
#include "inkgen/jobs/manifest.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using test::test_model;

using test::read_json;

class BatchRun : public ::testing::Test {
 protected:
  void SetUp() override {
    test::make_segment(tmp_ / "segA", test::random_volume(8, 32, 32, 1, 10000, 40000));
    test::make_segment(tmp_ / "segB", test::random_volume(8, 32, 32, 2, 10000, 40000));
  }
  std::vector<BatchJob> plan(const std::string& text) {
    JobRequest defaults;
    defaults.values["model"] = test_model("tiny-map.pt").string();
    defaults.values["steps"] = 4;
    return plan_jobs(parse_jobs_text(text, "jobs.jsonl"), defaults, {"jobs.jsonl", tmp_.path()},
                     models_)
        .jobs;
  }
  BatchSummary run(const std::vector<BatchJob>& jobs, int batch = 1,
                   std::optional<Shard> shard = std::nullopt,
                   const BatchCallbacks& callbacks = {}) {
    return run_batch(jobs, models_, {out_, batch, shard, "jobs.jsonl"}, callbacks);
  }
  std::vector<nlohmann::json> manifest_lines() { return read_manifests(out_).lines; }

  test::TempDir tmp_;
  fs::path out_ = tmp_ / "out";
  ModelCache models_{c10::Device(c10::kCPU)};
  const std::string two_crops_ =
      R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16", "16,16,32,32"]})"
      "\n"
      R"({"mode": "minimize", "source": "noise", "seed": 3})"
      "\n";
};

TEST_F(BatchRun, EachJobGetsTheSingleCommandsLayoutAndAManifestLine) {
  const auto jobs = plan(two_crops_);
  const auto s = run(jobs);
  EXPECT_EQ(s.done, 3u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.manifest, out_ / "manifest.jsonl");
  for (const auto& job : jobs) {
    const fs::path dir = out_ / job.key;
    for (const char* f : {"start/00.png", "result/05.png", "diff/05.png", "diff.tif",
                          "volume/layers/05.tif", "montage.png", "run.json"}) {
      EXPECT_TRUE(fs::is_regular_file(dir / f)) << dir / f;
    }
    const auto r = read_json(dir / "run.json");
    EXPECT_EQ(r["status"], "done");
    ASSERT_EQ(r["starts"].size(), 1u);
    EXPECT_EQ(r["starts"][0]["folder"], ".");
    EXPECT_EQ(r["options"]["key"], job.key);
    EXPECT_EQ(r["options"]["steps"], 4);
  }
  EXPECT_EQ(read_json(out_ / jobs[1].key / "run.json")["starts"][0]["source"]["crop"],
            nlohmann::json({16, 16, 32, 32}));
  EXPECT_EQ(read_json(out_ / jobs[2].key / "run.json")["mode"]["direction"], "minimize");
  const auto lines = manifest_lines();
  ASSERT_EQ(lines.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i]["key"], jobs[i].key);
    EXPECT_EQ(lines[i]["index"], i);
    EXPECT_EQ(lines[i]["status"], "done");
    EXPECT_EQ(lines[i]["folder"], jobs[i].key);
    EXPECT_EQ(lines[i]["fingerprint"], jobs[i].fingerprint);
    EXPECT_TRUE(lines[i].contains("final_score"));
    EXPECT_TRUE(lines[i].contains("start_score"));
    EXPECT_TRUE(lines[i].contains("seconds"));
    EXPECT_TRUE(lines[i].contains("finished_at"));
  }
  EXPECT_EQ(lines[0]["crop"], "0,0,16,16");
  EXPECT_EQ(lines[2]["noise_index"], 0);
}

TEST_F(BatchRun, ResumingSkipsDoneJobsAndRerunsTheRest) {
  const auto jobs = plan(two_crops_);
  run(jobs);
  const std::string done_record = test::read_file(out_ / jobs[0].key / "run.json");
  // Job 1 "failed" after the fact and job 2's line is lost (killed before writing it).
  {
    std::vector<nlohmann::json> lines = manifest_lines();
    std::ofstream m(out_ / "manifest.jsonl", std::ios::trunc);
    m << lines[0].dump() << "\n";
    lines[1]["status"] = "failed";
    m << lines[1].dump() << "\n";
  }
  const auto s = run(jobs);
  EXPECT_EQ(s.skipped, 1u);
  EXPECT_EQ(s.done, 2u);
  EXPECT_EQ(test::read_file(out_ / jobs[0].key / "run.json"), done_record);  // not redone
  const auto states = job_states(jobs, read_manifests(out_));
  for (const auto& st : states)
    EXPECT_EQ(st.state, JobState::done);
  const auto again = run(jobs);
  EXPECT_EQ(again.skipped, 3u);
  EXPECT_EQ(again.done, 0u);
}

TEST_F(BatchRun, ChangedOptionsRerunADoneJob) {
  run(plan(two_crops_));
  const auto changed = plan(
      R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16", "16,16,32,32"], "lr": 0.02})"
      "\n"
      R"({"mode": "minimize", "source": "noise", "seed": 3})"
      "\n");
  EXPECT_EQ(job_states(changed, read_manifests(out_))[0].state, JobState::changed);
  const auto s = run(changed);
  EXPECT_EQ(s.done, 2u);
  EXPECT_EQ(s.skipped, 1u);
  EXPECT_EQ(read_json(out_ / changed[0].key / "run.json")["options"]["lr"], 0.02);
}

TEST_F(BatchRun, ShardsSplitTheJobsAndWriteTheirOwnManifests) {
  const auto jobs = plan(two_crops_ + R"({"mode": "maximize", "segment": "segB", "crops": "auto"})"
                                      "\n");
  ASSERT_EQ(jobs.size(), 7u);
  const auto s0 = run(jobs, 1, Shard{0, 3});
  const auto s1 = run(jobs, 1, Shard{1, 3});
  const auto s2 = run(jobs, 1, Shard{2, 3});
  EXPECT_EQ(s0.done, 3u);  // 0, 3, 6
  EXPECT_EQ(s1.done, 2u);
  EXPECT_EQ(s2.done, 2u);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(
        fs::is_regular_file(out_ / ("manifest-shard-" + std::to_string(i) + "-of-3.jsonl")));
  EXPECT_FALSE(fs::exists(out_ / "manifest.jsonl"));
  std::set<std::string> keys;
  for (const auto& line : manifest_lines())
    EXPECT_TRUE(keys.insert(line["key"].get<std::string>()).second) << line["key"];
  EXPECT_EQ(keys.size(), 7u);
  // Resuming with another shard count (or none) finds every job done.
  EXPECT_EQ(run(jobs, 1, Shard{0, 2}).skipped, 4u);
  const auto all = run(jobs);
  EXPECT_EQ(all.skipped, 7u);
  EXPECT_EQ(all.done, 0u);
}

TEST_F(BatchRun, CropsOfOneGroupShareTheDeviceAndEachKeepsItsRecord) {
  const auto jobs = plan(R"({"mode": "maximize", "segment": "segA", "crops": "auto"})"
                         "\n"
                         R"({"mode": "maximize", "segment": "segB", "crops": ["0,0,16,16"]})"
                         "\n");
  ASSERT_EQ(jobs.size(), 5u);
  std::vector<std::size_t> together;
  BatchCallbacks callbacks;
  callbacks.on_progress = [&](const BatchProgress& p) {
    if (p.running > 0 && (together.empty() || together.back() != p.running))
      together.push_back(p.running);
  };
  const auto s = run(jobs, 3, std::nullopt, callbacks);
  EXPECT_EQ(s.done, 5u);
  // segA's 4 crops go as 3 + 1; segB's crop is another group.
  EXPECT_EQ(together, (std::vector<std::size_t>{3, 1}));
  for (const auto& job : jobs) {
    const auto r = read_json(out_ / job.key / "run.json");
    EXPECT_EQ(r["starts"].size(), 1u);
    EXPECT_EQ(r["options"]["batch"], 3);
  }
  EXPECT_EQ(models_.loads(), 1u);  // the planner's load serves the whole run
}

TEST_F(BatchRun, AJobEqualsTheSameStartRunAlone) {
  const auto jobs = plan(
      R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16", "16,0,32,16"], "jitter": 1, "seed": 4})"
      "\n");
  run(jobs, 2);
  const fs::path alone = tmp_ / "alone";
  run_batch({jobs[1]}, models_, {alone, 1, std::nullopt, "jobs.jsonl"});
  const auto a = read_json(out_ / jobs[1].key / "run.json")["starts"][0]["final_score"]["logit"];
  const auto b = read_json(alone / jobs[1].key / "run.json")["starts"][0]["final_score"]["logit"];
  EXPECT_NEAR(a.get<double>(), b.get<double>(), 1e-4);
}

TEST_F(BatchRun, AJobWhoseOutputTurnsNanFailsAloneAndTheBatchGoesOn) {
  // Left half dark (mean < 0.45: tiny-nan's output is NaN), right half bright.
  RawVolume v = test::random_volume(4, 12, 24, 5, 40000, 60000);
  for (int z = 0; z < 4; ++z)
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 12; ++x)
        v.voxels[(static_cast<std::size_t>(z) * 12 + y) * 24 + x] = 5000;
  test::make_segment(tmp_ / "halves", v);
  JobRequest d;
  d.values["model"] = test_model("tiny-nan.pt").string();
  d.values["steps"] = 3;
  const auto jobs =
      plan_jobs(
          parse_jobs_text(
              R"({"mode": "maximize", "segment": "halves", "crops": ["0,0,12,12", "12,0,24,12"], "z0": 0})"
              "\n"
              R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"], "model": ")" +
                  test_model("tiny-map.pt").string() + "\"}\n",
              "jobs.jsonl"),
          d, {"jobs.jsonl", tmp_.path()}, models_)
          .jobs;
  const auto s = run(jobs, 2);  // the two halves share a device batch, which fails as a whole
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.done, 2u);
  const auto lines = manifest_lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["key"], jobs[0].key);
  EXPECT_EQ(lines[0]["status"], "failed");
  EXPECT_EQ(lines[0]["error"]["kind"], "model");
  EXPECT_NE(lines[0]["error"]["message"].get<std::string>().find("output turned NaN"),
            std::string::npos);
  EXPECT_EQ(read_json(out_ / jobs[0].key / "run.json")["status"], "failed");
  EXPECT_EQ(lines[1]["status"], "done");
  EXPECT_EQ(lines[2]["status"], "done");
}

TEST_F(BatchRun, BadSegmentsModelsAndFoldersFailTheirJobsOnly) {
  std::ofstream(tmp_ / "segA" / "layers" / "03.tif", std::ios::trunc) << "II*\0garbage";
  fs::create_directories(out_);
  std::ofstream(out_ / "segB") << "a file where segB's folder would go";
  const auto jobs =
      plan(R"({"mode": "maximize", "segment": "segA", "crops": ["0,0,16,16"]})"
           "\n"
           R"({"mode": "maximize", "segment": "segB", "crops": ["0,0,16,16"]})"
           "\n"
           R"({"mode": "maximize", "source": "noise", "model": "missing.pt"})"
           "\n"
           R"({"mode": "maximize", "source": "noise", "seed": 1})"
           "\n"
           R"({"mode": "maximize", "segment": "segB", "crops": ["0,0,12,12"], "name": "small"})"
           "\n");
  const auto s = run(jobs);
  EXPECT_EQ(s.failed, 4u);
  EXPECT_EQ(s.done, 1u);
  const auto lines = manifest_lines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0]["error"]["kind"], "input");
  EXPECT_NE(lines[0]["error"]["message"].get<std::string>().find("03.tif"), std::string::npos);
  EXPECT_EQ(lines[1]["error"]["kind"], "output");
  EXPECT_EQ(lines[2]["error"]["kind"], "model");
  EXPECT_EQ(lines[3]["status"], "done");
  EXPECT_NE(lines[4]["error"]["message"].get<std::string>().find("takes 16x16"), std::string::npos);
}

TEST_F(BatchRun, ARerunReplacesThePartialFolderOfAKilledJob) {
  const auto jobs = plan(two_crops_);
  const fs::path dir = out_ / jobs[0].key;
  fs::create_directories(dir / "snapshots" / "step_000002");
  std::ofstream(dir / "run.json") << R"({"status": "running"})";
  std::ofstream(dir / ".diff.tif.partial-123-456") << "half";
  std::ofstream(dir / "snapshots" / "step_000002" / "00.png") << "stale";
  std::ofstream(dir / "notes.txt") << "the user's own file stays";
  fs::create_directories(dir / "result");
  std::ofstream(dir / "result" / "notes.txt") << "and so does one among the slices";
  std::ofstream(dir / "result" / "99.png") << "a stale slice of a deeper model";
  run(jobs);
  EXPECT_EQ(read_json(dir / "run.json")["status"], "done");
  EXPECT_FALSE(fs::exists(dir / "snapshots"));
  EXPECT_FALSE(fs::exists(dir / ".diff.tif.partial-123-456"));
  EXPECT_FALSE(fs::exists(dir / "result" / "99.png"));
  EXPECT_TRUE(fs::exists(dir / "result" / "00.png"));
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));
  EXPECT_TRUE(fs::exists(dir / "result" / "notes.txt"));
}

TEST_F(BatchRun, StopRequestedRecordsTheRunningJobsAsInterrupted) {
  const auto jobs = plan(two_crops_);
  std::atomic<bool> stop{false};
  BatchCallbacks callbacks;
  callbacks.stop = &stop;
  callbacks.on_progress = [&](const BatchProgress& p) {
    if (p.step >= 1) stop = true;
  };
  auto long_jobs = jobs;
  for (auto& j : long_jobs) {
    j.optimize.steps = 1000;
    j.optimize.report_every = 1;
  }
  const auto s = run(long_jobs, 2, std::nullopt, callbacks);
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.interrupted, 2u);
  EXPECT_EQ(s.not_run, 1u);
  const auto lines = manifest_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["status"], "interrupted");
  EXPECT_LT(lines[0]["steps_done"].get<int>(), 1000);
  EXPECT_EQ(read_json(out_ / jobs[0].key / "run.json")["status"], "interrupted");
}

// A manifest that would keep nothing (a link to a device) stops the batch before any job runs;
// a disk that fills mid-line is BatchFaults' file-size-limit test.
TEST_F(BatchRun, AManifestThatCannotBeWrittenStopsTheBatch) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  fs::create_directories(out_);
  fs::create_symlink("/dev/full", out_ / "manifest.jsonl");
  const auto jobs = plan(two_crops_);
  try {
    run(jobs);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::output);
    EXPECT_NE(std::string(e.what()).find("is not a regular file"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(out_ / jobs[0].key / "run.json"));  // no job ran
  std::ofstream(tmp_ / "file") << "x";
  EXPECT_THROW(run_batch(plan(two_crops_), models_, {tmp_ / "file" / "out", 1, std::nullopt, ""}),
               Error);
}

}  // namespace
}  // namespace inkgen
