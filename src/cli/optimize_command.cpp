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
#include "inkgen/error.hpp"
#include "inkgen/optimization_run.hpp"
#include "inkgen/run_record.hpp"
#include "progress_line.hpp"

namespace inkgen::cli {

namespace {

struct OptimizeCommandOptions {
  ModelOptions model;
  std::string from;
  std::string segment;
  std::vector<std::string> crops;
  std::optional<int> z0;
  std::string out;
  bool force = false;
  int steps = 200;
  std::optional<double> lr;
  std::string optimizer = "adam";
  double decay = 0.2;
  std::uint64_t seed = 0;
  int batch = 1;
  int save_every = 0;
  int report_every = 10;
  std::string noise = "uniform";
  std::string noise_range;
  bool no_clamp = false;
  double l2 = 0.0;
  double tv = 0.0;
  int jitter = 0;
  int blur_every = 0;
  double blur_sigma = 0.5;
  std::string objective = "logit";
  std::string param = "pixel";
  double fourier_decay = 1.0;
  std::string robust = "off";
  double diversity = 0.0;
  std::optional<double> stop_at;
};

void add_options(CLI::App& app, OptimizeCommandOptions& o) {
  add_model_options(app, o.model, false);
  app.add_option("--from", o.from, "Start from random noise or from a real segment crop")
      ->check(CLI::IsMember({"noise", "segment"}));
  app.add_option("-s,--segment", o.segment, "Segment directory (with --from segment)");
  app.add_option("-c,--crop", o.crops, "x1,y1,x2,y2 crop of the segment; repeat for several crops");
  app.add_option("--z0", o.z0, "First layer (default: the card's z0, else the centred window)");
  app.add_option("-o,--out", o.out, "Output folder (default: runs/<command>-<source>-<time>)");
  app.add_flag("--force", o.force, "Replace the run in an existing --out");
  app.add_option("--steps", o.steps, "Optimization steps")->capture_default_str();
  app.add_option("--lr", o.lr, "Learning rate (default: adam 0.01, sgd 1, seed 1e4)");
  app.add_option("--optimizer", o.optimizer,
                 "adam, sgd, or seed (the research script's decayed steps)")
      ->capture_default_str();
  app.add_option("--decay", o.decay, "Seed optimizer: x <- (x - lr*grad) * (1 - decay)")
      ->capture_default_str();
  app.add_option("--seed", o.seed,
                 "Random seed (noise, jitter): same seed, same result on the same device")
      ->capture_default_str();
  app.add_option("--batch", o.batch,
                 "Starts optimized together in one tensor (noise: how many starts)")
      ->capture_default_str();
  app.add_option("--save-every", o.save_every, "Save snapshot slices every K steps (0: never)");
  app.add_option("--report-every", o.report_every, "Read the score back and report every K steps")
      ->capture_default_str();
  app.add_option("--noise", o.noise, "uniform, gaussian or smooth (low-pass) noise")
      ->capture_default_str();
  app.add_option("--noise-range", o.noise_range,
                 "lo,hi of the noise (default: the card's valid range)");
  app.add_flag("--no-clamp", o.no_clamp, "Do not keep values inside the card's valid range");
  app.add_option("--l2", o.l2, "Weight of an L2 pull towards the start")->capture_default_str();
  app.add_option("--tv", o.tv, "Weight of 3D total variation")->capture_default_str();
  app.add_option("--jitter", o.jitter,
                 "Shift the volume by up to J voxels in x/y before each forward")
      ->capture_default_str();
  app.add_option("--blur-every", o.blur_every, "Blur the volume every K steps (0: never)")
      ->capture_default_str();
  app.add_option("--blur-sigma", o.blur_sigma, "Sigma of that blur, in voxels")
      ->capture_default_str();
  app.add_option("--objective", o.objective,
                 "What a step moves: the mean logit (logit) or every output cell's cross-entropy "
                 "against the wanted label (bce)")
      ->capture_default_str();
  app.add_option("--param", o.param,
                 "Optimize the voxels (pixel) or the 3D Fourier coefficients (fourier)")
      ->capture_default_str();
  app.add_option("--fourier-decay", o.fourier_decay,
                 "Fourier coefficients are scaled by 1/max(f,1/N)^decay")
      ->capture_default_str();
  app.add_option("--robust", o.robust,
                 "Random 3D shifts, scalings, rotations and padding before each forward: off, "
                 "light or strong")
      ->capture_default_str();
  app.add_option("--diversity", o.diversity, "Weight of a term pushing the starts of a batch apart")
      ->capture_default_str();
  app.add_option(
      "--stop-at", o.stop_at,
      "Stop when every start's ink probability is at least P (maximize) or at most P (minimize)");
}

std::array<double, 2> parse_range(const std::string& text, const std::string& option) {
  double lo = 0, hi = 0;
  char comma = 0;
  std::istringstream in(text);
  if (!(in >> lo >> comma >> hi) || comma != ',' || !(in >> std::ws).eof() || !(lo < hi)) {
    throw Error(ErrorKind::usage,
                option + " '" + text + "' is not lo,hi with lo < hi; e.g. " + option + " 0.2,0.6");
  }
  return {lo, hi};
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

OptimizeOptions optimize_options(const OptimizeCommandOptions& o, Direction direction) {
  OptimizeOptions opt;
  opt.direction = direction;
  opt.steps = o.steps;
  opt.rule.kind = parse_optimizer_kind(o.optimizer);
  opt.rule.lr = o.lr.value_or(default_learning_rate(opt.rule.kind));
  opt.rule.decay = o.decay;
  opt.regularizers = {
      o.l2, o.tv, o.jitter, o.blur_every, o.blur_sigma, parse_robustness(o.robust), o.diversity};
  opt.objective = parse_objective(o.objective);
  opt.param = parse_param_kind(o.param);
  opt.stop_at = o.stop_at;
  opt.fourier_decay = o.fourier_decay;
  // A noise start may become anything in range; a real crop should stay itself where unchanged.
  opt.fourier_range =
      o.from == "segment" ? FourierRange::clamp_around_start : FourierRange::sigmoid;
  opt.clamp = !o.no_clamp;
  opt.seed = o.seed;
  opt.report_every = std::max(1, o.report_every);
  opt.save_every = o.save_every;
  check_options(opt);
  return opt;
}

nlohmann::json options_json(const OptimizeCommandOptions& o, const OptimizeOptions& opt,
                            const RunSpec& spec) {
  nlohmann::json j = optimize_options_json(opt);
  j.update({{"from", o.from},
            {"segment", o.segment},
            {"crops", o.crops},
            {"z0", o.z0 ? nlohmann::json(*o.z0) : nlohmann::json("card")},
            {"out", spec.out.string()},
            {"force", o.force},
            {"batch", o.batch},
            {"noise", o.noise},
            {"noise_range",
             o.noise_range.empty() ? nlohmann::json("card") : nlohmann::json(o.noise_range)},
            {"precision", o.model.precision},
            {"freeze", !o.model.no_freeze}});
  return j;
}

int run_command(const OptimizeCommandOptions& o, Direction direction, const Context& context) {
  const std::string command = to_string(direction);
  if (o.from.empty()) {
    throw Error(
        ErrorKind::usage,
        "say where to start: add --from noise or --from segment --segment DIR --crop x1,y1,x2,y2");
  }
  if (o.batch < 1)
    throw Error(ErrorKind::usage, "--batch must be at least 1, got " + std::to_string(o.batch));
  const bool from_segment = o.from == "segment";
  if (from_segment && (o.segment.empty() || o.crops.empty())) {
    throw Error(ErrorKind::usage,
                "--from segment needs --segment DIR and at least one --crop x1,y1,x2,y2");
  }
  if (!from_segment && (!o.segment.empty() || !o.crops.empty())) {
    throw Error(ErrorKind::usage,
                "--segment and --crop belong to --from segment; drop them or use --from segment");
  }
  std::vector<Crop> crops;
  for (const auto& c : o.crops)
    crops.push_back(parse_crop(c));
  const OptimizeOptions opt = optimize_options(o, direction);
  NoiseSpec noise{parse_noise_kind(o.noise), std::nullopt};
  if (!o.noise_range.empty()) noise.range = parse_range(o.noise_range, "--noise-range");

  const InkModel model = load_model(o.model, context.global, bundled_model_path().string());
  std::vector<StartVolume> starts;
  if (from_segment) {
    const Segment segment = open_segment(o.segment);
    const int z0 = o.z0.value_or(model.card.default_z0(segment.layer_count()));
    for (const auto& crop : crops)
      starts.push_back(segment_start(model.card, segment, crop, z0));
  } else {
    starts = noise_starts(model.card, o.batch, noise, o.seed);
  }

  RunSpec spec;
  spec.source = o.from;
  spec.optimize = opt;
  spec.batch = o.batch;
  spec.out = o.out.empty() ? default_out(command, o.from) : std::filesystem::path(o.out);
  spec.overwrite = o.force ? Overwrite::allow : Overwrite::refuse;
  spec.options = options_json(o, opt, spec);

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
