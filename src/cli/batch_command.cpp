// `inkgen batch`: many jobs (segments x crops x modes) from a JOBS file into one output folder,
// resumable (a manifest of finished jobs) and shardable (--shard i/n, e.g. a Slurm job array).
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "batch_progress.hpp"
#include "commands.hpp"
#include "inkgen/batch_run.hpp"
#include "inkgen/batch_status.hpp"
#include "inkgen/device.hpp"
#include "inkgen/error.hpp"
#include "inkgen/job_plan.hpp"
#include "inkgen/jobs_file.hpp"
#include "inkgen/manifest.hpp"

namespace inkgen::cli {

namespace {

namespace fs = std::filesystem;

struct BatchCommandOptions {
  std::string jobs;
  std::string out;
  int batch = 1;
  std::string shard;
  bool status = false;
  // Defaults for every job line, by the single commands' names.
  ModelOptions model;
  std::optional<std::string> mode;
  std::optional<std::string> source;
  std::vector<std::string> crops;
  std::optional<int> stride;
  std::optional<int> sample;
  std::optional<std::uint64_t> sample_seed;
  std::optional<int> count;
  std::optional<std::string> name;
  std::optional<int> z0;
  std::optional<int> steps;
  std::optional<double> lr;
  std::optional<std::string> optimizer;
  std::optional<double> decay;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> noise;
  std::optional<std::string> noise_range;
  bool no_clamp = false;
  std::optional<double> l2;
  std::optional<double> tv;
  std::optional<int> jitter;
  std::optional<int> blur_every;
  std::optional<double> blur_sigma;
  std::optional<int> report_every;
  std::optional<int> save_every;
  std::optional<std::string> objective;
  std::optional<std::string> param;
  std::optional<double> fourier_decay;
  std::optional<std::string> robust;
  std::optional<double> diversity;
  std::optional<double> stop_at;
};

void add_options(CLI::App& app, BatchCommandOptions& o) {
  app.add_option("jobs", o.jobs,
                 "JSON Lines file, one job per line, or a list of segment directories")
      ->required();
  app.add_option("-o,--out", o.out, "Output folder of the whole batch (and its manifest)")
      ->required();
  app.add_option("--batch", o.batch,
                 "Jobs of one segment with the same model and options optimized together")
      ->capture_default_str();
  app.add_option("--shard", o.shard, "i/n: run only the jobs whose index mod n is i");
  app.add_flag("--status", o.status,
               "Print the merged state of all manifests in --out and run nothing");
  auto* defaults = "Defaults for every job (a job line's keys win)";
  add_model_options(app, o.model, false);
  app.add_option("--mode", o.mode, "maximize or minimize")->group(defaults);
  app.add_option("--source,--from", o.source, "noise or segment")->group(defaults);
  app.add_option("--crops", o.crops, "auto, or x1,y1,x2,y2 crops (repeat or list)")
      ->group(defaults);
  app.add_option("--stride", o.stride, "Grid step of crops auto (default: the crop size)")
      ->group(defaults);
  app.add_option("--sample", o.sample, "Crops auto: a random K of the tiles (0: all)")
      ->group(defaults);
  app.add_option("--sample-seed", o.sample_seed, "Seed of that sample")->group(defaults);
  app.add_option("--count", o.count, "Noise jobs: starts per line")->group(defaults);
  app.add_option("--name", o.name, "Suffix of every job's folder")->group(defaults);
  app.add_option("--z0", o.z0, "First layer (default: the card's z0, else the centred window)")
      ->group(defaults);
  app.add_option("--steps", o.steps, "Optimization steps (default 200)")->group(defaults);
  app.add_option("--lr", o.lr, "Learning rate (default: adam 0.01, sgd 1, seed 1e4)")
      ->group(defaults);
  app.add_option("--optimizer", o.optimizer, "adam, sgd or seed")->group(defaults);
  app.add_option("--decay", o.decay, "Seed optimizer's decay (default 0.2)")->group(defaults);
  app.add_option("--seed", o.seed, "Random seed (noise, jitter)")->group(defaults);
  app.add_option("--noise", o.noise, "uniform, gaussian or smooth")->group(defaults);
  app.add_option("--noise-range", o.noise_range, "lo,hi of the noise")->group(defaults);
  app.add_flag("--no-clamp", o.no_clamp, "Do not keep values inside the valid range")
      ->group(defaults);
  app.add_option("--l2", o.l2, "Weight of an L2 pull towards the start")->group(defaults);
  app.add_option("--tv", o.tv, "Weight of 3D total variation")->group(defaults);
  app.add_option("--jitter", o.jitter, "Random x/y shift before each forward")->group(defaults);
  app.add_option("--blur-every", o.blur_every, "Blur every K steps")->group(defaults);
  app.add_option("--blur-sigma", o.blur_sigma, "Sigma of that blur")->group(defaults);
  app.add_option("--report-every", o.report_every, "Read the scores back every K steps")
      ->group(defaults);
  app.add_option("--save-every", o.save_every, "Snapshot slices every K steps")->group(defaults);
  app.add_option("--objective", o.objective, "logit or bce")->group(defaults);
  app.add_option("--param", o.param, "pixel or fourier")->group(defaults);
  app.add_option("--fourier-decay", o.fourier_decay, "Fourier coefficients' decay")
      ->group(defaults);
  app.add_option("--robust", o.robust, "off, light or strong random 3D transforms")
      ->group(defaults);
  app.add_option("--diversity", o.diversity, "Weight pushing the jobs of one device batch apart")
      ->group(defaults);
  app.add_option("--stop-at", o.stop_at, "Stop a job at this ink probability")->group(defaults);
}

std::optional<std::string> given(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

JobRequest defaults_from(const BatchCommandOptions& o) {
  JobRequest d;
  d.mode = o.mode;
  d.source = o.source;
  if (!o.crops.empty()) parse_crops_option(o.crops, d);
  d.stride = o.stride;
  d.sample = o.sample;
  d.sample_seed = o.sample_seed;
  d.count = o.count;
  d.name = o.name;
  d.model = given(o.model.model);
  d.input_shape = given(o.model.input_shape);
  d.scale = given(o.model.scale);
  d.range = given(o.model.range);
  d.output_kind = given(o.model.output_kind);
  d.z0 = o.z0;
  d.steps = o.steps;
  d.lr = o.lr;
  d.optimizer = o.optimizer;
  d.decay = o.decay;
  d.seed = o.seed;
  d.noise = o.noise;
  d.noise_range = o.noise_range;
  if (o.no_clamp) d.clamp = false;
  d.l2 = o.l2;
  d.tv = o.tv;
  d.jitter = o.jitter;
  d.blur_every = o.blur_every;
  d.blur_sigma = o.blur_sigma;
  d.report_every = o.report_every;
  d.save_every = o.save_every;
  d.objective = o.objective;
  d.param = o.param;
  d.fourier_decay = o.fourier_decay;
  d.robust = o.robust;
  d.diversity = o.diversity;
  d.stop_at = o.stop_at;
  // Whatever add_model_options offers for loading; its defaults are the built-in ones.
  d.precision = given(o.model.precision);
  if (o.model.no_freeze) d.freeze = false;
  return d;
}

int print_status(const JobPlan& plan, const fs::path& out, const std::optional<Shard>& shard,
                 const Context& context) {
  const ManifestLines manifests = read_manifests(out);
  const auto states = job_states(plan.jobs, manifests);
  std::map<std::string, std::size_t> counts;
  for (const char* s : {"done", "failed", "interrupted", "changed", "pending"})
    counts[s] = 0;
  nlohmann::json jobs = nlohmann::json::array();
  std::size_t shown = 0;
  for (std::size_t i = 0; i < plan.jobs.size(); ++i) {
    const auto& job = plan.jobs[i];
    if (shard && !shard->contains(job.index)) continue;
    ++shown;
    ++counts[to_string(states[i].state)];
    nlohmann::json j = {{"index", job.index},
                        {"key", job.key},
                        {"jobs_line", job.line},
                        {"state", to_string(states[i].state)}};
    const auto& line = states[i].line;
    if (line.is_object() && line.contains("error")) j["error"] = line["error"];
    if (line.is_object() && line.contains("finished_at")) j["finished_at"] = line["finished_at"];
    jobs.push_back(std::move(j));
  }
  if (context.global.json) {
    nlohmann::json summary = {{"out", out.string()},
                              {"jobs_total", shown},
                              {"manifests", nlohmann::json::array()},
                              {"unfinished_lines_ignored", manifests.torn},
                              {"unreadable_lines_ignored", manifests.unreadable},
                              {"jobs", jobs}};
    for (const auto& [state, n] : counts)
      summary[state] = n;
    for (const auto& f : manifests.files)
      summary["manifests"].push_back(f.filename().string());
    print_json(summary);
    return 0;
  }
  std::cout << out.string() << ": " << shown << " jobs"
            << (shard ? " in shard " + shard->text() : "") << ": " << counts["done"] << " done, "
            << counts["failed"] << " failed, " << counts["interrupted"] << " interrupted, "
            << counts["changed"] << " changed since done, " << counts["pending"]
            << " pending (from " << manifests.files.size() << " manifest"
            << (manifests.files.size() == 1 ? "" : "s") << ")" << std::endl;
  for (const auto& j : jobs) {
    if (j["state"] == "done" || j["state"] == "pending") continue;
    std::cout << "  " << j["state"].get<std::string>() << "  " << j["key"].get<std::string>()
              << " (line " << j["jobs_line"] << ")";
    if (j.contains("error") && j["error"].contains("message"))
      std::cout << ": " << j["error"]["message"].get<std::string>();
    std::cout << std::endl;
  }
  return 0;
}

int run_command(const BatchCommandOptions& o, const Context& context) {
  std::optional<Shard> shard;
  if (!o.shard.empty()) shard = parse_shard(o.shard);
  if (o.batch < 1)
    throw Error(ErrorKind::usage, "--batch must be at least 1, got " + std::to_string(o.batch));
  const JobRequest defaults = defaults_from(o);
  const auto requests = read_jobs_file(o.jobs);
  ModelCache models(resolve_device(context.global.device));
  const fs::path jobs_path = fs::absolute(o.jobs);
  const JobPlan plan = plan_jobs(requests, defaults,
                                 {jobs_path.filename().string(), jobs_path.parent_path()}, models);
  const bool quiet = context.global.quiet;
  // The log goes to stdout, which --json keeps for its one object.
  const bool chatty = !quiet && !context.global.json;
  if (chatty) {
    for (const auto& w : plan.warnings)
      spdlog::warn("{}", w);
  }
  const fs::path out(o.out);
  if (o.status) return print_status(plan, out, shard, context);

  if (chatty) {
    spdlog::info("batch: {} jobs planned from {}{}; writing {}", plan.jobs.size(), o.jobs,
                 shard ? " (running shard " + shard->text() + ")" : "", out.string());
  }
  BatchProgressLine progress(quiet);
  BatchCallbacks callbacks;
  callbacks.stop = &context.stop_requested;
  callbacks.on_progress = [&](const BatchProgress& p) { progress.report(p); };
  callbacks.on_job_end = [&](const nlohmann::json& line) {
    if (!chatty || line["status"] != "failed") return;
    progress.finish();
    spdlog::warn("job {} failed: {}", line["key"].get<std::string>(),
                 line["error"]["message"].get<std::string>());
  };
  BatchSummary summary;
  try {
    summary = run_batch(plan.jobs, models, {out, o.batch, shard, jobs_path.string()}, callbacks);
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();

  const std::string manifest = summary.manifest.string();
  const char* status = summary.stopped ? "interrupted" : summary.failed > 0 ? "failed" : "done";
  if (context.global.json) {
    print_json({{"status", status},
                {"planned", summary.planned},
                {"selected", summary.selected},
                {"skipped", summary.skipped},
                {"done", summary.done},
                {"failed", summary.failed},
                {"interrupted", summary.interrupted},
                {"not_run", summary.not_run},
                {"seconds", summary.seconds},
                {"out", out.string()},
                {"manifest", manifest},
                {"shard", shard ? shard->text() : "0/1"},
                {"jobs", summary.lines}});
  }
  if (chatty && summary.torn_lines_dropped > 0) {
    spdlog::info("found an unfinished manifest line of a killed run: ignored, its job ran again");
  }
  if (summary.stopped) {
    std::cerr << "inkgen: interrupted: " << summary.done << " done, " << summary.interrupted
              << " interrupted, " << summary.not_run
              << " not started; run the same command again to resume" << std::endl;
    return exit_code(ErrorKind::interrupted);
  }
  if (summary.failed > 0) {
    std::cerr << "inkgen: error: " << summary.failed << " of " << summary.selected
              << " jobs failed (" << summary.done << " done, " << summary.skipped
              << " done before); their errors are in " << manifest
              << "; fix them and run the same command again to retry" << std::endl;
    return exit_jobs_failed;
  }
  if (chatty) {
    spdlog::info("batch done: {} done, {} failed, {} done before, of {} jobs in {}; manifest {}",
                 summary.done, summary.failed, summary.skipped, summary.selected,
                 format_duration(summary.seconds), manifest);
  }
  return 0;
}

}  // namespace

Command add_batch_command(CLI::App& parent, const Context& context) {
  auto options = std::make_shared<BatchCommandOptions>();
  CLI::App* app = parent.add_subcommand(
      "batch", "Run many jobs (segments x crops x modes) into one folder; resumable, shardable");
  add_options(*app, *options);
  return {app, [options, &context]() { return run_command(*options, context); }};
}

}  // namespace inkgen::cli
