#include "inkgen/jobs/manifest.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "inkgen/common/error.hpp"
#include "inkgen/common/json_text.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

const std::string shard_prefix = "manifest-shard-";

[[noreturn]] void cannot(const fs::path& path, const std::string& what, const std::string& why) {
  throw Error(ErrorKind::output, "cannot " + what + " batch manifest " + path.string() + " (" +
                                     why +
                                     "); check that --out is writable and the disk not full, "
                                     "then run the batch again to resume");
}

bool is_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

const std::string layout_prefix = "shards-of-";
const std::string layout_suffix = ".lock";

// The shard count whose lock file `name` is, or 0 when it is none.
int layout_lock_count(const std::string& name) {
  if (name.size() <= layout_prefix.size() + layout_suffix.size() ||
      name.rfind(layout_prefix, 0) != 0 ||
      name.compare(name.size() - layout_suffix.size(), layout_suffix.size(), layout_suffix) != 0) {
    return 0;
  }
  const std::string n =
      name.substr(layout_prefix.size(), name.size() - layout_prefix.size() - layout_suffix.size());
  if (!is_digits(n) || n.size() > 9) return 0;
  return std::stoi(n);
}

std::string with_shards(int count) {
  return count == 1 ? "no --shard" : "--shard i/" + std::to_string(count);
}

// Whether a live process holds a lock on `path`: only then can an exclusive lock not be had. The
// probe's own lock lasts a moment and no batch waits on it for long (they take shared locks).
bool is_held(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

}  // namespace

std::string manifest_file_name(const std::optional<Shard>& shard) {
  if (!shard) return "manifest.jsonl";
  return shard_prefix + std::to_string(shard->index) + "-of-" + std::to_string(shard->count) +
         ".jsonl";
}

bool is_manifest_file_name(const std::string& name) {
  if (name == "manifest.jsonl") return true;
  const std::string suffix = ".jsonl";
  if (name.rfind(shard_prefix, 0) != 0 || name.size() <= shard_prefix.size() + suffix.size() ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  const std::string middle =
      name.substr(shard_prefix.size(), name.size() - shard_prefix.size() - suffix.size());
  const auto of = middle.find("-of-");
  return of != std::string::npos && is_digits(middle.substr(0, of)) &&
         is_digits(middle.substr(of + 4));
}

ManifestLines parse_manifest_text(const std::string& text) {
  ManifestLines result;
  std::size_t begin = 0;
  while (begin < text.size()) {
    const auto end = text.find('\n', begin);
    if (end == std::string::npos) {
      ++result.torn;
      break;
    }
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("key") && j["key"].is_string()) {
      result.lines.push_back(std::move(j));
    } else {
      ++result.unreadable;
    }
  }
  return result;
}

ManifestLines read_manifests(const fs::path& out) {
  ManifestLines all;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(out, ec)) {
    if (is_manifest_file_name(entry.path().filename().string()) &&
        fs::is_regular_file(entry.path(), ec)) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    ManifestLines one = parse_manifest_text(buffer.str());
    for (auto& line : one.lines)
      all.lines.push_back(std::move(line));
    all.torn += one.torn;
    all.unreadable += one.unreadable;
    all.files.push_back(file);
  }
  return all;
}

std::string shard_layout_lock_name(const std::optional<Shard>& shard) {
  return layout_prefix + std::to_string(shard ? shard->count : 1) + layout_suffix;
}

ShardLayoutLock::ShardLayoutLock(const fs::path& out, const std::optional<Shard>& shard) {
  const int mine = shard ? shard->count : 1;
  const fs::path path = out / shard_layout_lock_name(shard);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw Error(ErrorKind::output, "cannot open the batch lock " + path.string() + " (" +
                                       std::strerror(errno) +
                                       "); check that --out is writable, or choose another --out");
  }
  while (::flock(fd_, LOCK_SH) != 0 && errno == EINTR) {
  }
  // A file system without locks (some network mounts) fails the probes too: nothing is refused.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(out, ec)) {
    const int count = layout_lock_count(entry.path().filename().string());
    if (count == 0 || count == mine || !is_held(entry.path())) continue;
    ::close(fd_);
    fd_ = -1;
    throw Error(ErrorKind::output,
                "another inkgen batch is running on " + out.string() + " with " +
                    with_shards(count) + " while this one has " + with_shards(mine) +
                    "; batches of different shard counts on one --out would run the same jobs "
                    "twice: wait for it to end, or run this one " +
                    (count == 1 ? std::string("without --shard")
                                : "with --shard i/" + std::to_string(count)) +
                    " or on another --out");
  }
}

ShardLayoutLock::~ShardLayoutLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

ManifestWriter::ManifestWriter(const fs::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd_ < 0) cannot(path, "open", std::strerror(errno));
  // A FIFO or a device (a link to /dev/null) would take the record and keep nothing of it.
  struct stat kind {};
  if (::fstat(fd_, &kind) != 0 || !S_ISREG(kind.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw Error(ErrorKind::output, "the manifest " + path.string() +
                                       " is not a regular file (a FIFO, device or link to one); "
                                       "remove it, or give the batch another --out");
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    if (e == EWOULDBLOCK) {
      ::close(fd_);
      fd_ = -1;
      throw Error(ErrorKind::output,
                  "another inkgen batch is writing " + path.string() +
                      " (the same --out and --shard); wait for it to end, or give this one "
                      "another --out or --shard");
    }
    // A file system without locks (some network mounts): go on unlocked rather than not at all.
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || st.st_size == 0) return;
  // Find the end of the last whole line, reading backwards; drop what follows it.
  off_t end = st.st_size;
  char last = 0;
  if (::pread(fd_, &last, 1, end - 1) != 1 || last == '\n') return;
  off_t keep = 0;
  char buffer[4096];
  for (off_t pos = end; pos > 0 && keep == 0;) {
    const off_t from = std::max<off_t>(0, pos - static_cast<off_t>(sizeof buffer));
    const ssize_t got = ::pread(fd_, buffer, static_cast<std::size_t>(pos - from), from);
    if (got <= 0) return;
    for (ssize_t i = got - 1; i >= 0; --i) {
      if (buffer[i] == '\n') {
        keep = from + i + 1;
        break;
      }
    }
    pos = from;
  }
  if (::ftruncate(fd_, keep) != 0) cannot(path, "repair", std::strerror(errno));
  dropped_ = static_cast<std::size_t>(end - keep);
}

ManifestWriter::~ManifestWriter() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

void ManifestWriter::append(const nlohmann::json& line) {
  // Paths and messages may hold bytes that are not UTF-8; replace them rather than fail.
  const std::string text = json_text(line) + "\n";
  struct stat st {};
  const bool regular = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  const ssize_t written = ::write(fd_, text.data(), text.size());
  if (written != static_cast<ssize_t>(text.size())) {
    const std::string why = written < 0 ? std::strerror(errno) : "the disk took part of the line";
    if (regular && written > 0) {
      // Only this process writes the file (it holds the lock): cut the partial line.
      if (::ftruncate(fd_, st.st_size) != 0) {
        // The reader ignores a line without its newline, so nothing is misread either way.
      }
    }
    cannot(path_, "append to", why);
  }
  if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) {
    cannot(path_, "sync", std::strerror(errno));
  }
}

}  // namespace inkgen
