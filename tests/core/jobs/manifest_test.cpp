#include "inkgen/jobs/manifest.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>

#include "inkgen/common/error.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;

nlohmann::json line(const std::string& key, const std::string& status = "done") {
  return {{"key", key}, {"status", status}, {"error", {{"message", "caf\xC3\xA9"}}}};
}

TEST(BatchManifest, NamesOneFilePerShard) {
  EXPECT_EQ(manifest_file_name(std::nullopt), "manifest.jsonl");
  EXPECT_EQ(manifest_file_name(Shard{3, 8}), "manifest-shard-3-of-8.jsonl");
  for (const char* good :
       {"manifest.jsonl", "manifest-shard-0-of-1.jsonl", "manifest-shard-12-of-40.jsonl"}) {
    EXPECT_TRUE(is_manifest_file_name(good)) << good;
  }
  for (const char* bad :
       {"manifest.json", "manifest-shard--of-2.jsonl", "manifest-shard-1-of-.jsonl",
        "manifest-shard-a-of-2.jsonl", "xmanifest.jsonl", ".manifest.jsonl"}) {
    EXPECT_FALSE(is_manifest_file_name(bad)) << bad;
  }
}

TEST(BatchManifest, AppendsWholeLinesThatReadBack) {
  test::TempDir tmp;
  {
    ManifestWriter w(tmp / "manifest.jsonl");
    w.append(line("a"));
    w.append(line("b", "failed"));
  }
  {
    ManifestWriter w(tmp / "manifest-shard-1-of-2.jsonl");
    w.append(line("c"));
  }
  std::ofstream(tmp / "notes.jsonl") << "{\"key\": \"x\"}\n";  // not a manifest
  const std::string text = test::read_file(tmp / "manifest.jsonl");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_EQ(text.back(), '\n');
  const auto all = read_manifests(tmp.path());
  ASSERT_EQ(all.lines.size(), 3u);
  EXPECT_EQ(all.files.size(), 2u);
  // Files in name order ("manifest-shard-..." before "manifest.jsonl"), lines in file order.
  EXPECT_EQ(all.lines[0]["key"], "c");
  EXPECT_EQ(all.lines[1]["key"], "a");
  EXPECT_EQ(all.lines[2]["status"], "failed");
  EXPECT_EQ(all.torn, 0u);
}

TEST(BatchManifest, AnUnfinishedLastLineIsIgnoredThenDroppedByTheNextWriter) {
  test::TempDir tmp;
  const fs::path path = tmp / "manifest.jsonl";
  std::ofstream(path) << line("a").dump() << "\n"
                      << R"({"key": "b", "sta)";
  auto read = read_manifests(tmp.path());
  EXPECT_EQ(read.lines.size(), 1u);
  EXPECT_EQ(read.torn, 1u);
  // Even a complete object counts only with its newline: its writer did not finish.
  const auto no_newline = parse_manifest_text(line("a").dump() + "\n" + line("b").dump());
  EXPECT_EQ(no_newline.lines.size(), 1u);
  EXPECT_EQ(no_newline.torn, 1u);
  {
    ManifestWriter w(path);
    EXPECT_EQ(w.dropped_bytes(), std::string(R"({"key": "b", "sta)").size());
    w.append(line("b"));
  }
  read = read_manifests(tmp.path());
  ASSERT_EQ(read.lines.size(), 2u);
  EXPECT_EQ(read.lines[1]["key"], "b");
  EXPECT_EQ(read.torn, 0u);
  EXPECT_EQ(read.unreadable, 0u);
  // A file that is one unfinished line is emptied.
  std::ofstream(tmp / "manifest-shard-0-of-2.jsonl") << R"({"key": "z")";
  ManifestWriter w(tmp / "manifest-shard-0-of-2.jsonl");
  EXPECT_EQ(fs::file_size(tmp / "manifest-shard-0-of-2.jsonl"), 0u);
}

TEST(BatchManifest, BytesThatAreNotUtf8AreReplacedNotFatal) {
  test::TempDir tmp;
  {
    ManifestWriter w(tmp / "manifest.jsonl");
    w.append({{"key", "a"}, {"error", {{"message", "a path in Latin-1: caf\xE9"}}}});
  }
  const auto r = read_manifests(tmp.path());
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0]["error"]["message"], "a path in Latin-1: caf\xEF\xBF\xBD");
}

TEST(BatchManifest, UnreadableFinishedLinesAreCountedAndSkipped) {
  const auto r = parse_manifest_text(
      "{\"key\": \"a\"}\nnot json\n[1]\n{\"no\": \"key\"}\n\n"
      "{\"key\": 5}\n{\"key\": \"b\"}\n");
  EXPECT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.unreadable, 4u);
}

TEST(BatchManifest, ASecondWriterOfOneFileIsRefused) {
  test::TempDir tmp;
  ManifestWriter first(tmp / "manifest.jsonl");
  try {
    ManifestWriter second(tmp / "manifest.jsonl");
    ADD_FAILURE() << "two writers";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::output);
    EXPECT_NE(std::string(e.what()).find("another inkgen batch"), std::string::npos);
  }
  ManifestWriter other_shard(tmp / "manifest-shard-0-of-2.jsonl");  // another file: fine
}

// The message of the Error(output) that constructing a ShardLayoutLock throws, or "" when none.
std::string layout_refusal(const fs::path& out, const std::optional<Shard>& shard) {
  try {
    ShardLayoutLock lock(out, shard);
    return "";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::output);
    return e.what();
  }
}

TEST(BatchManifest, ShardsOfOneCountShareAnOutputAndOtherCountsAreRefused) {
  test::TempDir tmp;
  EXPECT_EQ(shard_layout_lock_name(std::nullopt), "shards-of-1.lock");
  EXPECT_EQ(shard_layout_lock_name(Shard{1, 16}), "shards-of-16.lock");
  {
    // Each lock opens the file anew, so within one process they meet as two processes would.
    ShardLayoutLock first(tmp.path(), Shard{0, 2});
    ShardLayoutLock second(tmp.path(), Shard{1, 2});
    ShardLayoutLock same_shard(tmp.path(), Shard{1, 2});  // the manifest refuses this one
    const std::string unsharded = layout_refusal(tmp.path(), std::nullopt);
    EXPECT_NE(unsharded.find("another inkgen batch is running on"), std::string::npos);
    EXPECT_NE(unsharded.find("with --shard i/2 while this one has no --shard"), std::string::npos)
        << unsharded;
    EXPECT_NE(unsharded.find("run this one with --shard i/2"), std::string::npos) << unsharded;
    EXPECT_EQ(std::count(unsharded.begin(), unsharded.end(), '\n'), 0);
    EXPECT_NE(layout_refusal(tmp.path(), Shard{0, 3}).find("this one has --shard i/3"),
              std::string::npos);
  }
  // The lock goes with its holder: one after the other, any count may run.
  EXPECT_EQ(layout_refusal(tmp.path(), std::nullopt), "");
  ShardLayoutLock unsharded(tmp.path(), std::nullopt);
  EXPECT_NE(layout_refusal(tmp.path(), Shard{0, 2}).find("run this one without --shard"),
            std::string::npos);
  EXPECT_EQ(layout_refusal(tmp.path(), std::nullopt), "");
}

// A manifest that is not a regular file would take the record and keep none of it (/dev/null)
// or block (a FIFO): refused when opened, naming the file. A full disk is BatchFaults' test.
TEST(BatchManifest, AManifestThatIsNotARegularFileIsRefused) {
  test::TempDir tmp;
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  fs::create_symlink("/dev/full", tmp / "manifest.jsonl");
  EXPECT_TRUE(read_manifests(tmp.path()).lines.empty());  // not a regular file: not read
  try {
    ManifestWriter w(tmp / "manifest.jsonl");
    ADD_FAILURE() << "opened /dev/full as a manifest";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::output);
    EXPECT_NE(std::string(e.what()).find("is not a regular file"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("manifest.jsonl"), std::string::npos) << e.what();
  }
}

// A write cut short (the file size limit stands in for a disk that fills mid-line, since even
// root cannot exceed it) leaves the file at its last whole line.
TEST(BatchManifest, AShortWriteIsCutBackToTheLastWholeLine) {
  test::TempDir tmp;
  const fs::path path = tmp / "manifest.jsonl";
  {
    ManifestWriter w(path);
    w.append(line("a"));
  }
  const auto whole = fs::file_size(path);
  const pid_t child = ::fork();
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{static_cast<rlim_t>(whole + 10), static_cast<rlim_t>(whole + 10)};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      ManifestWriter w(path);
      w.append(line("b-with-a-long-key-that-does-not-fit"));
    } catch (const Error& e) {
      ::_exit(std::string(e.what()).find("cannot append") != std::string::npos ? 42 : 1);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);
  EXPECT_EQ(fs::file_size(path), whole);
  const auto r = read_manifests(tmp.path());
  EXPECT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.torn, 0u);
}

}  // namespace
}  // namespace inkgen
