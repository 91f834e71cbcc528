// --force from the command line: it removes the files an earlier run wrote in --out (every start
// folder, whatever its number of digits) and keeps everything else, the user's files inside
// inkgen's folders included.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using test::read_json;
using test::run_inkgen;
using test::test_model;

// Every file and folder under `root`, relative, sorted.
std::vector<std::string> listing(const fs::path& root) {
  std::vector<std::string> all;
  for (const auto& e : fs::recursive_directory_iterator(root))
    all.push_back(fs::relative(e.path(), root).string());
  std::sort(all.begin(), all.end());
  return all;
}

class CliForce : public ::testing::Test {
 protected:
  void SetUp() override { test::make_segment(tmp_ / "seg", raw_); }
  std::vector<std::string> run_args(const std::string& command, const std::string& out,
                                    std::vector<std::string> more) {
    std::vector<std::string> a{
        command,  "--model", test_model("tiny-map.pt").string(), "--out", (tmp_ / out).string(),
        "--quiet"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  std::vector<std::string> from_segment() const {
    return {"--from", "segment",   "--segment", (tmp_ / "seg").string(),
            "--crop", "4,6,20,22", "--z0",      "1"};
  }
  void put(const fs::path& file) { test::write_text(file, "the user's own"); }
  test::TempDir tmp_;
  const RawVolume raw_ = test::random_volume(9, 30, 28, 21, 10000, 40000);
};

TEST_F(CliForce, RemovesWhatTheRunWroteAndKeepsTheUsersFilesInsideItsFolders) {
  ASSERT_EQ(
      run_inkgen(run_args("maximize", "run",
                          {"--from", "noise", "--batch", "3", "--steps", "4", "--save-every", "2"}))
          .exit_code,
      0);
  const fs::path out = tmp_ / "run";
  // What --batch 1001 leaves as its last start folder: one with four digits.
  fs::copy(out / "002", out / "1000", fs::copy_options::recursive);
  for (const char* f : {"notes.txt", "000/notes.txt", "000/result/notes.txt",
                        "001/snapshots/step_000002/notes.txt", "001/volume/layers/notes.txt"})
    put(out / f);
  auto again = run_args("maximize", "run", from_segment());
  again.insert(again.end(), {"--steps", "2", "--force"});
  const auto r = run_inkgen(again);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_json(out / "run.json")["starts"].size(), 1u);
  // The new run's files, and of the earlier run's folders only what holds the user's files.
  std::vector<std::string> left;
  for (const auto& f : listing(out)) {
    const bool new_run = f == "run.json" || f == "montage.png" || f == "diff.tif" ||
                         f.rfind("start", 0) == 0 || f.rfind("result", 0) == 0 ||
                         f.rfind("diff", 0) == 0 || f.rfind("volume", 0) == 0;
    if (!new_run) left.push_back(f);
  }
  EXPECT_EQ(left,
            (std::vector<std::string>{
                "000", "000/notes.txt", "000/result", "000/result/notes.txt", "001",
                "001/snapshots", "001/snapshots/step_000002", "001/snapshots/step_000002/notes.txt",
                "001/volume", "001/volume/layers", "001/volume/layers/notes.txt", "notes.txt"}));
  EXPECT_FALSE(fs::exists(out / "1000"));
  EXPECT_FALSE(fs::exists(out / "snapshots"));
  EXPECT_EQ(test::read_file(out / "000" / "result" / "notes.txt"), "the user's own");
}

TEST_F(CliForce, RemovesAttributesFilesAndKeepsTheUsersFiles) {
  ASSERT_EQ(run_inkgen(run_args("attribute", "run", from_segment())).exit_code, 0);
  const fs::path out = tmp_ / "run";
  ASSERT_TRUE(fs::exists(out / "attribution.tif"));
  put(out / "attribution" / "notes.txt");
  auto again = run_args("maximize", "run", from_segment());
  again.insert(again.end(), {"--steps", "2", "--force"});
  const auto r = run_inkgen(again);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(out / "attribution.tif"));
  EXPECT_EQ(listing(out / "attribution"), std::vector<std::string>{"notes.txt"});
  EXPECT_TRUE(fs::exists(out / "result" / "00.png"));
}

TEST_F(CliForce, ARunWithForceOverAnEarlierRunWritesWhatItWritesInAFreshFolder) {
  const std::vector<std::string> same = {"--from", "noise", "--steps", "5", "--seed", "7"};
  ASSERT_EQ(run_inkgen(run_args("maximize", "fresh", same)).exit_code, 0);
  // An earlier run of another shape in the folder that is reused: start folders, snapshots.
  ASSERT_EQ(
      run_inkgen(run_args("maximize", "reused",
                          {"--from", "noise", "--batch", "2", "--steps", "2", "--save-every", "1"}))
          .exit_code,
      0);
  auto forced = run_args("maximize", "reused", same);
  forced.push_back("--force");
  ASSERT_EQ(run_inkgen(forced).exit_code, 0);
  const auto contents = [&](const fs::path& out) {
    std::map<std::string, std::string> files;
    for (const auto& f : listing(out))
      if (f != "run.json") files[f] = fs::is_regular_file(out / f) ? test::read_file(out / f) : "";
    return files;
  };
  const auto fresh = contents(tmp_ / "fresh");
  const auto reused = contents(tmp_ / "reused");
  EXPECT_GT(fresh.size(), 10u);
  for (const auto& [name, bytes] : reused)
    EXPECT_TRUE(fresh.count(name)) << name << " is left of the earlier run";
  for (const auto& [name, bytes] : fresh)
    EXPECT_TRUE(reused.count(name) && reused.at(name) == bytes) << name;
  EXPECT_EQ(read_json(tmp_ / "reused" / "run.json")["starts"][0]["final_score"],
            read_json(tmp_ / "fresh" / "run.json")["starts"][0]["final_score"]);
}

}  // namespace
}  // namespace inkgen
