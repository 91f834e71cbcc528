// Faults and bad input through `inkgen batch`: a bad JOBS file stops it before anything runs
// (one line, exit 2 or 3); a bad segment, crop, model or output folder fails its job alone (a
// manifest line with the error, exit 1); an output that cannot be written at all is exit 5.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "inkgen/jobs/manifest.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using test::expect_one_line_error;
using test::run_inkgen;
using test::test_model;

// Runs inkgen with every file it writes limited to `bytes` (RLIMIT_FSIZE): writes past the limit
// fail with EFBIG, as they would on a full disk. Root is bound by this limit too.
test::CommandResult run_with_file_size_limit(std::size_t bytes,
                                             const std::vector<std::string>& args,
                                             const fs::path& capture) {
  const pid_t child = ::fork();
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // report EFBIG instead of killing the process
    const int err = ::open((capture / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, 2);
    const rlimit limit{static_cast<rlim_t>(bytes), static_cast<rlim_t>(bytes)};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    std::vector<std::string> storage{INKGEN_EXE};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : storage)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  test::CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = test::read_file(capture / "err");
  return r;
}

class BatchFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    test::make_segment(tmp_ / "good", test::random_volume(8, 32, 32, 1, 10000, 40000));
  }
  std::vector<std::string> batch(const std::string& jobs, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{
        "batch",  (tmp_ / jobs).string(), "--out", out_.string(), "--model", model_, "--steps", "3",
        "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  // A JOBS text that must be refused before anything runs, with its exit code and message.
  struct Refusal {
    std::string text;
    int code;
    std::string needle;
    std::vector<std::string> extra;
  };
  // Runs them all at once (each inkgen spends a second loading LibTorch) and checks each.
  void expect_refused(const std::vector<Refusal>& cases) {
    std::vector<std::unique_ptr<test::BackgroundInkgen>> runs;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const std::string jobs = "jobs-" + std::to_string(i) + ".jsonl";
      test::write_text(tmp_ / jobs, cases[i].text);
      runs.push_back(std::make_unique<test::BackgroundInkgen>(batch(jobs, cases[i].extra)));
    }
    for (std::size_t i = 0; i < cases.size(); ++i) {
      SCOPED_TRACE(cases[i].text);
      expect_one_line_error(runs[i]->finish(), cases[i].code, cases[i].needle);
    }
    EXPECT_FALSE(fs::exists(out_)) << "a refused batch made --out";
  }
  // The manifest line of the job whose key starts with `prefix`.
  nlohmann::json line_of(const std::string& prefix) {
    for (const auto& line : read_manifests(out_).lines)
      if (line["key"].get<std::string>().rfind(prefix, 0) == 0) return line;
    ADD_FAILURE() << "no manifest line for " << prefix;
    return nlohmann::json::object();
  }
  test::TempDir tmp_;
  const fs::path out_ = tmp_ / "out";
  const std::string model_ = test_model("tiny-map.pt").string();
  const std::string good_job_ =
      R"({"mode": "maximize", "segment": "good", "crops": ["0,0,16,16"]})";
};

TEST_F(BatchFaults, ABadJobsFileIsRefusedBeforeAnythingRuns) {
  const std::string noise = R"({"mode": "maximize", "source": "noise", )";
  expect_refused({
      {"", 3, "jobs-0.jsonl holds no jobs", {}},
      {"# nothing but a comment\n\n", 3, "holds no jobs", {}},
      {good_job_ + "\n{\"mode\": \"maximize\", \"segment\": \"good\",\n",
       3,
       "jobs-2.jsonl line 2: a JOBS line is not valid JSON",
       {}},
      {good_job_ + "\n" + R"({"mode": "maximize", "stepz": 5})",
       3,
       "jobs-3.jsonl line 2: unknown key \"stepz\"",
       {}},
      {noise + R"("steps": 0})", 3, "line 1: --steps must be at least 1, got 0", {}},
      {noise + R"("steps": -5})", 3, "--steps", {}},
      {noise + R"("lr": "nan"})", 3, "--lr must be a positive finite number", {}},
      {noise + R"("lr": "inf"})", 3, "--lr", {}},
      {noise + R"("lr": 1e999})", 3, "line 1: a JOBS line is not valid JSON (number overflow", {}},
      {noise + R"("lr": NaN})", 3, "line 1: a JOBS line is not valid JSON", {}},
      {good_job_ + "\n" + good_job_, 3, "lines 1 and 2 both write", {}},
      // The same values on the command line are usage errors.
      {good_job_, 2, "--steps", {"--steps", "0"}},
      {good_job_, 2, "--lr", {"--lr", "nan"}},
      {good_job_, 2, "--lr", {"--lr", "inf"}},
      {good_job_, 2, "--shard", {"--shard", "2/2"}},
      {good_job_, 2, "--batch", {"--batch", "0"}},
  });
  const auto missing = run_inkgen(batch("missing.jsonl"));
  expect_one_line_error(missing, 3, "jobs file");
  expect_one_line_error(missing, 3, "missing.jsonl not found");
}

TEST_F(BatchFaults, BadSegmentsFailTheirJobsAndTheRestRun) {
  const RawVolume v = test::random_volume(8, 32, 32, 2, 10000, 40000);
  for (const char* name : {"garbage", "bits", "sizes", "mask"})
    test::make_segment(tmp_ / name, v);
  test::write_text(tmp_ / "garbage" / "layers" / "04.tif", "this is not a TIFF file");
  cv::imwrite((tmp_ / "bits" / "layers" / "04.tif").string(),
              cv::Mat(32, 32, CV_8UC1, cv::Scalar(7)));
  cv::imwrite((tmp_ / "sizes" / "layers" / "04.tif").string(),
              cv::Mat(30, 32, CV_16UC1, cv::Scalar(7)));
  cv::imwrite((tmp_ / "mask" / "mask_mask.png").string(),
              cv::Mat(16, 16, CV_8UC1, cv::Scalar(255)));
  std::string jobs;
  for (const char* name : {"garbage", "bits", "good", "sizes", "mask"})
    jobs += std::string(R"({"mode": "maximize", "segment": ")") + name +
            R"(", "crops": ["0,0,16,16"]})" + "\n";
  jobs += R"({"mode": "maximize", "segment": "good", "crops": ["0,0,12,12"], "name": "small"})"
          "\n";
  jobs += R"({"mode": "maximize", "segment": "good", "crops": ["24,24,40,40"], "name": "outside"})"
          "\n";
  jobs +=
      R"({"mode": "maximize", "segment": "good", "crops": ["0,0,16,16"], "z0": 5, "name": "deep"})"
      "\n";
  test::write_text(tmp_ / "jobs.jsonl", jobs);
  const auto r = run_inkgen(batch("jobs.jsonl"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("inkgen: error: 7 of 8 jobs failed (1 done, 0 done before)", 0), 0u)
      << r.err;
  EXPECT_EQ(line_of("good/0_0_16_16/maximize-segment")["status"], "done");
  const auto check = [&](const std::string& key, const std::string& kind,
                         const std::string& needle) {
    const auto line = line_of(key);
    EXPECT_EQ(line["status"], "failed") << key;
    EXPECT_EQ(line["error"]["kind"], kind) << key;
    const std::string message = line["error"]["message"];
    EXPECT_NE(message.find(needle), std::string::npos) << key << ": " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  };
  check("garbage/", "input", "is not a readable TIFF");
  check("bits/", "input", "-bit but layer 0 is 16-bit");
  check("sizes/", "input", "all layers of a segment must have one size");
  check("mask/", "input", "the mask must match the layers");
  check("good/0_0_12_12/", "input", "takes 16x16");
  check("good/24_24_40_40/", "input", "lies outside segment 'good'");
  check("good/0_0_16_16/maximize-segment-deep", "input", "goes beyond segment 'good'");
}

TEST_F(BatchFaults, ATruncatedLayerFailsItsJobWhenItsPixelsAreRead) {
  // A striped TIFF whose last strips are gone: the header reads, the pixels do not.
  test::make_segment(tmp_ / "cut", test::random_volume(8, 32, 32, 3, 10000, 40000));
  const fs::path layer = tmp_ / "cut" / "layers" / "04.tif";
  const std::string all = test::read_file(layer);
  test::write_text(tmp_ / "jobs.jsonl",
                   R"({"mode": "maximize", "segment": "cut", "crops": ["0,0,16,16"]})"
                   "\n" +
                       good_job_);
  test::write_text(layer, all.substr(0, all.size() / 2));
  const auto r = run_inkgen(batch("jobs.jsonl"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto line = line_of("cut/");
  EXPECT_EQ(line["status"], "failed");
  const std::string message = line["error"]["message"];
  EXPECT_TRUE(message.find("truncated or corrupt") != std::string::npos ||
              message.find("is not a readable TIFF") != std::string::npos)
      << message;
  EXPECT_EQ(line_of("good/")["status"], "done");
}

TEST_F(BatchFaults, AModelWhoseOutputTurnsNanFailsItsJobAndTheBatchGoesOn) {
  test::write_text(tmp_ / "jobs.jsonl",
                   std::string(R"({"mode": "minimize", "source": "noise", "model": ")") +
                       test_model("tiny-nan.pt").string() + R"(", "steps": 200, "lr": 0.05})" +
                       "\n" + good_job_ + "\n" +
                       R"({"mode": "maximize", "source": "noise", "model": "no-such-model.pt"})"
                       "\n");
  const auto r = run_inkgen(batch("jobs.jsonl"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("2 of 3 jobs failed (1 done"), std::string::npos) << r.err;
  const auto nan = line_of("noise/seed-0-0/minimize-noise");
  EXPECT_EQ(nan["error"]["kind"], "model");
  EXPECT_NE(nan["error"]["message"].get<std::string>().find("output turned NaN or infinite"),
            std::string::npos);
  EXPECT_EQ(line_of("good/")["status"], "done");
  EXPECT_EQ(line_of("noise/seed-0-0/maximize-noise")["error"]["kind"], "model");
}

TEST_F(BatchFaults, AnOutputFolderUnderAFileIsExit5) {
  test::write_text(tmp_ / "jobs.jsonl", good_job_);
  test::write_text(tmp_ / "a-file", "x");
  auto args = batch("jobs.jsonl");
  args[3] = (tmp_ / "a-file" / "out").string();
  expect_one_line_error(run_inkgen(args), 5, "cannot write");
}

TEST_F(BatchFaults, AJobFolderThatCannotBeMadeFailsThatJobOnly) {
  test::write_text(tmp_ / "jobs.jsonl",
                   good_job_ + "\n" + R"({"mode": "minimize", "source": "noise"})" + "\n");
  fs::create_directories(out_);
  test::write_text(out_ / "good", "a file where the segment's folder would go");
  const auto r = run_inkgen(batch("jobs.jsonl"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto line = line_of("good/");
  EXPECT_EQ(line["error"]["kind"], "output");
  EXPECT_EQ(line_of("noise/")["status"], "done");
}

// A manifest that cannot take its line stops the batch: nothing may run unrecorded.
TEST_F(BatchFaults, AFullDiskUnderTheManifestIsExit5) {
  test::write_text(tmp_ / "jobs.jsonl", good_job_);
  // 64 bytes per file: no manifest line fits (nor the job's files, whose failure is a line too).
  const auto r = run_with_file_size_limit(64, batch("jobs.jsonl"), tmp_.path());
  EXPECT_EQ(r.exit_code, 5) << r.err;
  // The limit cuts stderr at 64 bytes too: the start of the message is what can be read.
  EXPECT_EQ(r.err.rfind("inkgen: error: cannot append to batch manifest", 0), 0u) << r.err;
  // A manifest that is a device (until stop 29, /dev/full stood in for a full disk) is refused
  // before any job runs: /dev/null would have taken every line and kept none.
  fs::remove_all(out_);
  fs::create_directories(out_);
  fs::create_symlink("/dev/full", out_ / "manifest.jsonl");
  expect_one_line_error(run_inkgen(batch("jobs.jsonl")), 5, "is not a regular file");
  EXPECT_FALSE(fs::exists(out_ / "good"));
}

TEST_F(BatchFaults, AFullDiskUnderAJobsFilesFailsThatJobAndIsRecorded) {
  test::write_text(tmp_ / "jobs.jsonl", good_job_);
  // 4 KB per file: a manifest line fits, the job's diff.tif (6 slices of 16x16 floats) does not.
  const auto r = run_with_file_size_limit(4096, batch("jobs.jsonl"), tmp_.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto line = line_of("good/");
  EXPECT_EQ(line["status"], "failed");
  EXPECT_EQ(line["error"]["kind"], "output");
  // libtiff's words for EFBIG ("Write error at scanline 0") or ours (strerror: "File too large").
  EXPECT_EQ(line["error"]["message"].get<std::string>().rfind("cannot write " + out_.string(), 0),
            0u)
      << line.dump();
  // With room again, the rerun replaces the partial folder.
  ASSERT_EQ(run_inkgen(batch("jobs.jsonl")).exit_code, 0);
  EXPECT_EQ(line_of("good/")["status"], "failed");  // the first line is still there...
  const auto lines = read_manifests(out_).lines;
  EXPECT_EQ(lines.back()["status"], "done");  // ...and the latest says done
}

TEST_F(BatchFaults, TwoBatchesOnOneManifestAreRefused) {
  test::write_text(
      tmp_ / "jobs.jsonl",
      R"({"mode": "maximize", "segment": "good", "crops": ["0,0,16,16"], "steps": 100000000})");
  test::BackgroundInkgen first(batch("jobs.jsonl"));
  for (int i = 0; i < 600 && !fs::exists(out_ / "good/0_0_16_16/maximize-segment/run.json"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  expect_one_line_error(run_inkgen(batch("jobs.jsonl")), 5, "another inkgen batch is writing");
  // Another shard is another manifest: it may run beside it.
  first.signal(SIGINT);
  EXPECT_EQ(first.finish().exit_code, 130);
}

TEST_F(BatchFaults, BatchesOfDifferentShardCountsOnOneOutAreRefusedWhileTheyRun) {
  const std::string first_job = R"({"mode": "maximize", "segment": "good", "crops": ["0,0,16,16"])";
  const std::string second_job =
      R"({"mode": "maximize", "segment": "good", "crops": ["16,16,32,32"]})";
  test::write_text(tmp_ / "long.jsonl", first_job +
                                            R"(, "steps": 100000000})"
                                            "\n" +
                                            second_job + "\n");
  // The same jobs, short: a batch that is wrongly let run ends instead of running forever.
  test::write_text(tmp_ / "jobs.jsonl", first_job + "}\n" + second_job + "\n");
  test::BackgroundInkgen first(batch("long.jsonl", {"--shard", "0/2"}));
  for (int i = 0; i < 600 && !fs::exists(out_ / "good/0_0_16_16/maximize-segment/run.json"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // The other shard of the same count runs beside it...
  EXPECT_EQ(run_inkgen(batch("long.jsonl", {"--shard", "1/2"})).exit_code, 0);
  // ...an unsharded batch or another count, which would run its jobs again, is refused.
  expect_one_line_error(run_inkgen(batch("jobs.jsonl")), 5,
                        "is running on " + out_.string() + " with --shard i/2");
  expect_one_line_error(run_inkgen(batch("jobs.jsonl", {"--shard", "0/3"})), 5,
                        "run this one with --shard i/2");
  first.signal(SIGINT);
  EXPECT_EQ(first.finish().exit_code, 130);
  // One after the other any count may run, and it resumes from every shard's manifest.
  const auto after = run_inkgen(batch("jobs.jsonl", {"--json"}));
  EXPECT_EQ(after.exit_code, 0) << after.err;
  const auto summary = test::json_of(after);
  EXPECT_EQ(summary["skipped"], 1);
  EXPECT_EQ(summary["done"], 1);
  std::map<std::string, std::string> latest_shard;
  for (const auto& line : read_manifests(out_).lines)
    latest_shard[line["key"]] = line["shard"];
  EXPECT_EQ(latest_shard["good/0_0_16_16/maximize-segment"], "0/1");
  EXPECT_EQ(latest_shard["good/16_16_32_32/maximize-segment"], "1/2");
}

}  // namespace
}  // namespace inkgen
