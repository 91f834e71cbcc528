// Hostile input from every channel a user has (command line, --config, a card, a JOBS line, the
// segment folder): each is refused with one line and the README's exit code, never a crash, an
// exit 70 or a silently wrapped value.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <thread>
#include <vector>

#include "inkgen/common/cpu_threads.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

using test::expect_one_line_error;
using test::run_inkgen;
using test::test_model;
namespace fs = std::filesystem;

class CliHostileInput : public ::testing::Test {
 protected:
  void SetUp() override { test::make_segment(tmp_ / "seg", test::random_volume(6, 16, 16, 1)); }
  std::vector<std::string> score(const std::vector<std::string>& extra) {
    std::vector<std::string> args{"score", "--model", scalar_,    "--segment",
                                  seg_,    "--crop",  "0,0,12,12"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  fs::path write(const std::string& name, const std::string& text) {
    test::write_text(tmp_ / name, text);
    return tmp_ / name;
  }
  test::TempDir tmp_;
  const std::string seg_ = (tmp_ / "seg").string();
  const std::string scalar_ = test_model("tiny-scalar.pt").string();
};

// z0 + depth wrapped int and passed the window check (a segfault), from all three channels.
TEST_F(CliHostileInput, AFirstLayerNearTwoToThe31IsAnErrorFromEveryChannel) {
  // score's --z0 has the same bound as the optimizing commands'.
  expect_one_line_error(run_inkgen(score({"--z0", "2147483646"})), 2, "--z0");
  const auto config = write("c.json", R"({"z0": 2147483646})");
  expect_one_line_error(run_inkgen({"--config", config.string(), "score", "--model", scalar_,
                                    "--segment", seg_, "--crop", "0,0,12,12"}),
                        2, "--z0");
  expect_one_line_error(
      run_inkgen({"--config", config.string(), "maximize", "--model", scalar_, "--from", "segment",
                  "--segment", seg_, "--crop", "0,0,12,12", "--out", (tmp_ / "o").string()}),
      2, "--z0 is 2147483646");
  const auto jobs = write(
      "jobs.jsonl", R"({"segment": ")" + seg_ + R"(", "crops": ["0,0,12,12"], "z0": 2147483646})");
  expect_one_line_error(run_inkgen({"batch", jobs.string(), "--model", scalar_, "--mode",
                                    "maximize", "--out", (tmp_ / "b").string()}),
                        3, "line 1: --z0 is 2147483646");
  // Within the bound but beyond the segment: the window check, in 64 bits.
  expect_one_line_error(run_inkgen(score({"--z0", "999999"})), 3,
                        "depth window z0=999999..1000002");
}

TEST_F(CliHostileInput, DeepOrOverflowingJsonIsAOneLineError) {
  const std::string deep = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_one_line_error(run_inkgen({"--config", write("deep.json", deep).string(), "score",
                                    "--model", scalar_, "--segment", seg_, "--crop", "0,0,12,12"}),
                        2, "more than 64 levels deep");
  expect_one_line_error(
      run_inkgen({"--config", write("big.json", R"({"lr": 1e999})").string(), "maximize", "--model",
                  scalar_, "--from", "noise", "--out", (tmp_ / "o").string()}),
      2, "number overflow");
  const std::string line = "{\"segment\": \"" + seg_ +
                           "\", \"crops\": " + std::string(100000, '[') + std::string(100000, ']') +
                           "}";
  expect_one_line_error(run_inkgen({"batch", write("deep.jsonl", line).string(), "--model", scalar_,
                                    "--out", (tmp_ / "b").string()}),
                        3, "line 1: a JOBS line nests lists or objects more than 64 levels deep");
  EXPECT_FALSE(fs::exists(tmp_ / "o"));
}

TEST_F(CliHostileInput, LayersThatAreNotFilesAreNamedAsSuch) {
  const fs::path layers = tmp_ / "seg" / "layers";
  fs::remove(layers / "05.tif");
  fs::create_symlink("06.tif", layers / "05.tif");
  fs::create_symlink("05.tif", layers / "06.tif");
  expect_one_line_error(run_inkgen(score({})), 3, "05.tif cannot be read");
  fs::remove(layers / "06.tif");
  expect_one_line_error(run_inkgen(score({})), 3, "05.tif is a symbolic link to nothing readable");
  fs::remove(layers / "05.tif");
  fs::create_directory(layers / "05.tif");
  expect_one_line_error(run_inkgen(score({})), 3, "05.tif is not a regular file");
}

// With "crops": "auto" the segment is opened while planning; a bad one is one failed job.
TEST_F(CliHostileInput, ASymlinkLoopInOneSegmentFailsOnlyItsJobs) {
  test::make_segment(tmp_ / "good", test::random_volume(6, 12, 12, 2));
  const fs::path layers = tmp_ / "seg" / "layers";
  fs::remove(layers / "05.tif");
  fs::create_symlink("06.tif", layers / "05.tif");
  fs::create_symlink("05.tif", layers / "06.tif");
  const auto jobs = write("jobs.jsonl", R"({"segment": ")" + seg_ + "\", \"crops\": \"auto\"}\n" +
                                            R"({"segment": ")" + (tmp_ / "good").string() +
                                            "\", \"crops\": \"auto\"}\n");
  const auto r = run_inkgen({"batch", jobs.string(), "--model", scalar_, "--mode", "maximize",
                             "--steps", "1", "--quiet", "--out", (tmp_ / "b").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // ran to its end, one job failed
  const std::string manifest = test::read_file(tmp_ / "b" / "manifest.jsonl");
  EXPECT_NE(manifest.find("cannot be read"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("\"done\""), std::string::npos) << manifest;
}

TEST_F(CliHostileInput, ShapesAndScalesThatWouldOverflowAreUsageErrors) {
  const std::string nocard = test_model("tiny-nocard.pt").string();
  const auto with = [&](const std::string& shape, const std::string& scale) {
    return run_inkgen({"score", "--model", nocard, "--input-shape", shape, "--scale", scale,
                       "--segment", seg_, "--crop", "0,0,12,12"});
  };
  expect_one_line_error(with("1,100000,100000,100000", "raw16/65535"), 2,
                        "--input-shape D is 100000");
  expect_one_line_error(with("1,4,60000,60000", "raw16/65535"), 2, "values per sample");
  // 2^28 values passed, and the load check's one forward pass took 13 GB before it failed.
  expect_one_line_error(with("1,64,2048,2048", "raw16/65535"), 2, "values per sample");
  expect_one_line_error(with("1,4,12,99999999999999999999", "raw16/65535"), 2, "is not C,D,H,W");
  expect_one_line_error(with("1,4,12,12", "min(raw16>>99999999999,3)/255"), 2, "the shift S is");
  expect_one_line_error(with("1,4,12,12", "min(raw16>>8,99999999999)/255"), 2, "the clip C is");
  expect_one_line_error(with("1,4,12,12", "min(raw16>>8,-5)/255"), 2, "unknown value scale");
}

TEST_F(CliHostileInput, HugeNumbersAndNamesAreQuotedShort) {
  const std::string digits(100000, '9');
  for (const char* option : {"--steps", "--lr", "--seed", "--batch"}) {
    expect_one_line_error(run_inkgen({"maximize", "--model", scalar_, "--from", "noise", option,
                                      digits, "--out", (tmp_ / "o").string()}),
                          2, option);
  }
  expect_one_line_error(run_inkgen({"maximize", "--model", scalar_, "--from", "noise", "--seed",
                                    "-1", "--out", (tmp_ / "o").string()}),
                        2, "--seed is \"-1\", out of range");
  expect_one_line_error(run_inkgen(score({"--crop", "0,0," + digits + ",12"})), 2, "--crop");
  EXPECT_FALSE(fs::exists(tmp_ / "o"));
}

TEST_F(CliHostileInput, ThreadsAreBoundedByTheCpus) {
  const int cpus = usable_cpus();
  expect_one_line_error(run_inkgen({"--threads", std::to_string(4 * cpus + 1), "score", "--model",
                                    scalar_, "--segment", seg_, "--crop", "0,0,12,12"}),
                        2, "more than 4 per usable CPU");
  EXPECT_EQ(run_inkgen({"--threads", std::to_string(cpus), "--quiet", "score", "--model", scalar_,
                        "--segment", seg_, "--crop", "0,0,12,12"})
                .exit_code,
            0);
}

// tiny-map's logits reach about 16 on this segment; read as probabilities they leave 0..1.
TEST_F(CliHostileInput, AProbabilityModelOutside0To1IsAModelError) {
  test::make_segment(tmp_ / "map", test::random_volume(6, 16, 16, 3));
  expect_one_line_error(run_inkgen({"score", "--model", test_model("tiny-map.pt").string(),
                                    "--output-kind", "probability", "--segment",
                                    (tmp_ / "map").string(), "--crop", "0,0,16,16", "--z0", "0"}),
                        4, "outside 0..1, though its card says \"probability\"");
}

TEST_F(CliHostileInput, AnEmptyMaskPlansNoJobsAndThatIsAnInputError) {
  cv::imwrite((tmp_ / "seg" / "seg_mask.png").string(), cv::Mat::zeros(16, 16, CV_8U));
  const auto jobs = write("jobs.jsonl", R"({"segment": ")" + seg_ + R"(", "crops": "auto"})");
  expect_one_line_error(run_inkgen({"batch", jobs.string(), "--model", scalar_, "--mode",
                                    "maximize", "--out", (tmp_ / "b").string()}),
                        3, "plans no jobs");
}

TEST_F(CliHostileInput, Int32LayersAreCalledSignedIntegers) {
  cv::Mat signed_layer(16, 16, CV_32S, cv::Scalar(5));
  ASSERT_TRUE(cv::imwrite((tmp_ / "seg" / "layers" / "00.tif").string(), signed_layer));
  expect_one_line_error(run_inkgen(score({})), 3, "32-bit signed integer");
}

// A large --batch spends most of its time writing its starts after the last step: a SIGTERM there
// must stop the run between two starts (not after all of them), keep what is written, and record
// which starts have no files and why.
TEST_F(CliHostileInput, ASigtermWhileStartsAreWrittenStopsBetweenTwoOfThem) {
  const int starts = 600;
  const fs::path out = tmp_ / "many";
  test::BackgroundInkgen run({"maximize", "--from", "noise", "--model", scalar_, "--batch",
                              std::to_string(starts), "--steps", "1", "--quiet", "--out",
                              out.string()});
  // The first start's diff is written once the step is over: the writing has begun.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(out / "000" / "diff.tif") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(fs::exists(out / "000" / "diff.tif"));
  run.signal(SIGTERM);
  const auto r = run.finish();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  const auto record = test::read_json(out / "run.json");
  EXPECT_EQ(record.at("status"), "interrupted");
  int written = 0, unwritten = 0;
  for (std::size_t i = 0; i < record.at("starts").size(); ++i) {
    const auto& start = record["starts"][i];
    char folder[8];
    std::snprintf(folder, sizeof folder, "%03zu", i);
    if (start.at("status") == "done") {
      ++written;
      EXPECT_TRUE(fs::exists(out / folder / "diff.tif")) << folder;
    } else {
      ++unwritten;
      EXPECT_EQ(start.at("status"), "interrupted") << folder;
      EXPECT_NE(start.at("error").at("message").get<std::string>().find("before its files"),
                std::string::npos);
      EXPECT_FALSE(fs::exists(out / folder / "diff.tif")) << folder;
    }
  }
  EXPECT_GE(written, 1);
  EXPECT_GT(unwritten, starts / 2) << "the stop came only after " << written << " starts";
}

// Input files that are not files: a FIFO blocked the open for ever (SIGTERM could not end it),
// /dev/zero was read until memory ran out, a folder as the mask read as "no mask" (every tile
// papyrus). Each is refused before it is opened, naming what it is.
TEST_F(CliHostileInput, InputsThatAreNotFilesAreRefusedBeforeTheyAreOpened) {
  const fs::path fifo = tmp_ / "input.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  // Should a build open the FIFO after all, a writer that comes and goes ends its wait.
  std::atomic<bool> done{false};
  std::thread unblock([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done && std::chrono::steady_clock::now() < deadline) {
      const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (const std::string config : {fifo.string(), std::string("/dev/zero"), tmp_.path().string()}) {
    expect_one_line_error(run_inkgen({"--config", config, "maximize", "--model", scalar_, "--from",
                                      "noise", "--out", (tmp_ / "o").string()}),
                          2, "not a file");
    expect_one_line_error(run_inkgen({"batch", config, "--model", scalar_, "--mode", "maximize",
                                      "--out", (tmp_ / "b").string()}),
                          3, "not a file");
  }
  done = true;
  unblock.join();
  expect_one_line_error(run_inkgen({"--config=" + fifo.string() + "-missing", "maximize", "--from",
                                    "noise", "--out", (tmp_ / "o").string()}),
                        2, "not found");
  fs::remove(tmp_ / "seg" / "seg_mask.png");
  fs::create_directories(tmp_ / "seg" / "seg_mask.png");
  expect_one_line_error(run_inkgen(score({})), 3, "mask");
}

// Values whose size made the loss overflow (reported as a model fault), a blur that filled 17 GB,
// a reporting period of 0 that was quietly made 1; and numbers quoted short.
TEST_F(CliHostileInput, OptionValuesAreBoundedBeforeTheRunAndQuotedShort) {
  const auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"maximize", "--model", scalar_,
                                  "--from",   "noise",   "--steps",
                                  "2",        "--out",   (tmp_ / "o").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_inkgen(args);
  };
  expect_one_line_error(
      run({"--blur-every", "1", "--blur-sigma", "1e6"}), 2,
      "--blur-sigma must be a sigma of more than 0 and at most 16 voxels, got 1e+06");
  expect_one_line_error(run({"--tv", "1e308"}), 2,
                        "--tv must be a weight from 0 to 1e6, got 1e+308");
  expect_one_line_error(run({"--l2", "1e308"}), 2, "--l2");
  expect_one_line_error(run({"--batch", "2", "--diversity", "1e308"}), 2, "--diversity");
  expect_one_line_error(run({"--param", "fourier", "--fourier-decay", "1000"}), 2,
                        "--fourier-decay must be from 0 to 8, got 1000");
  expect_one_line_error(run({"--report-every", "0"}), 2, "--report-every must be at least 1");
  expect_one_line_error(run({"--decay", "1e308", "--optimizer", "seed"}), 2, "got 1e+308");
  expect_one_line_error(
      run_inkgen({"attribute", "--model", scalar_, "--segment", seg_, "--crop", "0,0,12,12",
                  "--method", "smoothgrad", "--noise-sd", "1e300", "--out", (tmp_ / "a").string()}),
      2, "--noise-sd must be a positive number up to 1e9, got 1e+300");
  // bench's sizes: --warmup 2147483647 ran until killed, --batch 1e8 until memory ran out.
  expect_one_line_error(run_inkgen({"bench", "--warmup", "2147483647"}), 2, "--warmup");
  expect_one_line_error(run_inkgen({"bench", "--batch", "100000000"}), 2, "--batch");
  // A line of a plain list longer than any path (a 50 MB one was taken as a segment).
  const auto list = write("list.txt", std::string(5000, 'x') + "\n");
  expect_one_line_error(run_inkgen({"batch", list.string(), "--model", scalar_, "--mode",
                                    "maximize", "--out", (tmp_ / "b").string()}),
                        3, "longer than any path");
}

// A hidden layer without positions ([N, C]: tiny-features' "pooled") was "a bug in inkgen" (exit
// 70, "Dimension out of range") for channel and direction objectives; it is a layer like another.
TEST_F(CliHostileInput, ObjectivesOnALayerWithoutPositionsRun) {
  const std::string features = test_model("tiny-features.pt").string();
  test::write_text(tmp_ / "d.json", "[1, 2]");
  for (const std::string objective :
       std::vector<std::string>{"channel:pooled:1", "0.5*channel:pooled:1 + logit",
                                "direction:pooled:" + (tmp_ / "d.json").string()}) {
    const auto r = run_inkgen({"maximize", "--model", features, "--from", "noise", "--steps", "2",
                               "--objective", objective, "--quiet", "--force", "--out",
                               (tmp_ / "o").string()});
    EXPECT_EQ(r.exit_code, 0) << objective << ": " << r.err;
  }
}

// JSON a parser takes without a word: a key given twice (the last won), null (the default), a
// list for a single value, text after a NUL byte (nlohmann stops there).
TEST_F(CliHostileInput, ConfigAndJobsJsonThatMeansTwoThingsIsRefused) {
  const std::string with_nul = std::string("{\"steps\": 2}") + '\0' + "{\"steps\": 300}";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"{\"steps\": 2, \"steps\": 3}", "given twice"},
      {"{\"steps\": null}", "is null"},
      {"{\"steps\": [2]}", "takes one value"},
      {with_nul, "NUL byte"}};
  for (const auto& [text, needle] : cases) {
    const auto config = write("c.json", text);
    expect_one_line_error(run_inkgen({"--config", config.string(), "maximize", "--model", scalar_,
                                      "--from", "noise", "--out", (tmp_ / "o").string()}),
                          2, needle);
    const auto jobs = write("jobs.jsonl", text + "\n");
    expect_one_line_error(run_inkgen({"batch", jobs.string(), "--model", scalar_, "--mode",
                                      "maximize", "--out", (tmp_ / "b").string()}),
                          3, needle == "takes one value" ? "steps" : needle);
  }
  EXPECT_FALSE(fs::exists(tmp_ / "o"));
  // A flag holding a long text was echoed whole by CLI11 ("Could not convert: --json = ...").
  const auto flag = write("flag.json", "{\"quiet\": \"" + std::string(5000, 'x') + "\"}");
  const auto r = run_inkgen({"--config", flag.string(), "info", "--model", scalar_});
  expect_one_line_error(r, 2, "config file key 'quiet' is a flag but holds");
  EXPECT_LT(r.err.size(), 300u) << r.err;
}

TEST_F(CliHostileInput, SpellingsThatLookRightButAreNotAreRefused) {
  const auto maximize = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"maximize", "--model", scalar_, "--from",
                                  "noise",    "--steps", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_inkgen(args);
  };
  const std::string out = (tmp_ / "o").string();
  // An empty --out was the default folder (or the working directory, for batch and synth).
  expect_one_line_error(maximize({"--out", ""}), 2, "--out is empty");
  expect_one_line_error(run_inkgen({"synth", "--out", "", "--size", "32,32"}), 2, "--out is empty");
  const auto jobs = write("jobs.jsonl", "{\"source\": \"noise\"}\n");
  expect_one_line_error(
      run_inkgen({"batch", jobs.string(), "--model", scalar_, "--mode", "maximize", "--out", ""}),
      2, "--out is empty");
  for (const char* shard : {"", " 0/2", "0/2 ", "+1/2"}) {
    expect_one_line_error(run_inkgen({"batch", jobs.string(), "--model", scalar_, "--mode",
                                      "maximize", "--shard", shard, "--out", out}),
                          2, "--shard");
  }
  for (const char* device : {"cuda:", "cuda: 0", "cuda:+0", "cuda:0x1"})
    expect_one_line_error(maximize({"--device", device, "--out", out}), 2, "is not understood");
  expect_one_line_error(
      run_inkgen({"score", "--model", scalar_, "--segment", seg_, "--crop", "0,0,12,12,"}), 2,
      "x1,y1,x2,y2");
  // Numbers on the model's scale: 1e308 made hi - lo infinite (a model error, exit 4), and
  // the message quoted 700 digits.
  expect_one_line_error(maximize({"--range", "0,1e308", "--out", out}), 2, "within +-1e9");
  const auto wide = maximize({"--noise-range", "-1e308,1e308", "--out", out});
  expect_one_line_error(wide, 2, "--noise-range");
  EXPECT_LT(wide.err.size(), 200u) << wide.err;
  const auto threads = run_inkgen({"--threads", "-1", "info", "--model", scalar_});
  expect_one_line_error(threads, 2, "--threads");
  EXPECT_LT(threads.err.size(), 200u) << threads.err;
  // Bytes that are not text come back escaped, not raw.
  const auto bytes = maximize({"--objective", "\xff\xfe\x1b[31m", "--out", out});
  expect_one_line_error(bytes, 2, "\\xFF\\xFE\\x1B[31m");
  EXPECT_EQ(bytes.err.find('\xff'), std::string::npos);
  EXPECT_EQ(bytes.err.find('\x1b'), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp_ / "o"));
}

// A model that is a folder or a FIFO was "not found"; a corrupt mask was called a layer; a
// manifest that is a FIFO or a link to a device took the batch's record and kept nothing.
TEST_F(CliHostileInput, FilesThatAreNotWhatTheyShouldBeAreNamed) {
  fs::create_directories(tmp_ / "model-folder");
  expect_one_line_error(run_inkgen({"info", "--model", (tmp_ / "model-folder").string()}), 4,
                        "is a folder, not a file");
  const fs::path fifo = tmp_ / "model.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  expect_one_line_error(run_inkgen({"info", "--model", fifo.string()}), 4, "is a FIFO");

  test::write_text(tmp_ / "seg" / "seg_mask.png", "not a png");
  expect_one_line_error(
      run_inkgen(score({})), 3,
      "mask " + (tmp_ / "seg" / "seg_mask.png").string() + " is not a readable PNG");
  fs::remove(tmp_ / "seg" / "seg_mask.png");

  const auto jobs = write("jobs.jsonl", "{\"source\": \"noise\", \"steps\": 1}\n");
  for (const std::string kind : {"fifo", "device"}) {
    const fs::path out = tmp_ / ("b-" + kind);
    fs::create_directories(out);
    if (kind == "fifo") {
      ASSERT_EQ(::mkfifo((out / "manifest.jsonl").c_str(), 0644), 0);
    } else {
      fs::create_symlink("/dev/null", out / "manifest.jsonl");
    }
    expect_one_line_error(run_inkgen({"batch", jobs.string(), "--model", scalar_, "--mode",
                                      "maximize", "--quiet", "--out", out.string()}),
                          5, "is not a regular file");
  }
}

// A path that is not UTF-8 (Linux paths are bytes) ended a finished run with exit 70 when run.json
// was written; a name with such bytes was echoed raw. The same crop twice ran twice into one
// folder; 1e-400 was read as 0 and reported back as "got 0".
TEST_F(CliHostileInput, BytesCropsAndNumbersThatWereMisread) {
  const fs::path out = tmp_ / "o\xff";
  const auto run = run_inkgen({"maximize", "--model", scalar_, "--from", "noise", "--steps", "1",
                               "--quiet", "--out", out.string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto record = test::read_json(out / "run.json");
  EXPECT_EQ(record["status"], "done");

  const auto name = run_inkgen({"maximize", "--model", scalar_, "--from", "noise", "--name",
                                "a\xff\x1b", "--out", (tmp_ / "n").string()});
  expect_one_line_error(name, 2, "a\\xFF\\x1B");
  EXPECT_EQ(name.err.find('\xff'), std::string::npos);

  const std::vector<std::string> twice{
      "maximize", "--model",   scalar_,  "--from",    "segment", "--segment",          seg_,
      "--crop",   "0,0,12,12", "--crop", "0,0,12,12", "--out",   (tmp_ / "t").string()};
  expect_one_line_error(run_inkgen(twice), 2, "0,0,12,12 is given twice");
  const auto jobs = write("jobs.jsonl", "{\"segment\": \"" + seg_ +
                                            "\", \"crops\": [\"0,0,12,12\", [0, 0, 12, 12]]}\n");
  expect_one_line_error(run_inkgen({"batch", jobs.string(), "--model", scalar_, "--mode",
                                    "maximize", "--out", (tmp_ / "b").string()}),
                        3, "line 1: \"crops\" 0,0,12,12 is given twice");
  EXPECT_FALSE(fs::exists(tmp_ / "t"));

  // A segment folder whose name is not UTF-8 is recorded with U+FFFD: a batch over it resumed
  // nothing and ran every job again.
  const fs::path odd = test::make_segment(tmp_ / "s\xff", test::random_volume(6, 16, 16, 2));
  const auto list = write("list.txt", odd.string() + "\n");
  const std::vector<std::string> batch{"batch",
                                       list.string(),
                                       "--model",
                                       scalar_,
                                       "--mode",
                                       "maximize",
                                       "--crops",
                                       "auto",
                                       "--steps",
                                       "1",
                                       "--quiet",
                                       "--out",
                                       (tmp_ / "odd").string()};
  ASSERT_EQ(run_inkgen(batch).exit_code, 0);
  const std::string manifest = test::read_file(tmp_ / "odd" / "manifest.jsonl");
  EXPECT_NE(manifest.find("\"status\":\"done\""), std::string::npos) << manifest;
  ASSERT_EQ(run_inkgen(batch).exit_code, 0);
  EXPECT_EQ(test::read_file(tmp_ / "odd" / "manifest.jsonl"), manifest);  // nothing ran again

  for (const char* tiny : {"1e-400", "-2e-320"}) {
    expect_one_line_error(run_inkgen({"maximize", "--model", scalar_, "--from", "noise", "--lr",
                                      tiny, "--out", (tmp_ / "l").string()}),
                          2, std::string("--lr must be a number, got \"") + tiny);
  }
}

// synth of a large segment and bench ran minutes past a SIGTERM; both now stop within seconds.
TEST_F(CliHostileInput, SynthAndBenchHearSigterm) {
  const fs::path out = tmp_ / "big";
  test::BackgroundInkgen synth(
      {"synth", "--size", "2000,2000", "--layers", "65", "--quiet", "--out", out.string()});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  synth.signal(SIGTERM);
  const auto t0 = std::chrono::steady_clock::now();
  const auto s = synth.finish();
  EXPECT_EQ(s.exit_code, 130) << s.err;
  EXPECT_NE(s.err.find("synth interrupted"), std::string::npos) << s.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));

  test::BackgroundInkgen bench({"bench", "--workloads", "bundled", "--peers", "", "--steps", "20",
                                "--batch", "2", "--repeats", "100", "--warmup", "0"});
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  bench.signal(SIGTERM);
  const auto t1 = std::chrono::steady_clock::now();
  const auto b = bench.finish();
  EXPECT_EQ(b.exit_code, 130) << b.err;
  EXPECT_NE(b.err.find("bench interrupted"), std::string::npos) << b.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::seconds(30));
}

TEST_F(CliHostileInput, BenchChecksItsArgumentsBeforeItsBanner) {
  const auto r = run_inkgen({"bench", "--workloads", "bundled,nonsense"});
  expect_one_line_error(r, 2, "unknown workload 'nonsense'");
  EXPECT_EQ(r.err.find("LibTorch"), std::string::npos) << r.err;
  expect_one_line_error(run_inkgen({"bench", "--workloads", "keras", "--keras-model",
                                    (tmp_ / "missing.pt").string()}),
                        4, "--keras-model");
}

}  // namespace
}  // namespace inkgen
