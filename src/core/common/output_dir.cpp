#include "inkgen/common/output_dir.hpp"

#include <optional>
#include <regex>
#include <string>
#include <system_error>
#include <vector>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/common/run_liveness.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

// The kinds of folder a run writes, and `file` for what is not a folder.
enum class RunLayout { run, start, png_slices, tif_slices, volume, snapshots, file };

// Everything a run writes, declared once (README "What a run writes"; the writers are
// optimization_run, attribution_run, slice_stack_writer, diff_writer, segment_writer,
// montage_writer, run_record and run_report): in a folder of layout `in`, an entry whose whole name
// matches `name` (an ECMAScript regular expression) is inkgen's when it is a `is` (a file or that
// folder). A run folder holds what a start folder holds, and the start folders of a run of several
// starts. Slice files have as many digits as the depth needs (layer_file_name); start folders three
// or more (start_folder's %03zu), so that --batch 1001's 1000/ is one too.
struct OwnedName {
  RunLayout in;
  const char* name;
  RunLayout is;
};

constexpr OwnedName owned_names[] = {
    {RunLayout::run, "[0-9]{3,}", RunLayout::start},
    {RunLayout::start, "run\\.json|montage\\.png|diff\\.tif|attribution\\.tif|report\\.html",
     RunLayout::file},
    {RunLayout::start, "start|result|diff|attribution", RunLayout::png_slices},
    {RunLayout::start, "volume", RunLayout::volume},
    {RunLayout::start, "snapshots", RunLayout::snapshots},
    {RunLayout::png_slices, "[0-9]+\\.png", RunLayout::file},
    {RunLayout::tif_slices, "[0-9]+\\.tif", RunLayout::file},
    {RunLayout::volume, "volume_mask\\.png", RunLayout::file},
    {RunLayout::volume, "layers", RunLayout::tif_slices},
    {RunLayout::snapshots, "step_[0-9]+", RunLayout::png_slices},
};

// atomic_file's temporary_beside: ".<name>.partial-<pid>-<tag>" next to the file it becomes.
const std::regex& temporary_name() {
  static const std::regex re("\\.(.+)\\.partial-[0-9]+-[0-9]+");
  return re;
}

const std::vector<std::regex>& owned_patterns() {
  static const std::vector<std::regex> patterns = [] {
    std::vector<std::regex> p;
    for (const auto& o : owned_names)
      p.emplace_back(o.name);
    return p;
  }();
  return patterns;
}

// What `name` in a folder of layout `in` is when it is inkgen's; nothing when it is not.
std::optional<RunLayout> owned_as(RunLayout in, const std::string& name) {
  if (in == RunLayout::run) {
    if (const auto is = owned_as(RunLayout::start, name)) return is;
  }
  const auto& patterns = owned_patterns();
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    if (owned_names[i].in == in && std::regex_match(name, patterns[i])) return owned_names[i].is;
  }
  std::smatch temporary;
  if (std::regex_match(name, temporary, temporary_name()) &&
      owned_as(in, temporary[1].str()) == RunLayout::file) {
    return RunLayout::file;
  }
  return std::nullopt;
}

[[noreturn]] void cannot_remove(const fs::path& path, const std::error_code& ec) {
  throw Error(ErrorKind::output, "cannot remove " + path.string() + " (" + ec.message() +
                                     "); remove it by hand or choose another --out");
}

// Removes inkgen's entries of a folder of layout `layout`, depth first; true when the folder is
// left empty. Only what symlink_status calls a regular file or a directory can be ours: a link
// named like one of our files is someone else's, and its target is never entered.
bool remove_owned(const fs::path& dir, RunLayout layout) {
  std::error_code ec;
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    entries.push_back(it->path());
  if (ec) cannot_remove(dir, ec);
  bool empty = true;
  for (const auto& path : entries) {
    const auto is = owned_as(layout, path.filename().string());
    const fs::file_status status = fs::symlink_status(path, ec);
    bool removed = false;
    if (is == RunLayout::file && fs::is_regular_file(status)) {
      removed = fs::remove(path, ec);
    } else if (is && is != RunLayout::file && fs::is_directory(status)) {
      removed = remove_owned(path, *is) && fs::remove(path, ec);
    }
    if (ec) cannot_remove(path, ec);
    empty = empty && removed;
  }
  return empty;
}

}  // namespace

void check_output_dir(const fs::path& dir, Overwrite overwrite) {
  // An empty path would be the working directory, which --force then clears of inkgen's files.
  if (dir.empty()) throw Error(ErrorKind::usage, "--out is empty; give the folder to write to");
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw Error(ErrorKind::output,
                "--out " + dir.string() + " is a file, not a folder; choose another --out");
  }
  if (overwrite == Overwrite::refuse && fs::is_directory(dir, ec) && !fs::is_empty(dir, ec)) {
    const bool abandoned = mark_abandoned_run(dir / "run.json");
    throw Error(ErrorKind::output,
                "--out " + dir.string() + " already exists and is not empty" +
                    (abandoned ? " (its run was killed while running: run.json now says "
                                 "interrupted)"
                               : "") +
                    "; choose a new --out or add --force to replace the run in it");
  }
}

void prepare_output_dir(const fs::path& dir, Overwrite overwrite) {
  check_output_dir(dir, overwrite);
  std::error_code ec;
  if (fs::is_directory(dir, ec) && !fs::is_empty(dir, ec)) remove_owned(dir, RunLayout::run);
  make_directories(dir);
}

}  // namespace inkgen
