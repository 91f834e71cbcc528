#include "inkgen/run/optimization_run.hpp"

#include <ATen/ATen.h>

#include <cstdio>

#include "inkgen/common/error.hpp"
#include "inkgen/io/segment_writer.hpp"
#include "inkgen/model/resource_estimate.hpp"
#include "inkgen/optimize/change_sign.hpp"
#include "inkgen/optimize/volume_tensor.hpp"
#include "inkgen/run/diff_writer.hpp"
#include "inkgen/run/montage_writer.hpp"
#include "inkgen/run/run_record.hpp"
#include "inkgen/run/slice_stack_writer.hpp"
#include "inkgen/run/volume_metrics.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

using montage_style::fixed;

nlohmann::json map_json(const at::Tensor& map) {
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t y = 0; y < map.size(0); ++y)
    rows.push_back(to_doubles(map[y]));
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
  if (source.value("kind", "") == "segment") {
    for (int64_t z = 0; z < start.size(-3); ++z)
      montage.layer_numbers.push_back(source["layers"][0].get<int>() + static_cast<int>(z));
  }
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

bool stop_asked(const OptimizeCallbacks& callbacks) {
  return callbacks.stop != nullptr && callbacks.stop->load();
}

// A start whose optimization ended but whose files a stop kept from being written.
void mark_unwritten(nlohmann::json& entry, int steps_done) {
  entry["status"] = "interrupted";
  entry["steps_done"] = steps_done;
  entry["error"] = {{"kind", to_string(ErrorKind::interrupted)},
                    {"message", "stopped (SIGINT/SIGTERM) before its files were written"}};
}

fs::path snapshot_folder(const fs::path& start_dir, int step) {
  char name[32];
  std::snprintf(name, sizeof name, "step_%06d", step);
  return start_dir / "snapshots" / name;
}

// run.json as a run starts, without its starts.
nlohmann::json new_record(const InkModel& model, const RunSpec& spec) {
  return new_run_record(
      model, {{"direction", to_string(spec.optimize.direction)}, {"source", spec.source}},
      spec.optimize.seed, spec.options, scale_json(model));
}

}  // namespace

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
  const auto& o = spec.optimize;
  check_output_fits(spec.out, model, static_cast<std::int64_t>(starts.size()),
                    o.save_every > 0 ? o.steps / o.save_every : 0);
  prepare_output_dir(spec.out, spec.overwrite);
  const std::size_t count = starts.size();

  RunOutcome outcome;
  RunRecordFile record(spec.out, new_record(model, spec), starts);
  int steps_total = 0;
  double crop_steps = 0;
  record.set_steps(steps_total, crop_steps);
  record.write();

  try {
    const std::size_t batch = static_cast<std::size_t>(std::max(1, spec.batch));
    for (std::size_t first = 0; first < count; first += batch) {
      if (first > 0 && stop_asked(callbacks)) {
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
      if (n < count && callbacks.on_report) {
        chunk_callbacks.on_report = [&, first](const StepReport& r) {
          StepReport labelled = r;
          labelled.first_start = first;
          labelled.total_starts = count;
          callbacks.on_report(labelled);
        };
      }
      chunk_callbacks.on_snapshot = [&](int step, const at::Tensor& volume) {
        for (std::size_t i = 0; i < n; ++i) {
          write_slice_stack(snapshot_folder(start_folder(spec.out, first + i, count), step),
                            volume[i], model.card.range_lo, model.card.range_hi);
          record.start(first + i)["status"] = "running";
          record.start(first + i)["steps_done"] = step;
        }
        record.write();
        if (callbacks.on_snapshot) callbacks.on_snapshot(step, volume);
      };

      const OptimizeResult result =
          optimize_input(model, at::stack(volumes), options, chunk_callbacks);
      steps_total += result.steps_done;
      crop_steps += static_cast<double>(result.steps_done) * static_cast<double>(n);
      record.set_steps(steps_total, crop_steps);
      bool stopped_writing = false;
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = first + k;
        // Writing thousands of starts takes minutes: a stop that comes after the last step is
        // heard between two of them. One that ended the steps early writes them all, as promised.
        if (k > 0 && !result.interrupted && stop_asked(callbacks)) {
          for (std::size_t j = i; j < first + n; ++j)
            mark_unwritten(record.start(j), result.steps_done);
          stopped_writing = true;
          break;
        }
        finish_start(record.start(i), start_folder(spec.out, i, count), model, spec, result, k,
                     starts[i].source);
      }
      if (result.interrupted || stopped_writing) {
        outcome.status = RunStatus::interrupted;
        break;
      }
    }
  } catch (const Error& e) {
    outcome.status = RunStatus::failed;
    record.fail(e);
    throw;
  }
  record.finish(outcome.status);
  outcome.record = record.json();
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
  const auto t0 = RunRecordFile::Clock::now();
  const std::size_t count = starts.size();
  std::vector<RunOutcome> outcomes(count);
  std::vector<std::optional<RunRecordFile>> records(count);  // empty: its folder has none
  std::vector<std::size_t> live;  // the runs still going: their folders are ready
  int steps_done = 0;
  const auto count_steps = [&](std::size_t i) {
    records[i]->set_steps(steps_done,
                          static_cast<double>(steps_done) * static_cast<double>(live.size()));
  };
  const auto write = [&](std::size_t i) {
    count_steps(i);
    records[i]->write();
  };
  const auto fail = [&](std::size_t i, const Error& e) {
    outcomes[i].status = RunStatus::failed;
    outcomes[i].error = e;
    if (!records[i]) return;
    records[i]->start(0)["status"] = "failed";
    records[i]->fail(e);
  };
  // Every outcome gets the record its run.json holds.
  const auto outcomes_with_records = [&] {
    for (std::size_t i = 0; i < count; ++i)
      if (records[i]) outcomes[i].record = records[i]->json();
    return outcomes;
  };
  for (std::size_t i = 0; i < count; ++i) {
    try {
      prepare_output_dir(specs[i].out, specs[i].overwrite);
      records[i].emplace(specs[i].out, new_record(model, specs[i]),
                         std::vector<StartVolume>{starts[i]}, t0);
      write(i);
      live.push_back(i);
    } catch (const Error& e) {
      fail(i, e);
    }
  }
  if (live.empty()) return outcomes_with_records();

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
        records[i]->start(0)["status"] = "running";
        records[i]->start(0)["steps_done"] = step;
        write(i);
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
    // As in run_optimization: a stop after the last step is heard between two jobs' files.
    if (k > 0 && !result.interrupted && stop_asked(callbacks)) {
      mark_unwritten(records[i]->start(0), result.steps_done);
      outcomes[i].status = RunStatus::interrupted;
      count_steps(i);
      records[i]->finish(RunStatus::interrupted);
      continue;
    }
    try {
      finish_start(records[i]->start(0), specs[i].out, model, specs[i], result, k,
                   starts[i].source);
      outcomes[i].status = result.interrupted ? RunStatus::interrupted : RunStatus::done;
      count_steps(i);
      records[i]->finish(outcomes[i].status);
    } catch (const Error& e) {
      fail(i, e);
    }
  }
  return outcomes_with_records();
}

}  // namespace inkgen
