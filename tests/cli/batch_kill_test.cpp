// kill -9 in the middle of a batch, several times, then a rerun: no job is lost, none is done
// twice, no file is half written, and the manifest stays valid JSON Lines.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
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

// Every temporary of an interrupted atomic write, anywhere under `dir`.
std::vector<fs::path> partial_files(const fs::path& dir) {
  std::vector<fs::path> found;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().find(".partial-") != std::string::npos)
      found.push_back(e.path());
  }
  return found;
}

std::size_t manifest_lines(const fs::path& path) {
  return fs::exists(path) ? parse_manifest_text(test::read_file(path)).lines.size() : 0;
}

TEST(BatchKill, KilledBatchesResumeWithoutLosingOrRedoingAJob) {
  test::TempDir tmp;
  for (const char* name : {"a", "b"})
    test::make_segment(tmp / name, test::random_volume(8, 32, 48, name[0], 10000, 40000));
  {
    std::ofstream jobs(tmp / "jobs.jsonl");
    jobs << R"({"mode": "maximize", "segment": "a", "crops": "auto"})"
            "\n"
         << R"({"mode": "minimize", "segment": "b", "crops": "auto", "save-every": 40})"
            "\n"
         << R"({"mode": "maximize", "source": "noise", "count": 3})"
            "\n";
  }
  const fs::path out = tmp / "out";
  const fs::path manifest = out / "manifest.jsonl";
  const std::vector<std::string> args{
      "batch",   (tmp / "jobs.jsonl").string(),      "--out",   out.string(),
      "--model", test_model("tiny-map.pt").string(), "--steps", "400",
      "--quiet"};
  const std::size_t total = 6 + 6 + 3;

  std::map<std::string, std::string> finished;  // key -> its run.json when its line said done
  for (int round = 0; round < 4; ++round) {
    const std::size_t before = manifest_lines(manifest);
    if (before >= total - 2) break;
    test::BackgroundInkgen run(args);
    // Kill it after it has finished a job or two of this round, at a moment that varies.
    for (int i = 0; i < 1200 && manifest_lines(manifest) < before + 1 + round % 2; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(37 * round));
    run.signal(SIGKILL);
    EXPECT_EQ(run.finish().exit_code, 128 + SIGKILL);

    // The manifest: whole JSON lines, at most an unfinished last one, no key done twice.
    const auto read = parse_manifest_text(test::read_file(manifest));
    EXPECT_EQ(read.unreadable, 0u);
    EXPECT_LE(read.torn, 1u);
    std::set<std::string> done;
    for (const auto& line : read.lines) {
      ASSERT_EQ(line["status"], "done") << line.dump();
      const std::string key = line["key"];
      EXPECT_TRUE(done.insert(key).second) << key << " done twice";
      const std::string record = test::read_file(out / key / "run.json");
      EXPECT_EQ(nlohmann::json::parse(record)["status"], "done") << key;
      if (!finished.count(key)) finished[key] = record;
      EXPECT_EQ(finished[key], record) << key << " was redone";
    }
  }
  ASSERT_FALSE(finished.empty());
  ASSERT_LT(finished.size(), total) << "the kills came too late to test anything";

  const auto r = run_inkgen({args.begin(), args.end() - 1});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto read = parse_manifest_text(test::read_file(manifest));
  EXPECT_EQ(read.torn, 0u);
  EXPECT_EQ(read.unreadable, 0u);
  std::map<std::string, int> done_lines;
  for (const auto& line : read.lines)
    ++done_lines[line["key"].get<std::string>()];
  EXPECT_EQ(done_lines.size(), total);
  for (const auto& [key, n] : done_lines) {
    EXPECT_EQ(n, 1) << key << " done " << n << " times";
    const auto record = nlohmann::json::parse(test::read_file(out / key / "run.json"));
    EXPECT_EQ(record["status"], "done") << key;
    for (const char* f : {"start/05.png", "result/05.png", "diff/05.png", "diff.tif",
                          "volume/layers/05.tif", "montage.png"}) {
      EXPECT_TRUE(fs::is_regular_file(out / key / f)) << key << "/" << f;
    }
    if (finished.count(key)) {
      EXPECT_EQ(test::read_file(out / key / "run.json"), finished[key]) << key << " was redone";
    }
  }
  EXPECT_TRUE(partial_files(out).empty()) << partial_files(out).front();
}

}  // namespace
}  // namespace inkgen
