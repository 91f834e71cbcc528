// The batch page's rows (report.html's table) from a batch folder's manifests.
#include "inkgen/batch/batch_report.hpp"

#include <gtest/gtest.h>

#include "inkgen/common/error.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json line(const std::string& key, int index, const std::string& status, double time_ms) {
  json l = {
      {"key", key},    {"index", index},     {"status", status},         {"mode", "maximize"},
      {"folder", key}, {"time_ms", time_ms}, {"segment", "/data/seg-1"}, {"crop", "0,0,64,64"}};
  if (status == "failed")
    l["error"] = {{"kind", "input"}, {"message", "layer 03.tif is cut short"}};
  if (status == "done") {
    l["start_score"] = {{"probability", 0.1}};
    l["final_score"] = {{"probability", 0.9}};
    l["steps_done"] = 40;
  }
  return l;
}

void write_lines(const fs::path& file, const std::vector<json>& lines) {
  std::string text;
  for (const auto& l : lines)
    text += l.dump() + "\n";
  test::write_text(file, text);
}

TEST(BatchReport, FailuresComeFirstThenTheBatchOrderAndTheLatestLineWins) {
  test::TempDir tmp;
  write_lines(tmp / "manifest.jsonl", {line("a", 0, "done", 1), line("b", 1, "failed", 2),
                                       line("c", 2, "failed", 3), line("d", 3, "done", 4)});
  // A later shard's manifest: c was rerun and is done now.
  write_lines(tmp / "manifest-shard-0-of-2.jsonl", {line("c", 2, "done", 9)});
  const json rows = batch_report_rows(tmp.path());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["key"], "b");
  EXPECT_EQ(rows[0]["status"], "failed");
  EXPECT_EQ(rows[0]["error"], "layer 03.tif is cut short");
  EXPECT_EQ(rows[1]["key"], "a");
  EXPECT_EQ(rows[2]["key"], "c");
  EXPECT_EQ(rows[2]["status"], "done");
  EXPECT_EQ(rows[3]["key"], "d");
  EXPECT_EQ(rows[1]["p_final"], 0.9);
  EXPECT_EQ(rows[1]["segment"], "seg-1");
  EXPECT_TRUE(rows[0]["p_final"].is_null());
}

TEST(BatchReport, LinksOnlyJobFoldersInsideTheBatchThatHoldARun) {
  test::TempDir tmp;
  write_lines(tmp / "manifest.jsonl",
              {line("s/0_0_64_64/maximize-segment", 0, "done", 1), line("../outside", 1, "done", 2),
               line("never-started", 2, "failed", 3)});
  const fs::path job = tmp / "s/0_0_64_64/maximize-segment";
  fs::create_directories(job);
  test::write_text(
      job / "run.json",
      json({{"status", "done"}, {"starts", json::array()}, {"options", json::object()}}).dump());
  EXPECT_TRUE(is_batch_folder(tmp.path()));
  const BatchReport report = write_batch_report(tmp.path());
  EXPECT_EQ(report.jobs, 3u);
  EXPECT_EQ(report.failed, 1u);
  EXPECT_EQ(report.job_pages, 1u);
  EXPECT_TRUE(fs::is_regular_file(job / "report.html"));
  const std::string html = test::read_file(tmp / "report.html");
  EXPECT_NE(html.find(R"("page":"s/0_0_64_64/maximize-segment/report.html")"), std::string::npos);
  EXPECT_EQ(html.find("outside/report.html"), std::string::npos);
}

TEST(BatchReport, RefusesAFolderWithoutAManifest) {
  test::TempDir tmp;
  EXPECT_FALSE(is_batch_folder(tmp.path()));
  try {
    batch_report_rows(tmp.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::input);
    EXPECT_NE(std::string(e.what()).find("no manifest"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace inkgen
