// The README's promise that every file inkgen writes is written atomically (a kill -9 or a full
// disk leaves the old file or the new one, never half of one), checked on what the commands really
// open: a preload library logs every file the process opens for writing, and each one under the
// test's folder must be a temporary of write_atomically (".NAME.partial-PID-TAG", renamed over NAME
// when complete), a batch's lock file, or a manifest opened for appending whole lines.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using test::run_inkgen;
using test::test_model;

bool is_temporary(const std::string& name) {
  return name.size() > 1 && name[0] == '.' && name.find(".partial-") != std::string::npos;
}

bool ends_with(const std::string& s, const std::string& end) {
  return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

class CliAtomicWrites : public ::testing::Test {
 protected:
  void SetUp() override {
    if (INKGEN_SANITIZED) GTEST_SKIP() << "a preload library cannot go before ASan's runtime";
    test::make_segment(tmp_ / "seg", test::random_volume(9, 30, 28, 21, 10000, 40000));
  }
  // Runs a command with the log on; returns what it opened for writing: path -> how.
  std::map<std::string, std::set<std::string>> opened_by(const std::vector<std::string>& args) {
    const fs::path log = tmp_ / "opened.log";
    fs::remove(log);
    const auto r = run_inkgen(
        args, {"LD_PRELOAD=" INKGEN_WRITE_LOG_PRELOAD, "INKGEN_WRITE_LOG=" + log.string()});
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    std::map<std::string, std::set<std::string>> opened;
    std::ifstream in(log);
    std::string how, path;
    while (in >> how && std::getline(in >> std::ws, path)) {
      if (path.rfind(root_, 0) == 0) opened[path.substr(root_.size() + 1)].insert(how);
    }
    return opened;
  }
  // Checks the writes of one command; `expected` are files it must have written (through a
  // temporary beside them), which shows that the log saw the command at all.
  void expect_atomic(const std::vector<std::string>& args,
                     const std::vector<std::string>& expected) {
    const auto opened = opened_by(args);
    std::set<std::string> renamed_onto;
    for (const auto& [path, hows] : opened) {
      const fs::path p(path);
      const std::string name = p.filename().string();
      if (is_temporary(name)) {
        renamed_onto.insert(
            (p.parent_path() / name.substr(1, name.find(".partial-") - 1)).string());
        continue;
      }
      if (ends_with(name, ".lock")) continue;
      if (ends_with(name, ".jsonl") && hows == std::set<std::string>{"append"}) continue;
      ADD_FAILURE() << args[0] << " wrote " << path << " in place (" << *hows.begin()
                    << "), not through a temporary renamed over it";
    }
    for (const auto& file : expected)
      EXPECT_EQ(renamed_onto.count(file), 1u) << args[0] << " did not write " << file;
  }
  std::vector<std::string> with_model(std::vector<std::string> args) const {
    args.insert(args.end(), {"--model", model_, "--quiet"});
    return args;
  }
  test::TempDir tmp_;
  const std::string root_ = fs::canonical(tmp_ / ".").string();
  const std::string model_ = test_model("tiny-map.pt").string();
};

TEST_F(CliAtomicWrites, SingleRunsWriteEveryFileThroughATemporary) {
  const std::string seg = (tmp_ / "seg").string();
  expect_atomic(
      with_model({"maximize", "--from", "segment", "--segment", seg, "--crop", "4,6,20,22", "--z0",
                  "1", "--steps", "3", "--save-every", "1", "--out", (tmp_ / "max").string()}),
      {"max/run.json", "max/diff.tif", "max/montage.png", "max/volume/layers/00.tif",
       "max/snapshots/step_000001/00.png", "max/result/00.png"});
  expect_atomic(with_model({"minimize", "--from", "noise", "--batch", "2", "--steps", "2", "--out",
                            (tmp_ / "min").string()}),
                {"min/run.json", "min/000/run.json", "min/001/diff.tif"});
  expect_atomic(with_model({"attribute", "--from", "segment", "--segment", seg, "--crop",
                            "4,6,20,22", "--z0", "1", "--out", (tmp_ / "attr").string()}),
                {"attr/run.json", "attr/attribution.tif"});
  expect_atomic(
      {"synth", "--out", (tmp_ / "synth").string(), "--size", "96,64", "--layers", "12", "--quiet"},
      {"synth/layers/00.tif", "synth/synth_ink.tif", "synth/synth_synth.json"});
  expect_atomic({"report", (tmp_ / "max").string(), "--quiet"}, {"max/report.html"});
}

TEST_F(CliAtomicWrites, BatchJobsManifestsAndAtlasesToo) {
  test::write_text(tmp_ / "jobs.jsonl", R"({"mode": "maximize", "segment": ")" +
                                            (tmp_ / "seg").string() +
                                            R"(", "crops": ["4,6,20,22"], "z0": 1})"
                                            "\n"
                                            R"({"mode": "minimize", "source": "noise", "count": 2})"
                                            "\n");
  expect_atomic(with_model({"batch", (tmp_ / "jobs.jsonl").string(), "--out",
                            (tmp_ / "out").string(), "--steps", "2"}),
                {"out/seg/4_6_20_22/maximize-segment/run.json",
                 "out/seg/4_6_20_22/maximize-segment/diff.tif"});
  expect_atomic({"report", (tmp_ / "out").string(), "--quiet"}, {"out/report.html"});
}

}  // namespace
}  // namespace inkgen
