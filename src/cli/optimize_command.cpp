// `inkgen maximize` and `inkgen minimize`: the four modes (ink up or down, from noise or from a
// real segment crop).
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "inkgen/batch/job_plan.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/common/output_dir.hpp"
#include "inkgen/evaluate/atlas.hpp"
#include "inkgen/optimize/objective.hpp"
#include "inkgen/run/optimization_run.hpp"
#include "inkgen/run/run_record.hpp"
#include "progress_line.hpp"
#include "table_options.hpp"

namespace inkgen::cli {

namespace {

struct OptimizeCommandOptions {
  TableValues table;  // every option of the option table offered to the single commands
  std::string out;
  const CLI::Option* out_option = nullptr;  // given: an empty --out is a mistake, not the default
  bool force = false;
};

void add_options(CLI::App& app, OptimizeCommandOptions& o, unsigned scope) {
  add_table_options(app, scope, o.table);
  o.out_option =
      app.add_option("-o,--out", o.out, "Output folder (default: runs/<command>-<source>-<time>)");
  app.add_flag("--force", o.force, "Replace the run in an existing --out");
}

std::filesystem::path default_out(const std::string& command, const std::string& from) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::ostringstream name;
  name << command << "-" << from << "-" << std::put_time(&tm, "%Y%m%d-%H%M%S");
  std::filesystem::path out = std::filesystem::path("runs") / name.str();
  for (int i = 2; std::filesystem::exists(out); ++i)
    out = std::filesystem::path("runs") / (name.str() + "-" + std::to_string(i));
  return out;
}

int run_command(const OptimizeCommandOptions& o, Direction direction, const Context& context,
                bool atlas = false) {
  const std::string command = atlas ? "atlas" : to_string(direction);
  JobRequest request = table_request(o.table);
  request.values["mode"] = to_string(direction);
  if (atlas) {
    if (!request.has("layer")) {
      throw Error(ErrorKind::usage,
                  "atlas needs --layer LAYER; `inkgen info --model M` lists the model's layers");
    }
    if (!request.has("source")) request.values["source"] = "noise";
  }
  if (!request.has("source")) {
    throw Error(
        ErrorKind::usage,
        "say where to start: add --from noise or --from segment --segment DIR --crop x1,y1,x2,y2");
  }
  const bool from_segment = request.values["source"] == "segment";
  if (from_segment && (!request.has("segment") || !request.has("crops"))) {
    throw Error(ErrorKind::usage,
                "--from segment needs --segment DIR and at least one --crop x1,y1,x2,y2 (or "
                "--crop auto)");
  }
  if (!from_segment && (request.has("segment") || request.has("crops"))) {
    throw Error(ErrorKind::usage,
                "--segment and --crop belong to --from segment; drop them or use --from segment");
  }
  const JobTemplate t = plan_template(request, request, {}, false);
  const JobSettings& s = t.settings;
  const OptimizeOptions& opt = t.optimize;

  const InkModel model = load_model(s, context.global, bundled_model_path().string());
  std::vector<std::int64_t> channels;
  if (atlas) channels = atlas_channels(model, s.layer, s.channels);
  bind_objective(opt.objective, model);  // a layer the model lacks fails before anything is said
  std::vector<StartVolume> starts;
  if (from_segment) {
    starts = segment_starts(model, s);
  } else {
    starts = noise_starts(model.card, atlas ? 1 : s.count.value_or(s.batch), t.noise, opt.seed);
  }
  if (atlas) {
    // Every channel from the same start, so that the tiles differ by the channel alone.
    starts.assign(channels.size(), starts.front());
  }

  RunSpec spec;
  spec.source = from_segment ? "segment" : "noise";
  spec.optimize = opt;
  spec.batch = s.batch;
  if (atlas) {
    spec.optimize.row_channels = channels;
    // A layer's channels share one batch tensor unless --batch says otherwise.
    if (!request.has("batch"))
      spec.batch = static_cast<int>(std::min<std::size_t>(channels.size(), 16));
  }
  spec.out =
      o.out_option->count() == 0 ? default_out(command, spec.source) : std::filesystem::path(o.out);
  spec.overwrite = o.force ? Overwrite::allow : Overwrite::refuse;
  spec.options = record_settings(s, atlas ? in_single | in_atlas : in_single);
  spec.options.update({{"mode", command}, {"out", spec.out.string()}, {"force", o.force}});

  check_output_dir(spec.out, spec.overwrite);  // a refusal comes before "writing ..."
  if (!context.global.quiet) {
    spdlog::info("{} ink with '{}' on {}: {} start(s), {} steps of {} (lr {}), writing {}", command,
                 model.card.name, model.device.str(), starts.size(), opt.steps,
                 to_string(opt.rule.kind), opt.rule.lr, spec.out.string());
  }
  if (!context.global.quiet &&
      (opt.regularizers.robust != Robustness::off || opt.regularizers.jitter > 0)) {
    spdlog::info(
        "the progress scores are of the volume as the model saw it at each step (shifted or "
        "transformed by --robust/--jitter); the final scores are of the result itself");
  }
  ProgressLine progress(context.global.quiet,
                        ProgressWatch(opt.direction, opt.stop_at.has_value()));
  OptimizeCallbacks callbacks;
  callbacks.on_report = [&](const StepReport& r) { progress.report(r); };
  callbacks.stop = &context.stop_requested;
  RunOutcome outcome;
  try {
    outcome = run_optimization(model, starts, spec, callbacks);
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();

  const auto& record = outcome.record;
  if (atlas) {
    std::vector<AtlasTile> tiles;
    for (std::size_t i = 0; i < channels.size(); ++i) {
      if (auto tile = read_atlas_tile(spec.out, record["starts"][i], channels[i]))
        tiles.push_back(std::move(*tile));
    }
    if (!tiles.empty()) {
      write_atlas(spec.out / "atlas.png", tiles,
                  atlas_caption(s.layer, model.card.name, spec.source, opt.steps,
                                to_string(opt.rule.kind)));
    }
  }
  if (context.global.json) {
    nlohmann::json summary = record;
    for (auto& s : summary["starts"])
      s.erase("trace");
    summary["out"] = spec.out.string();
    print_json(summary);
  }
  if (!context.global.quiet) {
    // A hidden-layer objective that did not move at all: a channel off everywhere (ReLU) has a
    // zero gradient for this start, which looks like a failed run otherwise.
    for (const auto& s : record["starts"]) {
      if (s.contains("objective") && s["steps_done"].get<int>() > 0 &&
          s["objective"]["start"] == s["objective"]["final"]) {
        spdlog::warn(
            "start {}: {} did not change in {} steps: its gradient is zero here (a "
            "channel off everywhere for this start?); try another start or channel",
            s["index"].get<int>(), s["objective"]["text"].get<std::string>(),
            s["steps_done"].get<int>());
      }
    }
  }
  if (!context.global.json && !context.global.quiet) {
    for (const auto& s : record["starts"]) {
      if (!s.contains("final_score")) continue;
      spdlog::info("start {}: ink probability {:.4f} -> {:.4f} (logit {:.3f} -> {:.3f}) in {}",
                   s["index"].get<int>(), s["start_score"]["probability"].get<double>(),
                   s["final_score"]["probability"].get<double>(),
                   s["start_score"]["logit"].get<double>(), s["final_score"]["logit"].get<double>(),
                   (spec.out / s["folder"].get<std::string>()).lexically_normal().string());
    }
    spdlog::info("{} steps in {:.1f} s ({:.2f} steps/s); record in {}",
                 record["steps_done"].get<int>(), record["wall_seconds"].get<double>(),
                 record["steps_per_second"].get<double>(), (spec.out / "run.json").string());
  }
  if (outcome.status == RunStatus::interrupted) {
    std::cerr << "inkgen: interrupted after step " << record["steps_done"].get<int>()
              << "; the results so far are in " << spec.out.string()
              << " (run.json status \"interrupted\")" << std::endl;
    return exit_code(ErrorKind::interrupted);
  }
  return 0;
}

Command add_direction_command(CLI::App& parent, const Context& context, Direction direction,
                              const std::string& description) {
  auto options = std::make_shared<OptimizeCommandOptions>();
  CLI::App* app = parent.add_subcommand(to_string(direction), description);
  add_options(*app, *options, in_single);
  return {app,
          [options, direction, &context]() { return run_command(*options, direction, context); }};
}

}  // namespace

Command add_atlas_command(CLI::App& parent, const Context& context) {
  auto options = std::make_shared<OptimizeCommandOptions>();
  CLI::App* app = parent.add_subcommand(
      "atlas",
      "Maximize every channel of a hidden layer from one start; a grid of what each draws");
  add_options(*app, *options, in_single | in_atlas);
  return {app, [options, &context]() {
            return run_command(*options, Direction::maximize, context, true);
          }};
}

Command add_maximize_command(CLI::App& parent, const Context& context) {
  return add_direction_command(
      parent, context, Direction::maximize,
      "Change the input volume until the model sees ink (gradient ascent)");
}

Command add_minimize_command(CLI::App& parent, const Context& context) {
  return add_direction_command(
      parent, context, Direction::minimize,
      "Change the input volume until the model sees no ink (gradient descent)");
}

}  // namespace inkgen::cli
