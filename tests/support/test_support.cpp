#include "test_support.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "inkgen/io/segment_writer.hpp"

namespace inkgen::test {

fs::path test_model(const std::string& name) {
  return fs::path(INKGEN_TEST_SOURCE_DIR) / "tests" / "models" / name;
}

std::optional<fs::path> shared_dir() {
  if (const char* env = std::getenv("INKGEN_SHARED")) {
    if (fs::is_directory(env)) return fs::path(env);
    return std::nullopt;
  }
  const fs::path beside = fs::path(INKGEN_TEST_SOURCE_DIR).parent_path() / "shared";
  if (fs::is_directory(beside / "models") && fs::is_directory(beside / "data")) return beside;
  return std::nullopt;
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "inkgen-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  // Tests make folders read-only to simulate failures; make them writable again to clean up.
  for (auto it = fs::recursive_directory_iterator(path_, ignored);
       it != fs::recursive_directory_iterator(); it.increment(ignored)) {
    fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ignored);
  }
  fs::remove_all(path_, ignored);
}

RawVolume random_volume(int depth, int height, int width, unsigned seed, std::uint16_t lo,
                        std::uint16_t hi) {
  RawVolume v{depth, height, width, {}};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  v.voxels.resize(static_cast<std::size_t>(depth) * height * width);
  for (auto& x : v.voxels)
    x = static_cast<std::uint16_t>(dist(rng));
  return v;
}

fs::path make_segment(const fs::path& dir, const RawVolume& volume) {
  write_segment(dir, volume);
  return dir;
}

void expect_one_line_error(const CommandResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.exit_code, code) << r.err.substr(0, 300);
  EXPECT_EQ(r.err.rfind("inkgen: error: ", 0), 0u) << r.err.substr(0, 300);
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err.substr(0, 300);
  // One line: the message and its newline, nothing else (no backtrace, no libtiff chatter).
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err.substr(0, 300);
  EXPECT_LT(r.err.size(), 400u) << r.err.substr(0, 300);
  EXPECT_TRUE(r.out.empty()) << r.out.substr(0, 300);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

nlohmann::json read_json(const fs::path& path) {
  return nlohmann::json::parse(read_file(path));
}

nlohmann::json json_of(const CommandResult& result) {
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return nlohmann::json::parse(result.out);
}

namespace {

std::string quote(const std::string& arg) {
  std::string q = "'";
  for (const char c : arg)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

CommandResult run_inkgen(const std::vector<std::string>& args) {
  return run_inkgen(args, {});
}

CommandResult run_inkgen(const std::vector<std::string>& args,
                         const std::vector<std::string>& environment) {
  TempDir capture;
  std::string command = environment.empty() ? "" : "env ";
  for (const auto& variable : environment)
    command += quote(variable) + " ";
  command += quote(INKGEN_EXE);
  for (const auto& a : args)
    command += " " + quote(a);
  command += " >" + quote((capture / "out").string()) + " 2>" + quote((capture / "err").string()) +
             " </dev/null";
  const int status = std::system(command.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(capture / "out");
  r.err = read_file(capture / "err");
  return r;
}

BackgroundInkgen::BackgroundInkgen(const std::vector<std::string>& args) {
  std::vector<std::string> argv_storage{INKGEN_EXE};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  const std::string out = (capture_ / "out").string(), err = (capture_ / "err").string();
  pid_ = ::fork();
  if (pid_ == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv;
    for (auto& a : argv_storage)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

BackgroundInkgen::~BackgroundInkgen() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void BackgroundInkgen::signal(int signal) const {
  ::kill(pid_, signal);
}

CommandResult BackgroundInkgen::finish() {
  int status = 0;
  struct rusage usage {};
  ::wait4(pid_, &status, 0, &usage);
  pid_ = -1;
  CommandResult r;
  r.peak_rss_kib = usage.ru_maxrss;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(capture_ / "out");
  r.err = read_file(capture_ / "err");
  return r;
}

}  // namespace inkgen::test
