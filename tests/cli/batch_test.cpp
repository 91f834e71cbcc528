// `inkgen batch` from the command line: many segments, crops and modes into one folder; a bad
// segment fails alone; resume, shards, the Slurm script, status, progress and --json.
#include <gtest/gtest.h>

#include <algorithm>

#include <chrono>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "inkgen/jobs/manifest.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using test::run_inkgen;
using test::test_model;

using test::read_json;

// Cuts a file to its first `keep` bytes.
void truncate_file(const fs::path& p, std::size_t keep) {
  const std::string all = test::read_file(p);
  test::write_text(p, all.substr(0, keep));
}

class BatchCli : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"s1", "s2", "s3", "bad"}) {
      test::make_segment(tmp_ / name, test::random_volume(8, 40, 36, static_cast<unsigned>(name[1]),
                                                          10000, 40000));
    }
    // A layer the reader of the window (layers 2..7 of tiny-map) will find cut short.
    const fs::path layer = tmp_ / "bad" / "layers" / "03.tif";
    truncate_file(layer, fs::file_size(layer) / 2);
    test::write_text(tmp_ / "list.txt", "# three good segments and a bad one\ns1\ns2\nbad\n\ns3\n");
  }
  std::vector<std::string> batch(const std::string& jobs, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{
        "batch", (tmp_ / jobs).string(), "--out", out_.string(), "--model", model_, "--steps", "5"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  test::TempDir tmp_;
  const fs::path out_ = tmp_ / "out";
  const std::string model_ = test_model("tiny-map.pt").string();
};

TEST_F(BatchCli, SegmentsWithABadOneCompleteTheGoodOnesThenResumeWithoutRedoingThem) {
  const auto r = run_inkgen(
      batch("list.txt", {"--crops", "auto", "--mode", "maximize", "--batch", "3", "--quiet"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  // The bad segment cannot even be tiled (its layer's directory is gone): one failing job.
  EXPECT_EQ(r.err.rfind("inkgen: error: 1 of 13 jobs failed (12 done, 0 done before)", 0), 0u)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  const auto lines = read_manifests(out_).lines;
  ASSERT_EQ(lines.size(), 13u);
  for (const auto& line : lines) {
    const std::string key = line["key"];
    if (key.rfind("bad/", 0) == 0) {
      EXPECT_EQ(key, "bad/auto/maximize-segment");
      EXPECT_EQ(line["status"], "failed") << key;
      EXPECT_NE(line["error"]["message"].get<std::string>().find("03.tif"), std::string::npos);
    } else {
      EXPECT_EQ(line["status"], "done") << key;
      EXPECT_TRUE(fs::is_regular_file(out_ / key / "montage.png")) << key;
    }
  }
  EXPECT_TRUE(fs::is_directory(out_ / "s2" / "16_16_32_32" / "maximize-segment" / "result"));
  const std::string record =
      test::read_file(out_ / "s1" / "0_0_16_16" / "maximize-segment" / "run.json");

  // The bad segment is fixed; the rerun runs its jobs alone.
  test::make_segment(tmp_ / "bad", test::random_volume(8, 40, 36, 9, 10000, 40000));
  const auto again = run_inkgen(batch(
      "list.txt", {"--crops", "auto", "--mode", "maximize", "--batch", "3", "--json", "--quiet"}));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto summary = nlohmann::json::parse(again.out);
  EXPECT_EQ(summary["status"], "done");
  EXPECT_EQ(summary["skipped"], 12);
  EXPECT_EQ(summary["done"], 4);
  EXPECT_EQ(summary["jobs"].size(), 4u);
  EXPECT_EQ(test::read_file(out_ / "s1" / "0_0_16_16" / "maximize-segment" / "run.json"), record);
}

TEST_F(BatchCli, JsonLinesJobsWithNoiseAndNamedVariants) {
  test::write_text(
      tmp_ / "jobs.jsonl",
      R"({"mode": "maximize", "segment": "s1", "crops": ["0,0,16,16", [16, 0, 32, 16]]})"
      "\n"
      R"({"mode": "maximize", "segment": "s1", "crops": ["0,0,16,16"], "tv": 0.05, "name": "tv"})"
      "\n"
      R"({"mode": "minimize", "source": "noise", "count": 2, "seed": 11, "noise": "smooth"})"
      "\n");
  const auto r = run_inkgen(batch("jobs.jsonl", {"--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["done"], 5);
  for (const char* key : {"s1/0_0_16_16/maximize-segment", "s1/16_0_32_16/maximize-segment",
                          "s1/0_0_16_16/maximize-segment-tv", "noise/seed-11-0/minimize-noise",
                          "noise/seed-11-1/minimize-noise"}) {
    EXPECT_EQ(read_json(out_ / key / "run.json")["status"], "done") << key;
  }
  EXPECT_EQ(read_json(out_ / "s1/0_0_16_16/maximize-segment-tv/run.json")["options"]["tv"], 0.05);
  EXPECT_EQ(
      read_json(out_ / "noise/seed-11-1/minimize-noise/run.json")["starts"][0]["source"]["noise"],
      "smooth");
}

// Every regular file under `root`, relative, sorted.
std::vector<std::string> files_under(const fs::path& root) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), root).string());
  std::sort(files.begin(), files.end());
  return files;
}

// A run.json without what tells where, when and how fast a run ran, and which batch it was in.
nlohmann::json without_circumstances(nlohmann::json record) {
  for (const char* k : {"started_at", "finished_at", "wall_seconds", "steps_per_second",
                        "crop_steps_per_second", "process"})
    record.erase(k);
  for (const char* k : {"out", "force", "index", "jobs_file", "jobs_line", "key"})
    record["options"].erase(k);
  for (auto& start : record["starts"])
    start.erase("seconds");
  return record;
}

TEST_F(BatchCli, ABatchJobEqualsTheSingleCommand) {
  test::write_text(
      tmp_ / "one.jsonl",
      R"({"mode": "minimize", "segment": "s2", "crops": ["4,6,20,22"], "z0": 1, "seed": 3, "jitter": 1, "save-every": 2})");
  ASSERT_EQ(run_inkgen(batch("one.jsonl", {"--quiet"})).exit_code, 0);
  const auto single = run_inkgen({"minimize",
                                  "--from",
                                  "segment",
                                  "--segment",
                                  (tmp_ / "s2").string(),
                                  "--crop",
                                  "4,6,20,22",
                                  "--z0",
                                  "1",
                                  "--seed",
                                  "3",
                                  "--jitter",
                                  "1",
                                  "--save-every",
                                  "2",
                                  "--model",
                                  model_,
                                  "--steps",
                                  "5",
                                  "--out",
                                  (tmp_ / "single").string(),
                                  "--quiet"});
  ASSERT_EQ(single.exit_code, 0) << single.err;
  // Every file, byte for byte: slices, snapshots, the volume, the diff, the montage.
  const fs::path job = out_ / "s2/4_6_20_22/minimize-segment";
  const auto files = files_under(tmp_ / "single");
  EXPECT_EQ(files_under(job), files);
  EXPECT_GT(files.size(), 10u);
  for (const auto& file : files) {
    if (file != "run.json")
      EXPECT_TRUE(test::read_file(job / file) == test::read_file(tmp_ / "single" / file)) << file;
  }
  EXPECT_EQ(without_circumstances(read_json(job / "run.json")),
            without_circumstances(read_json(tmp_ / "single" / "run.json")));
}

TEST_F(BatchCli, ShardsRunAtOnceWithoutCollidingAndStatusMergesThem) {
  test::write_text(tmp_ / "good.txt", "s1\ns2\ns3\n");
  const auto args = [&](const std::string& shard) {
    return batch("good.txt",
                 {"--crops", "auto", "--mode", "minimize", "--shard", shard, "--quiet"});
  };
  test::BackgroundInkgen a(args("0/2"));
  test::BackgroundInkgen b(args("1/2"));
  EXPECT_EQ(a.finish().exit_code, 0);
  EXPECT_EQ(b.finish().exit_code, 0);
  const auto m0 = parse_manifest_text(test::read_file(out_ / "manifest-shard-0-of-2.jsonl"));
  const auto m1 = parse_manifest_text(test::read_file(out_ / "manifest-shard-1-of-2.jsonl"));
  EXPECT_EQ(m0.lines.size(), 6u);
  EXPECT_EQ(m1.lines.size(), 6u);
  std::set<std::string> keys;
  for (const auto* m : {&m0, &m1}) {
    for (const auto& line : m->lines) {
      EXPECT_TRUE(keys.insert(line["key"].get<std::string>()).second);
      EXPECT_EQ(line["index"].get<int>() % 2, m == &m0 ? 0 : 1);
    }
  }
  const auto status = run_inkgen(
      batch("good.txt", {"--crops", "auto", "--mode", "minimize", "--status", "--json"}));
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const auto s = nlohmann::json::parse(status.out);
  EXPECT_EQ(s["jobs_total"], 12);
  EXPECT_EQ(s["done"], 12);
  EXPECT_EQ(s["manifests"].size(), 2u);
  // Three shards now: nothing left to do for any of them.
  const auto resumed = run_inkgen(batch("good.txt", {"--crops", "auto", "--mode", "minimize",
                                                     "--shard", "2/3", "--json", "--quiet"}));
  ASSERT_EQ(resumed.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(resumed.out)["skipped"], 4);
}

TEST_F(BatchCli, TheSlurmArrayScriptRunsOneShardPerTask) {
  test::write_text(tmp_ / "good.txt", "s1\ns3\n");
  const fs::path script = fs::path(INKGEN_TEST_SOURCE_DIR) / "configs" / "slurm-batch.sh";
  ASSERT_TRUE(fs::is_regular_file(script));
  for (int task = 0; task < 3; ++task) {
    const std::string command = "cd '" + tmp_.path().string() + "' && INKGEN='" + INKGEN_EXE +
                                "' SLURM_ARRAY_TASK_ID=" + std::to_string(task + 1) +
                                " SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=3 bash '" +
                                script.string() +
                                "' good.txt out --crops auto --mode maximize --model '" + model_ +
                                "' --steps 3 >task.log 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << test::read_file(tmp_ / "task.log");
    EXPECT_TRUE(
        fs::is_regular_file(out_ / ("manifest-shard-" + std::to_string(task) + "-of-3.jsonl")));
  }
  EXPECT_EQ(read_manifests(out_).lines.size(), 8u);
  const std::string no_array = "INKGEN='" + std::string(INKGEN_EXE) + "' bash '" + script.string() +
                               "' good.txt out >/dev/null 2>&1";
  EXPECT_NE(std::system(no_array.c_str()), 0);
}

TEST_F(BatchCli, StatusShowsFailuresAndPendingJobs) {
  test::write_text(tmp_ / "jobs.jsonl",
                   R"({"mode": "maximize", "segment": "s1", "crops": ["0,0,16,16", "0,0,12,12"]})");
  EXPECT_EQ(run_inkgen(batch("jobs.jsonl", {"--quiet"})).exit_code, 1);
  test::write_text(
      tmp_ / "jobs.jsonl",
      R"({"mode": "maximize", "segment": "s1", "crops": ["0,0,16,16", "0,0,12,12", "16,16,32,32"]})");
  const auto r = run_inkgen(batch("jobs.jsonl", {"--status"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 jobs: 1 done, 1 failed, 0 interrupted, 0 changed since done, 1 pending"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("failed  s1/0_0_12_12/maximize-segment (line 1): crop 0,0,12,12 is 12x12 "
                       "but model 'tiny-map' takes 16x16; give a crop of that size, e.g. "
                       "0,0,16,16"),
            std::string::npos)
      << r.out;
  // The done job's scores in a line; --json carries each done job's.
  EXPECT_NE(r.out.find("  done: ink probability "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" on average over 1 job (final "), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(run_inkgen(batch("jobs.jsonl", {"--status", "--json"})).out);
  std::size_t scored = 0;
  for (const auto& job : j["jobs"])
    if (job["state"] == "done")
      scored += job.contains("final_score") && job.contains("start_score");
  EXPECT_EQ(scored, 1u) << j.dump();
  // A folder that does not exist holds no batch: a usage error, not "3 pending".
  auto missing = batch("jobs.jsonl", {"--status"});
  missing[3] = (tmp_ / "no-such-out").string();
  test::expect_one_line_error(run_inkgen(missing), 2, "does not exist, so no batch has run there");
  // A folder with no manifest: the counts, and a warning that nothing has run there.
  fs::create_directories(tmp_ / "empty-out");
  missing[3] = (tmp_ / "empty-out").string();
  const auto empty = run_inkgen(missing);
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_NE((empty.out + empty.err).find("holds no manifest: no batch has run there yet"),
            std::string::npos)
      << empty.out << empty.err;
  missing.push_back("--json");
  const auto empty_json = run_inkgen(missing);
  EXPECT_EQ(nlohmann::json::parse(empty_json.out)["pending"], 3);  // stdout stays pure JSON
  EXPECT_NE(empty_json.err.find("holds no manifest"), std::string::npos) << empty_json.err;
}

TEST_F(BatchCli, ProgressOverTheWholeBatchUnlessQuiet) {
  test::write_text(tmp_ / "good.txt", "s1\n");
  const auto r = run_inkgen(batch("good.txt", {"--crops", "auto", "--mode", "maximize"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("batch: 2/4 jobs ended (2 done, 0 failed, 0 done before)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("elapsed, ~"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("batch done: 4 done, 0 failed"), std::string::npos) << r.out;
  fs::remove_all(out_);
  const auto quiet = run_inkgen(batch("good.txt", {"--crops", "auto", "--mode", "maximize", "-q"}));
  EXPECT_EQ(quiet.exit_code, 0);
  EXPECT_TRUE(quiet.err.empty()) << quiet.err;
  EXPECT_TRUE(quiet.out.empty()) << quiet.out;
}

TEST_F(BatchCli, ASampleLargerThanASegmentsTilesSaysSo) {
  test::write_text(tmp_ / "good.txt", "s1\n");
  const auto r = run_inkgen(batch(
      "good.txt", {"--crops", "auto", "--mode", "maximize", "--sample", "10", "--steps", "1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE((r.out + r.err).find("segment s1 has 4 crops inside its"), std::string::npos) << r.out;
  EXPECT_NE((r.out + r.err).find(", fewer than sample 10: all 4 taken"), std::string::npos)
      << r.out;
}

TEST_F(BatchCli, SigintStopsAfterTheStepRecordsTheJobsInterruptedAndExits130) {
  for (int signal : {SIGINT, SIGTERM}) {
    fs::remove_all(out_);
    test::write_text(
        tmp_ / "long.jsonl",
        R"({"mode": "maximize", "segment": "s1", "crops": "auto", "steps": 100000000})");
    test::BackgroundInkgen run(batch("long.jsonl", {"--batch", "2", "--report-every", "5"}));
    const fs::path record = out_ / "s1" / "0_0_16_16" / "maximize-segment" / "run.json";
    for (int i = 0; i < 600 && !fs::exists(record); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    run.signal(signal);
    const auto r = run.finish();
    EXPECT_EQ(r.exit_code, 130) << r.err;
    EXPECT_NE(r.err.find("inkgen: interrupted: 0 done, 2 interrupted, 2 not started"),
              std::string::npos)
        << r.err;
    const auto lines = read_manifests(out_).lines;
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0]["status"], "interrupted");
    EXPECT_GT(lines[0]["steps_done"].get<int>(), 0);
    EXPECT_EQ(read_json(record)["status"], "interrupted");
    EXPECT_TRUE(fs::is_regular_file(record.parent_path() / "result" / "05.png"));
  }
}

}  // namespace
}  // namespace inkgen

namespace inkgen {
namespace {

// A garbled line in the middle of a manifest was skipped in silence; the rerun now says so.
TEST(BatchCliManifest, AGarbledManifestLineIsReportedAndItsJobRunsAgain) {
  test::TempDir tmp;
  test::make_segment(tmp / "s1", test::random_volume(8, 32, 32, 4, 10000, 40000));
  test::write_text(tmp / "list.txt", "s1\n");
  const std::vector<std::string> args{"batch",   (tmp / "list.txt").string(),
                                      "--out",   (tmp / "out").string(),
                                      "--model", test::test_model("tiny-map.pt").string(),
                                      "--steps", "2",
                                      "--crops", "auto",
                                      "--mode",  "maximize"};
  ASSERT_EQ(test::run_inkgen(args).exit_code, 0);
  const fs::path manifest = tmp / "out" / "manifest.jsonl";
  std::string text = test::read_file(manifest);
  const auto second = text.find('\n') + 1;
  text.replace(second, text.find('\n', second) - second, "this is not a record");
  test::write_text(manifest, text);

  const auto r = test::run_inkgen(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The log (spdlog) writes to stdout unless --json.
  EXPECT_NE(r.out.find("warning: 1 line(s) of the manifests"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not job records"), std::string::npos) << r.out;
  const auto quiet = test::run_inkgen([&] {
    auto a = args;
    a.push_back("--quiet");
    return a;
  }());
  EXPECT_EQ(quiet.out + quiet.err, "") << "--quiet prints nothing but errors";
}

}  // namespace
}  // namespace inkgen
