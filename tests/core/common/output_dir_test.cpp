#include "inkgen/common/output_dir.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "inkgen/common/error.hpp"
#include "inkgen/common/run_liveness.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;

// A run killed with SIGKILL leaves run.json "running"; the next inkgen to meet it says so.
TEST(OutputDir, ARunWhoseProcessIsGoneIsMarkedInterruptedWhenFound) {
  test::TempDir tmp;
  fs::create_directories(tmp / "out");
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  waitpid(child, nullptr, 0);  // a pid that no process has now
  nlohmann::json record = {{"status", "running"}, {"process", process_stamp()}, {"starts", {}}};
  record["process"]["pid"] = child;
  test::write_text(tmp / "out" / "run.json", record.dump());
  try {
    prepare_output_dir(tmp / "out", Overwrite::refuse);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::output);
    EXPECT_NE(std::string(e.what()).find("killed while running"), std::string::npos) << e.what();
  }
  const auto marked = test::read_json(tmp / "out" / "run.json");
  EXPECT_EQ(marked["status"], "interrupted");
  EXPECT_EQ(marked["error"]["kind"], "interrupted");

  // A live process (this one), another host, or no process stamp: left as it is.
  for (const auto& change : std::vector<std::pair<std::string, nlohmann::json>>{
           {"pid", static_cast<long long>(getpid())}, {"host", "elsewhere"}}) {
    nlohmann::json live = record;
    live["process"][change.first] = change.second;
    test::write_text(tmp / "out" / "run.json", live.dump());
    EXPECT_FALSE(mark_abandoned_run(tmp / "out" / "run.json")) << change.first;
    EXPECT_EQ(test::read_json(tmp / "out" / "run.json")["status"], "running");
  }
  test::write_text(tmp / "out" / "run.json", R"({"status": "running"})");
  EXPECT_FALSE(mark_abandoned_run(tmp / "out" / "run.json"));
}

TEST(OutputDir, CreatesAMissingFolder) {
  test::TempDir tmp;
  prepare_output_dir(tmp / "a" / "b", Overwrite::refuse);
  EXPECT_TRUE(fs::is_directory(tmp / "a" / "b"));
}

TEST(OutputDir, RefusesAnExistingRunWithoutForce) {
  test::TempDir tmp;
  fs::create_directories(tmp / "out");
  std::ofstream(tmp / "out" / "run.json") << "{}";
  try {
    prepare_output_dir(tmp / "out", Overwrite::refuse);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::output);
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos);
  }
  EXPECT_TRUE(fs::exists(tmp / "out" / "run.json"));  // nothing lost
}

// Writes `file` (relative to `root`), making its folders.
void put(const fs::path& root, const std::string& file, const std::string& text = "x") {
  fs::create_directories((root / file).parent_path());
  test::write_text(root / file, text);
}

// Every file and folder under `root`, relative, sorted.
std::vector<std::string> tree(const fs::path& root) {
  std::vector<std::string> all;
  for (const auto& e : fs::recursive_directory_iterator(root))
    all.push_back(fs::relative(e.path(), root).string());
  std::sort(all.begin(), all.end());
  return all;
}

// What runs of every kind leave (README "What a run writes"): a single start, start folders of a
// --batch (1000/ from --batch 1001), attribute's files, snapshots, temporaries of a killed write.
const char* const inkgen_files[] = {
    "run.json",
    "montage.png",
    "diff.tif",
    "attribution.tif",
    "report.html",
    ".run.json.partial-123-456789",
    "start/00.png",
    "start/64.png",
    "result/00.png",
    "result/.07.png.partial-1-2",
    "diff/00.png",
    "attribution/00.png",
    "volume/volume_mask.png",
    "volume/layers/00.tif",
    "volume/layers/1000.tif",
    "snapshots/step_000010/00.png",
    "snapshots/step_1000000/000.png",
    "000/run.json",
    "000/montage.png",
    "000/diff.tif",
    "000/report.html",
    "000/start/00.png",
    "000/result/00.png",
    "000/diff/00.png",
    "000/volume/layers/00.tif",
    "000/volume/volume_mask.png",
    "000/snapshots/step_000005/00.png",
    "001/run.json",
    "1000/run.json",
    "1000/result/00.png",
    "12345/attribution/00.png",
};

TEST(OutputDir, ForceRemovesEveryFileInkgenWrites) {
  test::TempDir tmp;
  const fs::path out = tmp / "out";
  for (const char* f : inkgen_files)
    put(out, f);
  prepare_output_dir(out, Overwrite::allow);
  EXPECT_TRUE(fs::is_directory(out));
  EXPECT_EQ(tree(out), std::vector<std::string>{});
}

TEST(OutputDir, ForceKeepsEveryOtherFileAndTheFoldersThatHoldThem) {
  test::TempDir tmp;
  const fs::path out = tmp / "out";
  for (const char* f : inkgen_files)
    put(out, f);
  // A user's files beside ours in every folder inkgen writes, and names that only look like ours.
  const std::vector<std::string> theirs = {
      "notes.txt",
      "run.json.bak",
      "montage.PNG",
      "12",                      // a file, not a start folder (and two digits only)
      "99/run.json",             // two digits: not a start folder
      "mine/run.json",           // run.json in a folder that is not ours
      ".notes.txt.partial-1-2",  // the temporary of a name that is not ours
      "start/notes.txt",
      "start/00.png.txt",
      "start/sub/00.png",
      "result/notes.txt",
      "diff/notes.txt",
      "attribution/notes.txt",
      "volume/notes.txt",
      "volume/layers/notes.txt",
      "volume/layers/00.png",
      "snapshots/notes.txt",
      "snapshots/step_000010/notes.txt",
      "snapshots/mine/00.png",
      "000/notes.txt",
      "000/result/notes.txt",
      "000/000/run.json",  // no start folders inside a start folder
      "1000/volume/layers/notes.txt",
  };
  for (const auto& f : theirs)
    put(out, f, "mine");
  fs::create_directories(out / "diff.tif.d");
  fs::create_directories(out / "run.json.d");
  prepare_output_dir(out, Overwrite::allow);
  for (const auto& f : theirs)
    EXPECT_EQ(test::read_file(out / f), "mine") << f;
  EXPECT_TRUE(fs::is_directory(out / "diff.tif.d"));
  // Nothing of ours is left beside them: what remains is theirs and the folders that hold it.
  for (const char* f : inkgen_files)
    EXPECT_FALSE(fs::exists(out / f)) << f;
  EXPECT_FALSE(fs::exists(out / "001"));                   // emptied: gone
  EXPECT_FALSE(fs::exists(out / "1000" / "result"));       // emptied: gone
  EXPECT_TRUE(fs::is_directory(out / "1000" / "volume"));  // holds their file
  EXPECT_FALSE(fs::exists(out / "1000" / "run.json"));
}

TEST(OutputDir, ForceNeverFollowsOrRemovesALink) {
  test::TempDir tmp;
  const fs::path out = tmp / "out";
  put(tmp.path(), "elsewhere/00.png", "mine");
  put(tmp.path(), "elsewhere/run.json", "mine");
  put(out, "run.json");
  fs::create_directories(out);
  fs::create_directory_symlink(tmp / "elsewhere", out / "result");
  fs::create_directory_symlink(tmp / "elsewhere", out / "000");
  fs::create_symlink(tmp / "elsewhere" / "run.json", out / "montage.png");
  prepare_output_dir(out, Overwrite::allow);
  EXPECT_FALSE(fs::exists(out / "run.json"));
  EXPECT_TRUE(fs::is_symlink(out / "result"));
  EXPECT_TRUE(fs::is_symlink(out / "000"));
  EXPECT_TRUE(fs::is_symlink(out / "montage.png"));
  EXPECT_EQ(test::read_file(tmp / "elsewhere" / "00.png"), "mine");
  EXPECT_EQ(test::read_file(tmp / "elsewhere" / "run.json"), "mine");
}

TEST(OutputDir, AFileInTheWay) {
  test::TempDir tmp;
  std::ofstream(tmp / "f") << "x";
  EXPECT_THROW(prepare_output_dir(tmp / "f", Overwrite::allow), Error);
}

}  // namespace
}  // namespace inkgen
