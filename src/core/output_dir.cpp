#include "inkgen/output_dir.hpp"

#include <algorithm>
#include <cctype>

#include "inkgen/atomic_file.hpp"
#include "inkgen/error.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

bool is_start_folder(const fs::path& p) {
  const auto name = p.filename().string();
  return name.size() == 3 && std::all_of(name.begin(), name.end(), ::isdigit) &&
         fs::exists(p / "run.json");
}

bool is_inkgen_output(const fs::path& p) {
  static const char* const names[] = {"start",     "result",      "diff",
                                      "diff.tif",  "volume",      "montage.png",
                                      "run.json",  "snapshots",   "attribution",
                                      "attribution.tif"};
  const auto name = p.filename().string();
  return std::find(std::begin(names), std::end(names), name) != std::end(names) ||
         is_start_folder(p) || name.rfind(".run.json.partial-", 0) == 0;
}

}  // namespace

void prepare_output_dir(const fs::path& dir, Overwrite overwrite) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw Error(ErrorKind::output,
                "--out " + dir.string() + " is a file, not a folder; choose another --out");
  }
  if (fs::is_directory(dir, ec) && !fs::is_empty(dir, ec)) {
    if (overwrite == Overwrite::refuse) {
      throw Error(ErrorKind::output,
                  "--out " + dir.string() +
                      " already exists and is not empty; choose a new --out or add --force to "
                      "replace the run in it");
    }
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (is_inkgen_output(entry.path())) fs::remove_all(entry.path(), ec);
      if (ec)
        throw Error(ErrorKind::output,
                    "cannot remove " + entry.path().string() + " (" + ec.message() + ")");
    }
  }
  make_directories(dir);
}

}  // namespace inkgen
