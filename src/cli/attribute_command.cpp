// `inkgen attribute`: which voxels of a real crop make the model say ink (an attribution map per
// crop). The work is in the core (attribution, attribution_run); this parses and prints.
#include <spdlog/spdlog.h>

#include <ctime>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "inkgen/batch/job_plan.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/common/output_dir.hpp"
#include "inkgen/evaluate/attribution_run.hpp"
#include "table_options.hpp"

namespace inkgen::cli {

namespace {

struct AttributeCommandOptions {
  TableValues table;  // every option of the option table offered to attribute
  std::string from;
  std::string out;
  const CLI::Option* out_option = nullptr;  // given: an empty --out is a mistake, not the default
  bool force = false;
};

std::filesystem::path default_attribution_out(const std::string& name) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::ostringstream stem;
  stem << "attribute-segment-" << std::put_time(&tm, "%Y%m%d-%H%M%S");
  if (!name.empty()) stem << "-" << name;
  std::filesystem::path out = std::filesystem::path("runs") / stem.str();
  for (int i = 2; std::filesystem::exists(out); ++i)
    out = std::filesystem::path("runs") / (stem.str() + "-" + std::to_string(i));
  return out;
}

int run_attribute(const AttributeCommandOptions& o, const Context& context) {
  if (!o.from.empty() && o.from != "segment") {
    throw Error(ErrorKind::usage, "--from " + o.from.substr(0, 40) +
                                      ": attribute explains a real crop, it has no noise starts; "
                                      "use --from segment --segment DIR --crop x1,y1,x2,y2");
  }
  const JobRequest request = table_request(o.table);
  if (!request.has("segment") || !request.has("crops")) {
    throw Error(ErrorKind::usage,
                "attribute needs --segment DIR and at least one --crop x1,y1,x2,y2 (or --crop "
                "auto)");
  }
  const JobSettings s = resolve_settings(request);
  const InkModel model = load_model(s, context.global, bundled_model_path().string());
  const std::vector<StartVolume> starts = segment_starts(model, s);

  AttributionSpec spec;
  spec.attribution = s.attribution;
  spec.seed = s.optimize.seed;
  spec.batch = s.batch;
  spec.out =
      o.out_option->count() == 0 ? default_attribution_out(s.name) : std::filesystem::path(o.out);
  spec.overwrite = o.force ? Overwrite::allow : Overwrite::refuse;
  spec.options = record_settings(s, in_attribute);
  spec.options.update({{"source", "segment"}, {"out", spec.out.string()}, {"force", o.force}});

  // --json: stdout holds the JSON alone (the log goes to stdout too).
  const bool chatty = !context.global.quiet && !context.global.json;
  check_output_dir(spec.out, spec.overwrite);  // a refusal comes before "writing ..."
  if (chatty) {
    spdlog::info("attribute ink with '{}' on {}: {} crop(s), method {}, writing {}",
                 model.card.name, model.device.str(), starts.size(),
                 to_string(s.attribution.method), spec.out.string());
  }
  const RunOutcome outcome = run_attribution(model, starts, spec, &context.stop_requested);
  const auto& record = outcome.record;
  if (context.global.json) {
    nlohmann::json summary = record;
    summary["out"] = spec.out.string();
    print_json(summary);
  } else if (chatty) {
    for (const auto& start : record["starts"]) {
      if (!start.contains("attribution")) continue;
      const auto& a = start["attribution"];
      spdlog::info("crop {}: ink probability {:.4f}, sum |A| {:.4g} (scale {:.3g}) in {}",
                   start["index"].get<int>(), start["start_score"]["probability"].get<double>(),
                   a["sum_abs"].get<double>(), a["scale"].get<double>(),
                   (spec.out / start["folder"].get<std::string>()).lexically_normal().string());
    }
    spdlog::info("record in {}", (spec.out / "run.json").string());
  }
  if (outcome.status == RunStatus::interrupted) {
    std::cerr << "inkgen: interrupted; the maps so far are in " << spec.out.string()
              << " (run.json status \"interrupted\")" << std::endl;
    return exit_code(ErrorKind::interrupted);
  }
  return 0;
}

}  // namespace

Command add_attribute_command(CLI::App& parent, const Context& context) {
  auto options = std::make_shared<AttributeCommandOptions>();
  CLI::App* app = parent.add_subcommand(
      "attribute", "Show which voxels of a real crop make the model say ink (attribution maps)");
  app->add_option("--from,--source", options->from,
                  "Where the crops come from: segment (the only source; attribution needs a real "
                  "crop)");
  add_table_options(*app, in_attribute, options->table);
  options->out_option = app->add_option("-o,--out", options->out,
                                        "Output folder (default: runs/attribute-segment-<time>)");
  app->add_flag("--force", options->force, "Replace the run in an existing --out");
  return {app, [options, &context]() { return run_attribute(*options, context); }};
}

}  // namespace inkgen::cli
