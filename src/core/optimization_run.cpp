#include "inkgen/optimization_run.hpp"

#include <ATen/ATen.h>
#include <torch/version.h>

#include <chrono>
#include <cstdio>

#include "inkgen/atomic_file.hpp"
#include "inkgen/change_sign.hpp"
#include "inkgen/diff_writer.hpp"
#include "inkgen/error.hpp"
#include "inkgen/montage_writer.hpp"
#include "inkgen/resource_estimate.hpp"
#include "inkgen/run_liveness.hpp"
#include "inkgen/run_record.hpp"
#include "inkgen/segment_writer.hpp"
#include "inkgen/slice_stack_writer.hpp"
#include "inkgen/version.hpp"
#include "inkgen/volume_metrics.hpp"
#include "inkgen/volume_tensor.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

using montage_style::fixed;

nlohmann::json map_json(const at::Tensor& map) {
  const auto m = map.to(at::kCPU, at::kDouble).contiguous();
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t y = 0; y < m.size(0); ++y) {
    rows.push_back(
        std::vector<double>(m[y].data_ptr<double>(), m[y].data_ptr<double>() + m.size(1)));
  }
  return rows;
}

// Everything one start leaves in its folder but run.json, and what run.json says of it: the diff's
// scale, the depth profile, the readability numbers and the model's ink map before and after.
nlohmann::json write_start_files(const fs::path& dir, const InkModel& model, const RunSpec& spec,
                                 const at::Tensor& start, const at::Tensor& result,
                                 const InkScore& start_score, const InkScore& final_score,
                                 const nlohmann::json& source) {
  const auto& card = model.card;
  write_slice_stack(dir / "start", start, card.range_lo, card.range_hi);
  write_slice_stack(dir / "result", result, card.range_lo, card.range_hi);
  const DiffSummary diff = write_diff(dir, start, result);
  // A per-crop normalisation is undone through the start's statistics; a noise start has none.
  const std::optional<at::Tensor> on_rule_scale = undo_normalization(card, result, source);
  if (on_rule_scale) write_segment(dir / "volume", to_raw_volume(*on_rule_scale, card.scale));
  const auto maps = ink_maps(model, at::stack({start, result}));
  const std::vector<double> profile = depth_profile(start, result);
  MontageContent montage;
  montage.start = start;
  montage.result = result;
  montage.lo = card.range_lo;
  montage.hi = card.range_hi;
  montage.diff_scale = diff.scale;
  montage.ink_before = maps[0];
  montage.ink_after = maps[1];
  montage.depth_profile = profile;
  montage.caption = {std::string(to_string(spec.optimize.direction)) + " ink, " + card.name +
                         ", from " + describe_source(source),
                     "ink probability " + fixed(start_score.probability, 4) + " -> " +
                         fixed(final_score.probability, 4) + "   (logit " +
                         fixed(start_score.logit, 2) + " -> " + fixed(final_score.logit, 2) + ")"};
  write_montage(dir / "montage.png", montage);
  nlohmann::json files = {
      {"diff", diff.to_json()},
      {"depth_profile", profile},
      {"low_frequency_fraction",
       {{"result", low_frequency_fraction(result)},
        {"diff", low_frequency_fraction(result - start)}}},
      {"ink_map", {{"before", map_json(maps[0])}, {"after", map_json(maps[1])}}}};
  if (!on_rule_scale)
    files["volume"] =
        "not written: the card's per-crop normalisation has no statistics for a "
        "noise start, so the result has no raw values";
  return files;
}

// Start k of an optimization's result: its entry in run.json, and its files in `dir`.
void finish_start(nlohmann::json& entry, const fs::path& dir, const InkModel& model,
                  const RunSpec& spec, const OptimizeResult& result, std::size_t k,
                  const nlohmann::json& source) {
  entry["status"] = result.interrupted ? "interrupted" : "done";
  entry["steps_done"] = result.steps_done;
  entry["reached_stop_at"] = result.reached_stop_at;
  if (!result.ways.empty()) entry["change_sign"] = result.ways[k];
  entry["seconds"] = result.seconds;
  entry["start_score"] = score_json(result.start_scores[k]);
  entry["final_score"] = score_json(result.final_scores[k]);
  if (!result.final_objective.empty()) {
    entry["objective"] = {{"text", result.objective_texts[k]},
                          {"start", result.start_objective[k]},
                          {"final", result.final_objective[k]}};
    if (!result.objective_terms.empty()) {
      auto& terms = entry["objective"]["terms"] = nlohmann::json::array();
      for (const auto& t : result.objective_terms[k]) {
        terms.push_back(
            {{"term", t.term}, {"weight", t.weight}, {"start", t.start}, {"final", t.final}});
      }
    }
  }
  entry.update(write_start_files(dir, model, spec, result.start[k], result.result[k],
                                 result.start_scores[k], result.final_scores[k], source));
  entry["trace"] = trace_json(result.trace[k]);
}

fs::path snapshot_folder(const fs::path& start_dir, int step) {
  char name[32];
  std::snprintf(name, sizeof name, "step_%06d", step);
  return start_dir / "snapshots" / name;
}

void stamp_speed(nlohmann::json& record, double seconds, int steps, double crop_steps) {
  record["wall_seconds"] = seconds;
  record["steps_done"] = steps;
  record["steps_per_second"] = seconds > 0 ? steps / seconds : 0.0;
  record["crop_steps_per_second"] = seconds > 0 ? crop_steps / seconds : 0.0;
}

// run.json as a run starts, without its starts.
nlohmann::json new_record(const InkModel& model, const RunSpec& spec) {
  return {{"inkgen_version", INKGEN_VERSION},
          {"torch_version", TORCH_VERSION},
          {"status", "running"},
          {"mode", {{"direction", to_string(spec.optimize.direction)}, {"source", spec.source}}},
          {"model", model_json(model)},
          {"device", model.device.str()},
          {"seed", spec.optimize.seed},
          {"options", spec.options},
          {"scale", scale_json(model)},
          {"started_at", utc_now()},
          {"process", process_stamp()},
          {"starts", nlohmann::json::array()}};
}

}  // namespace

const char* to_string(RunStatus status) {
  switch (status) {
    case RunStatus::done:
      return "done";
    case RunStatus::interrupted:
      return "interrupted";
    case RunStatus::failed:
      return "failed";
  }
  return "failed";
}

fs::path start_folder(const fs::path& out, std::size_t index, std::size_t count) {
  if (count == 1) return out;
  char name[16];
  std::snprintf(name, sizeof name, "%03zu", index);
  return out / name;
}

RunOutcome run_optimization(const InkModel& model, const std::vector<StartVolume>& starts,
                            const RunSpec& spec, const OptimizeCallbacks& callbacks) {
  if (starts.empty())
    throw Error(ErrorKind::usage, "nothing to optimize: no starts; give --batch >= 1 or a --crop");
  if (!spec.optimize.row_channels.empty() && spec.optimize.row_channels.size() != starts.size())
    throw Error(ErrorKind::internal, "row_channels needs one channel per start");
  // A wrong layer fails before any file.
  bind_objective(spec.optimize.objective, model, spec.optimize.row_channels);
  check_starts_fit(
      model,
      std::min<std::int64_t>(std::max(1, spec.batch), static_cast<std::int64_t>(starts.size())),
      std::nullopt,
      rows_per_start(change_sign_for(spec.optimize.change_sign, starts.front().source)));
  check_output_fits(spec.out, model, static_cast<std::int64_t>(starts.size()));
  prepare_output_dir(spec.out, spec.overwrite);
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t count = starts.size();

  RunOutcome outcome;
  nlohmann::json& record = outcome.record;
  record = new_record(model, spec);
  for (std::size_t i = 0; i < count; ++i) {
    record["starts"].push_back({{"index", i},
                                {"folder", count == 1 ? "." : start_folder("", i, count).string()},
                                {"source", starts[i].source},
                                {"status", "pending"}});
  }
  int steps_total = 0;
  double crop_steps = 0;
  const auto write_record = [&](const fs::path& out) {
    stamp_speed(record,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                steps_total, crop_steps);
    write_text_atomically(out / "run.json", record.dump(2) + "\n");
    // A batch run gives each start folder its own record too, with that start alone.
    if (count > 1) {
      for (std::size_t i = 0; i < count; ++i) {
        if (record["starts"][i]["status"] == "pending") continue;
        // Everything but the other starts: copying the whole record per start made this
        // quadratic, hours and gigabytes at --batch 100000.
        nlohmann::json one = nlohmann::json::object();
        for (const auto& [key, value] : record.items())
          if (key != "starts") one[key] = value;
        one["starts"] = nlohmann::json::array({record["starts"][i]});
        write_text_atomically(start_folder(out, i, count) / "run.json", one.dump(2) + "\n");
      }
    }
  };
  write_record(spec.out);

  try {
    const std::size_t batch = static_cast<std::size_t>(std::max(1, spec.batch));
    for (std::size_t first = 0; first < count; first += batch) {
      if (first > 0 && callbacks.stop != nullptr && callbacks.stop->load()) {
        outcome.status = RunStatus::interrupted;  // the starts not begun stay "pending"
        break;
      }
      const std::size_t n = std::min(batch, count - first);
      std::vector<at::Tensor> volumes;
      for (std::size_t i = first; i < first + n; ++i)
        volumes.push_back(starts[i].values);
      OptimizeOptions options = spec.optimize;
      options.seed = start_seed(spec.optimize.seed, static_cast<int>(first));
      options.change_sign = change_sign_for(options.change_sign, starts[first].source);
      if (!options.row_channels.empty()) {
        options.row_channels.assign(spec.optimize.row_channels.begin() + first,
                                    spec.optimize.row_channels.begin() + first + n);
      }

      OptimizeCallbacks chunk_callbacks = callbacks;
      chunk_callbacks.on_snapshot = [&](int step, const at::Tensor& volume) {
        for (std::size_t i = 0; i < n; ++i) {
          write_slice_stack(snapshot_folder(start_folder(spec.out, first + i, count), step),
                            volume[i], model.card.range_lo, model.card.range_hi);
          record["starts"][first + i]["status"] = "running";
          record["starts"][first + i]["steps_done"] = step;
        }
        write_record(spec.out);
        if (callbacks.on_snapshot) callbacks.on_snapshot(step, volume);
      };

      const OptimizeResult result =
          optimize_input(model, at::stack(volumes), options, chunk_callbacks);
      steps_total += result.steps_done;
      crop_steps += static_cast<double>(result.steps_done) * static_cast<double>(n);
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = first + k;
        finish_start(record["starts"][i], start_folder(spec.out, i, count), model, spec, result, k,
                     starts[i].source);
      }
      if (result.interrupted) {
        outcome.status = RunStatus::interrupted;
        break;
      }
    }
  } catch (const Error& e) {
    outcome.status = RunStatus::failed;
    record_failure(record, e);
    try {
      write_record(spec.out);
    } catch (const Error&) {
      // The folder may be what failed; the first error is the one to report.
    }
    throw;
  }
  record["status"] = to_string(outcome.status);
  record["finished_at"] = utc_now();
  write_record(spec.out);
  return outcome;
}

std::vector<RunOutcome> run_optimizations_together(const InkModel& model,
                                                   const std::vector<StartVolume>& starts,
                                                   const std::vector<RunSpec>& specs,
                                                   const OptimizeCallbacks& callbacks) {
  if (starts.empty() || starts.size() != specs.size()) {
    throw Error(ErrorKind::internal, "run_optimizations_together needs one spec per start");
  }
  bind_objective(specs.front().optimize.objective, model);  // before any file
  check_starts_fit(
      model, static_cast<std::int64_t>(starts.size()), std::nullopt,
      rows_per_start(change_sign_for(specs.front().optimize.change_sign, starts.front().source)));
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const std::size_t count = starts.size();
  std::vector<RunOutcome> outcomes(count);
  std::vector<std::size_t> live;  // the runs still going: their folders are ready
  const auto fail = [&](std::size_t i, const Error& e) {
    RunOutcome& o = outcomes[i];
    o.status = RunStatus::failed;
    o.error = e;
    if (o.record.is_null()) return;  // its folder never got a run.json
    record_failure(o.record, e);
    o.record["starts"][0]["status"] = "failed";
    try {
      write_text_atomically(specs[i].out / "run.json", o.record.dump(2) + "\n");
    } catch (const Error&) {
      // The folder may be what failed; the first error is the one to report.
    }
  };
  int steps_done = 0;
  const auto stamp = [&](nlohmann::json& record) {
    stamp_speed(record, std::chrono::duration<double>(Clock::now() - t0).count(), steps_done,
                static_cast<double>(steps_done) * static_cast<double>(live.size()));
  };
  for (std::size_t i = 0; i < count; ++i) {
    try {
      prepare_output_dir(specs[i].out, specs[i].overwrite);
      nlohmann::json record = new_record(model, specs[i]);
      record["starts"].push_back(
          {{"index", 0}, {"folder", "."}, {"source", starts[i].source}, {"status", "pending"}});
      stamp(record);
      write_text_atomically(specs[i].out / "run.json", record.dump(2) + "\n");
      outcomes[i].record = std::move(record);
      live.push_back(i);
    } catch (const Error& e) {
      fail(i, e);
    }
  }
  if (live.empty()) return outcomes;

  std::vector<at::Tensor> volumes;
  for (const auto i : live)
    volumes.push_back(starts[i].values);
  OptimizeCallbacks shared = callbacks;
  shared.on_snapshot = [&](int step, const at::Tensor& volume) {
    steps_done = step;
    for (std::size_t k = 0; k < live.size(); ++k) {
      const std::size_t i = live[k];
      if (outcomes[i].status == RunStatus::failed) continue;
      try {
        write_slice_stack(snapshot_folder(specs[i].out, step), volume[static_cast<long>(k)],
                          model.card.range_lo, model.card.range_hi);
        auto& record = outcomes[i].record;
        record["starts"][0]["status"] = "running";
        record["starts"][0]["steps_done"] = step;
        stamp(record);
        write_text_atomically(specs[i].out / "run.json", record.dump(2) + "\n");
      } catch (const Error& e) {
        fail(i, e);
      }
    }
    if (callbacks.on_snapshot) callbacks.on_snapshot(step, volume);
  };

  // The jitter draws as run_optimization's first batch does, so that a job equals the single
  // command run on its start.
  OptimizeOptions options = specs.front().optimize;
  options.seed = start_seed(options.seed, 0);
  options.change_sign = change_sign_for(options.change_sign, starts.front().source);
  // Atlas jobs of one layer share a batch, each start reading its own channel.
  if (!options.row_channels.empty()) {
    options.row_channels.clear();
    for (const auto i : live) {
      if (specs[i].optimize.row_channels.size() != 1)
        throw Error(ErrorKind::internal, "an atlas job needs exactly one row channel");
      options.row_channels.push_back(specs[i].optimize.row_channels.front());
    }
  }
  OptimizeResult result;
  try {
    try {
      result = optimize_input(model, at::stack(volumes), options, shared);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      // LibTorch's own failures (a GPU out of memory) fail the batch like a model error.
      throw Error(ErrorKind::model, "optimizing with model '" + model.card.name +
                                        "' failed: " + short_reason(e) +
                                        "; try a smaller --batch or another --device");
    }
  } catch (const Error& e) {
    for (const auto i : live)
      if (outcomes[i].status != RunStatus::failed) fail(i, e);
    throw;
  }
  steps_done = result.steps_done;
  for (std::size_t k = 0; k < live.size(); ++k) {
    const std::size_t i = live[k];
    if (outcomes[i].status == RunStatus::failed) continue;
    RunOutcome& o = outcomes[i];
    try {
      finish_start(o.record["starts"][0], specs[i].out, model, specs[i], result, k,
                   starts[i].source);
      o.status = result.interrupted ? RunStatus::interrupted : RunStatus::done;
      o.record["status"] = to_string(o.status);
      o.record["finished_at"] = utc_now();
      stamp(o.record);
      write_text_atomically(specs[i].out / "run.json", o.record.dump(2) + "\n");
    } catch (const Error& e) {
      fail(i, e);
    }
  }
  return outcomes;
}

}  // namespace inkgen
