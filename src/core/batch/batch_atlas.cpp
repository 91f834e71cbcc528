#include "inkgen/batch/batch_atlas.hpp"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "inkgen/common/error.hpp"
#include "inkgen/evaluate/atlas.hpp"

namespace inkgen {

namespace {

namespace fs = std::filesystem;

// A job's run.json when it records a finished run; null otherwise.
nlohmann::json done_record(const fs::path& folder) {
  std::ifstream in(folder / "run.json");
  if (!in) return nullptr;
  nlohmann::json record = nlohmann::json::parse(in, nullptr, false);
  if (record.is_discarded() || !record.is_object() || record.value("status", "") != "done" ||
      !record.contains("starts") || record["starts"].empty())
    return nullptr;
  return record;
}

// An atlas drawn after each of its jobs last wrote its record shows what they hold: a resume or
// another shard need not read every job's diff again to draw it the same.
bool up_to_date(const fs::path& png, const std::vector<const BatchJob*>& members,
                const fs::path& out) {
  std::error_code ec;
  const auto drawn = fs::last_write_time(png, ec);
  if (ec) return false;
  for (const BatchJob* job : members) {
    const auto written = fs::last_write_time(out / job->key / "run.json", ec);
    if (ec || written > drawn) return false;
  }
  return true;
}

}  // namespace

std::vector<fs::path> write_batch_atlases(const std::vector<BatchJob>& jobs, const fs::path& out) {
  std::map<std::string, std::vector<const BatchJob*>> atlases;  // in folder order
  for (const auto& job : jobs)
    if (!job.atlas.empty() && !job.failure) atlases[job.atlas].push_back(&job);
  std::vector<fs::path> written;
  for (const auto& [folder, members] : atlases) {
    const fs::path png = out / folder / "atlas.png";
    if (up_to_date(png, members, out)) {
      written.push_back(png);
      continue;
    }
    std::vector<AtlasTile> tiles;
    nlohmann::json first;
    for (const BatchJob* job : members) {
      const fs::path dir = out / job->key;
      const nlohmann::json record = done_record(dir);
      if (record.is_null()) break;
      try {
        auto tile = read_atlas_tile(dir, record["starts"][0], job->channel);
        if (!tile) break;
        tiles.push_back(std::move(*tile));
      } catch (const std::exception&) {
        break;  // a diff.tif or record that cannot be read: that job will be rerun
      }
      if (first.is_null()) first = record;
    }
    if (tiles.size() != members.size()) continue;
    const BatchJob& job = *members.front();
    const auto model = first.value("model", nlohmann::json::object());
    write_atlas(png, tiles,
                atlas_caption(job.options.value("layer", std::string()),
                              model.is_object() ? model.value("name", std::string()) : "",
                              to_string(job.source), job.optimize.steps,
                              to_string(job.optimize.rule.kind)));
    written.push_back(png);
  }
  return written;
}

}  // namespace inkgen
