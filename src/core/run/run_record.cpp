#include "inkgen/run/run_record.hpp"

#include <torch/version.h>
#include <cstdio>
#include <ctime>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/json_text.hpp"
#include "inkgen/common/run_liveness.hpp"
#include "inkgen/common/version.hpp"

namespace inkgen {

nlohmann::json score_json(const InkScore& score) {
  return {{"logit", score.logit}, {"probability", score.probability}};
}

nlohmann::json trace_json(const std::vector<InkScore>& trace) {
  nlohmann::json logits = nlohmann::json::array(), probabilities = nlohmann::json::array();
  for (const auto& s : trace) {
    logits.push_back(s.logit);
    probabilities.push_back(s.probability);
  }
  return {{"logit", logits}, {"probability", probabilities}};
}

nlohmann::json model_json(const InkModel& model) {
  return {{"path", model.path.string()},
          {"name", model.card.name},
          {"card_origin", model.card_origin},
          {"card", model.card.json},
          {"input_shape", model.batch_shape(1)},
          {"output_shape", model.output_shape},
          {"output_kind", to_string(model.card.output_kind)},
          {"parameters", model.parameter_count},
          {"frozen", model.frozen},
          {"single_channel_convolutions", model.single_channel_convolutions},
          {"window_max_pools", model.window_max_pools}};
}

nlohmann::json scale_json(const InkModel& model) {
  const auto& c = model.card;
  return {
      {"rule", c.scale.text()},
      {"valid_range", {c.range_lo, c.range_hi}},
      {"png",
       "start/ and result/ PNGs: grey = round((v - lo) / (hi - lo) * 255), lo..hi = valid_range, "
       "clipped; the same for every slice"},
      {"diff_png",
       "diff/ PNGs: (result - start) / diff.scale in -1..1; blue = removed, white = unchanged, "
       "red = added"},
      {"diff_tif", "diff.tif: result - start, float32, model input scale, one page per slice"},
      {"volume",
       "volume/layers/NN.tif: the result as 16-bit raw values, by the inverse of the rule"}};
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

const char* to_string(RunStatus status) {
  return enum_name(run_status_names, status);
}

std::filesystem::path start_folder(const std::filesystem::path& out, std::size_t index,
                                   std::size_t count) {
  if (count == 1) return out;
  char name[16];
  std::snprintf(name, sizeof name, "%03zu", index);
  return out / name;
}

nlohmann::json new_run_record(const InkModel& model, nlohmann::json mode, std::uint64_t seed,
                              nlohmann::json options, nlohmann::json scale) {
  return {{"inkgen_version", INKGEN_VERSION},
          {"torch_version", TORCH_VERSION},
          {"status", "running"},
          {"mode", std::move(mode)},
          {"model", model_json(model)},
          {"device", model.device.str()},
          {"seed", seed},
          {"options", std::move(options)},
          {"scale", std::move(scale)},
          {"started_at", utc_now()},
          {"process", process_stamp()},
          {"starts", nlohmann::json::array()}};
}

RunRecordFile::RunRecordFile(std::filesystem::path out, nlohmann::json header,
                             const std::vector<StartVolume>& starts, Clock::time_point t0)
    : out_(std::move(out)), record_(std::move(header)), t0_(t0) {
  const std::size_t count = starts.size();
  for (std::size_t i = 0; i < count; ++i) {
    record_["starts"].push_back({{"index", i},
                                 {"folder", count == 1 ? "." : start_folder("", i, count).string()},
                                 {"source", starts[i].source},
                                 {"status", "pending"}});
  }
}

void RunRecordFile::set_steps(int steps, double crop_steps) {
  steps_ = {steps, crop_steps};
}

void RunRecordFile::write() {
  const double seconds = std::chrono::duration<double>(Clock::now() - t0_).count();
  record_["wall_seconds"] = seconds;
  if (steps_) {
    const auto [steps, crop_steps] = *steps_;
    record_["steps_done"] = steps;
    record_["steps_per_second"] = seconds > 0 ? steps / seconds : 0.0;
    record_["crop_steps_per_second"] = seconds > 0 ? crop_steps / seconds : 0.0;
  }
  write_text_atomically(out_ / "run.json", json_text(record_, 2) + "\n");
  const auto& starts = record_["starts"];
  const std::size_t count = starts.size();
  if (count <= 1) return;
  for (std::size_t i = 0; i < count; ++i) {
    // A start not begun, or one a stop kept from being written, has no folder to describe.
    const std::filesystem::path folder = start_folder(out_, i, count);
    if (starts[i]["status"] == "pending" || !std::filesystem::is_directory(folder)) continue;
    // Everything but the other starts: copying the whole record per start made this quadratic,
    // hours and gigabytes at --batch 100000.
    nlohmann::json one = nlohmann::json::object();
    for (const auto& [key, value] : record_.items())
      if (key != "starts") one[key] = value;
    one["starts"] = nlohmann::json::array({starts[i]});
    write_text_atomically(folder / "run.json", json_text(one, 2) + "\n");
  }
}

void RunRecordFile::finish(RunStatus status) {
  record_["status"] = to_string(status);
  record_["finished_at"] = utc_now();
  write();
}

void RunRecordFile::fail(const Error& error) {
  record_["status"] = "failed";
  record_["error"] = {{"kind", to_string(error.kind())}, {"message", error.what()}};
  record_["finished_at"] = utc_now();
  try {
    write();
  } catch (const Error&) {
    // The folder may be what failed; the first error is the one to report.
  }
}

}  // namespace inkgen
