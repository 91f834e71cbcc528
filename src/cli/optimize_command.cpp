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
#include "inkgen/atlas.hpp"
#include "inkgen/checked_input.hpp"
#include "inkgen/error.hpp"
#include "inkgen/float_tiff_stack.hpp"
#include "inkgen/job_plan.hpp"
#include "inkgen/objective.hpp"
#include "inkgen/optimization_run.hpp"
#include "inkgen/run_record.hpp"
#include "progress_line.hpp"
#include "table_options.hpp"

namespace inkgen::cli {

namespace {

struct OptimizeCommandOptions {
  TableValues table;  // every option of the option table offered to the single commands
  std::string out;
  bool force = false;
};

// What `inkgen atlas` adds: a layer and its channels, each maximized from the same start.
struct AtlasOptions {
  std::string layer;
  std::string channels = "all";
};

// The atlas's tiles, from the diffs its starts wrote (diff.tif holds them exactly).
std::vector<AtlasTile> atlas_tiles(const nlohmann::json& record, const std::filesystem::path& out,
                                   const std::vector<std::int64_t>& channels) {
  std::vector<AtlasTile> tiles;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    const auto& s = record["starts"][i];
    if (!s.contains("objective")) continue;  // not run (interrupted)
    const auto file = out / s["folder"].get<std::string>() / "diff.tif";
    const auto header = probe_float_tiff_stack(file);
    const Crop all{0, 0, header.width, header.height};
    auto values = read_float_tiff_stack(file, all, 0, header.pages);
    const auto diff =
        at::from_blob(values.data(), {header.pages, header.height, header.width}, at::kFloat)
            .clone();
    tiles.push_back({channels[i], diff, s["objective"]["start"].get<double>(),
                     s["objective"]["final"].get<double>()});
  }
  return tiles;
}

void add_options(CLI::App& app, OptimizeCommandOptions& o) {
  add_table_options(app, in_single, o.table);
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
                const AtlasOptions* atlas = nullptr) {
  const std::string command = atlas ? "atlas" : to_string(direction);
  JobRequest request = table_request(o.table);
  request.values["mode"] = to_string(direction);
  if (atlas) {
    if (request.has("objective")) {
      throw Error(ErrorKind::usage,
                  "atlas maximizes each channel of --layer in turn; drop --objective");
    }
    if (atlas->layer.empty() || atlas->layer.find_first_of(": \t") != std::string::npos) {
      throw Error(ErrorKind::usage, "--layer '" + excerpt(atlas->layer) +
                                        "' is not a layer name; `inkgen info` lists them");
    }
    request.values["objective"] = "channel:" + atlas->layer + ":0";
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
  if (atlas) {
    const auto it = std::find_if(model.layers.begin(), model.layers.end(),
                                 [&](const auto& l) { return l.first == atlas->layer; });
    if (it == model.layers.end()) {
      throw Error(ErrorKind::usage, "model '" + model.card.name + "' has no layer '" +
                                        atlas->layer + "'; its layers are " + layers_text(model));
    }
    channels = parse_channel_list(atlas->channels, it->second[0]);
  }
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
  spec.out = o.out.empty() ? default_out(command, spec.source) : std::filesystem::path(o.out);
  spec.overwrite = o.force ? Overwrite::allow : Overwrite::refuse;
  spec.options = record_settings(s, in_single);
  spec.options.update({{"mode", command}, {"out", spec.out.string()}, {"force", o.force}});
  if (atlas) spec.options["atlas"] = {{"layer", atlas->layer}, {"channels", channels}};

  if (!context.global.quiet) {
    spdlog::info("{} ink with '{}' on {}: {} start(s), {} steps of {} (lr {}), writing {}", command,
                 model.card.name, model.device.str(), starts.size(), opt.steps,
                 to_string(opt.rule.kind), opt.rule.lr, spec.out.string());
  }
  ProgressLine progress(context.global.quiet);
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
    const auto tiles = atlas_tiles(record, spec.out, channels);
    if (!tiles.empty()) {
      write_atlas(spec.out / "atlas.png", tiles,
                  {"atlas of layer " + atlas->layer + " of " + model.card.name + ", from " +
                       spec.source + ": each channel's mean maximized (" +
                       std::to_string(opt.steps) + " steps of " + to_string(opt.rule.kind) + ")",
                   "tile: the change at its largest layer z (own scale; red denser, blue "
                   "lighter), under it |change| per layer"});
    }
  }
  if (context.global.json) {
    nlohmann::json summary = record;
    for (auto& s : summary["starts"])
      s.erase("trace");
    summary["out"] = spec.out.string();
    print_json(summary);
  } else if (!context.global.quiet) {
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
  add_options(*app, *options);
  return {app,
          [options, direction, &context]() { return run_command(*options, direction, context); }};
}

}  // namespace

Command add_atlas_command(CLI::App& parent, const Context& context) {
  auto options = std::make_shared<OptimizeCommandOptions>();
  auto atlas = std::make_shared<AtlasOptions>();
  CLI::App* app = parent.add_subcommand(
      "atlas",
      "Maximize every channel of a hidden layer from one start; a grid of what each draws");
  add_options(*app, *options);
  app->add_option("--layer", atlas->layer, "The layer (inkgen info lists a model's layers)")
      ->required();
  app->add_option("--channels", atlas->channels, "all, or channels and ranges such as 0-7,12")
      ->capture_default_str();
  return {app, [options, atlas, &context]() {
            return run_command(*options, Direction::maximize, context, atlas.get());
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
