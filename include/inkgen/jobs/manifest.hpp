#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/jobs/shard.hpp"

namespace inkgen {

// A batch's record of finished jobs: JSON Lines in its output folder, one line appended when a
// job ends (README "The manifest"). A batch run without --shard writes manifest.jsonl;
// shard i of n writes manifest-shard-<i>-of-<n>.jsonl, so that shards never share a file.
std::string manifest_file_name(const std::optional<Shard>& shard);
bool is_manifest_file_name(const std::string& file_name);

struct ManifestLines {
  std::vector<nlohmann::json> lines;  // each a JSON object with a string "key", in file order
  std::size_t torn = 0;               // an unfinished last line (a writer killed mid-line): ignored
  std::size_t unreadable = 0;         // finished lines that are not such objects: ignored
  std::vector<std::filesystem::path> files;
};

// The lines of one manifest's text. Only lines ended by a newline count: the bytes after the last
// newline are a line whose writer died before finishing it, and that job simply runs again.
ManifestLines parse_manifest_text(const std::string& text);

// Every manifest in `out` (manifest.jsonl and all shards' files, in name order), so that a batch
// resumed with another shard count still sees what the others did. Only regular files are read.
ManifestLines read_manifests(const std::filesystem::path& out);

// Appends lines to one manifest. Each line is one write() on an O_APPEND descriptor followed by
// fsync, so that a kill -9 or a power cut loses at most the line being written. The writer holds
// an exclusive lock (flock) on the file for its lifetime: a second batch writing the same
// manifest is refused rather than interleaved, and so the writer may repair the file it owns: on
// opening it drops an unfinished last line left by a killed writer, and when an append fails
// (disk full) it cuts the file back to its last whole line before reporting the error.
class ManifestWriter {
 public:
  // Error(output) when the file cannot be opened or another process holds it.
  explicit ManifestWriter(const std::filesystem::path& path);
  ~ManifestWriter();
  ManifestWriter(const ManifestWriter&) = delete;
  ManifestWriter& operator=(const ManifestWriter&) = delete;

  // Error(output) naming the file when the line cannot be written in full and made durable.
  void append(const nlohmann::json& line);
  const std::filesystem::path& path() const { return path_; }
  // Bytes of an unfinished last line dropped on opening (0 when the file was whole).
  std::size_t dropped_bytes() const { return dropped_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::size_t dropped_ = 0;
};

// The shard layout a batch runs `out` under, held for the batch's life. Shards of one count may run
// at once (each writes its own manifest and runs jobs no other shard runs), but shards of two
// counts, or a shard and an unsharded batch, would each run jobs the other runs. Each batch holds a
// shared flock on out/shards-of-<n>.lock (n = 1 without --shard) and, once it holds it, checks that
// no live batch holds the file of another count. Of two batches that start at once with different
// counts, the one that checks second sees the other, so they never both run. The lock goes with
// the process (exit, crash, kill -9): a later batch may use any count, and resumes from every
// manifest as before.
std::string shard_layout_lock_name(const std::optional<Shard>& shard);

class ShardLayoutLock {
 public:
  // Error(output) when another live batch runs `out` with another shard count, or when the lock
  // file cannot be opened.
  ShardLayoutLock(const std::filesystem::path& out, const std::optional<Shard>& shard);
  ~ShardLayoutLock();
  ShardLayoutLock(const ShardLayoutLock&) = delete;
  ShardLayoutLock& operator=(const ShardLayoutLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace inkgen
