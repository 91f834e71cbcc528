#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/io/raw_volume.hpp"

namespace inkgen::test {

namespace fs = std::filesystem;

// A tiny committed test model (tests/models/<name>).
fs::path test_model(const std::string& name);

// ../shared beside the checkout (or $INKGEN_SHARED), when it is there.
std::optional<fs::path> shared_dir();

// A fresh empty folder, removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// Uniform random raw values in [lo, hi], reproducible from the seed.
RawVolume random_volume(int depth, int height, int width, unsigned seed, std::uint16_t lo = 0,
                        std::uint16_t hi = 65535);

// Writes a segment folder `dir` (layers/NN.tif 16-bit + mask) holding `volume`.
fs::path make_segment(const fs::path& dir, const RawVolume& volume);

// Runs the built inkgen executable; captures both streams.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  long peak_rss_kib = 0;  // BackgroundInkgen only: the process's peak resident memory
};
CommandResult run_inkgen(const std::vector<std::string>& args);
// The same with more environment variables, each "NAME=value".
CommandResult run_inkgen(const std::vector<std::string>& args,
                         const std::vector<std::string>& environment);

// A refused command: exit `code`, one line `inkgen: error: ...` on stderr that holds `needle`
// and quotes no more than an excerpt of the input (under 400 characters), nothing on stdout.
void expect_one_line_error(const CommandResult& r, int code, const std::string& needle);

// Starts the built inkgen in the background; finish() waits for it.
class BackgroundInkgen {
 public:
  explicit BackgroundInkgen(const std::vector<std::string>& args);
  ~BackgroundInkgen();
  int pid() const { return pid_; }
  // Sends `signal` (e.g. SIGINT) to the process.
  void signal(int signal) const;
  CommandResult finish();

 private:
  TempDir capture_;
  int pid_ = -1;
};

std::string read_file(const fs::path& path);
// Replaces the file's content with `text`.
void write_text(const fs::path& path, const std::string& text);
// A JSON file, e.g. a run.json.
nlohmann::json read_json(const fs::path& path);
// The JSON a command printed on stdout, expecting it to have succeeded.
nlohmann::json json_of(const CommandResult& result);

}  // namespace inkgen::test
