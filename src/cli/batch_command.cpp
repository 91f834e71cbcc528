// `inkgen batch`: many jobs (segments x crops x modes) from a JOBS file into one output folder,
// resumable (a manifest of finished jobs) and shardable (--shard i/n, e.g. a Slurm job array).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

#include "batch_progress.hpp"
#include "commands.hpp"
#include "inkgen/batch/batch_run.hpp"
#include "inkgen/batch/batch_status.hpp"
#include "inkgen/batch/job_plan.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/jobs/jobs_file.hpp"
#include "inkgen/jobs/manifest.hpp"
#include "inkgen/model/device.hpp"
#include "table_options.hpp"

namespace inkgen::cli {

namespace {

namespace fs = std::filesystem;

struct BatchCommandOptions {
  std::string jobs;
  std::string out;
  std::string shard;
  const CLI::Option* shard_option = nullptr;  // given at all: --shard '' is a mistake, not "none"
  bool status = false;
  TableValues defaults;  // defaults for every job line, by the single commands' names
};

void add_options(CLI::App& app, BatchCommandOptions& o) {
  app.add_option("jobs", o.jobs,
                 "JSON Lines file, one job per line, or a list of segment directories")
      ->required();
  app.add_option("-o,--out", o.out, "Output folder of the whole batch (and its manifest)")
      ->required();
  o.shard_option =
      app.add_option("--shard", o.shard, "i/n: run only the jobs whose index mod n is i");
  app.add_flag("--status", o.status,
               "Print the merged state of all manifests in --out and run nothing");
  add_table_options(app, in_batch, o.defaults, {},
                    "Defaults for every job (a job line's keys win)");
}

int print_status(const JobPlan& plan, const fs::path& out, const std::optional<Shard>& shard,
                 const Context& context) {
  std::error_code ec;
  if (!fs::is_directory(out, ec)) {
    throw Error(ErrorKind::usage, "--status: " + out.string() +
                                      " does not exist, so no batch has run there; give the --out "
                                      "of a batch (or run the batch first)");
  }
  const ManifestLines manifests = read_manifests(out);
  if (manifests.files.empty()) {
    spdlog::warn(
        "{} holds no manifest: no batch has run there yet (or it is not the --out of "
        "this batch)",
        out.string());
  }
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
    for (const char* score : {"start_score", "final_score"})
      if (line.is_object() && line.contains(score)) j[score] = line[score];
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
  // The done jobs' ink probabilities in one line; every job's own are in --json and the report.
  double before = 0, after = 0, lowest = 1, highest = 0;
  std::size_t scored = 0;
  for (const auto& j : jobs) {
    if (j["state"] != "done" || !j.contains("start_score") || !j.contains("final_score")) continue;
    const double p0 = j["start_score"].value("probability", 0.0);
    const double p1 = j["final_score"].value("probability", 0.0);
    before += p0;
    after += p1;
    lowest = std::min(lowest, p1);
    highest = std::max(highest, p1);
    ++scored;
  }
  if (scored > 0) {
    char line[160];
    std::snprintf(line, sizeof line,
                  "  done: ink probability %.4f -> %.4f on average over %zu job%s (final "
                  "%.4f..%.4f)",
                  before / static_cast<double>(scored), after / static_cast<double>(scored), scored,
                  scored == 1 ? "" : "s", lowest, highest);
    std::cout << line << "; every job's: --json, or inkgen report " << out.string() << std::endl;
  }
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
  if (o.shard_option->count() > 0) shard = parse_shard(o.shard);
  if (o.out.empty()) throw Error(ErrorKind::usage, "--out is empty; give the batch's folder");
  const JobRequest defaults = table_request(o.defaults);
  // The device batch is the batch's own, not a job's: checked and read by the table's rule.
  const int device_batch = resolve_settings(defaults).batch;
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
    summary =
        run_batch(plan.jobs, models, {out, device_batch, shard, jobs_path.string()}, callbacks);
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();

  const std::string manifest = summary.manifest.string();
  std::vector<std::string> atlas_paths;
  for (const auto& a : summary.atlases)
    atlas_paths.push_back(a.string());
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
                {"atlases", atlas_paths},
                {"jobs", summary.lines}});
  }
  if (chatty) {
    for (const auto& a : atlas_paths)
      spdlog::info("atlas: {}", a);
  }
  // A manifest line someone edited or a disk garbled means
  // the record of that job is gone, and the job ran again.
  if (summary.unreadable_lines > 0) {
    spdlog::warn(
        "{} line(s) of the manifests in {} are not job records (edited or corrupted): "
        "ignored, so their jobs ran again; look at the manifest lines that are not JSON "
        "objects with a \"key\"",
        summary.unreadable_lines, out.string());
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
