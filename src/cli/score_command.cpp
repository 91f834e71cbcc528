#include <spdlog/spdlog.h>

#include <iomanip>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "inkgen/batch/job_plan.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/evaluate/depth_check.hpp"
#include "inkgen/io/crop.hpp"
#include "inkgen/optimize/optimization.hpp"
#include "inkgen/optimize/start_volume.hpp"

namespace inkgen::cli {

namespace {

struct ScoreOptions {
  ModelOptions model;  // with z0, reverse-layers and depth-check from the option table
  std::string segment;
  std::string crop;
};

void print_depth_check(const nlohmann::json& j) {
  const auto line = [](const char* label, const nlohmann::json& s) {
    std::cout << label << "logit " << s["logit"].get<double>() << ", probability "
              << s["probability"].get<double>() << "\n";
  };
  line("  layers as stored   ", j["as_stored"]);
  line("  layers reversed    ", j["reversed"]);
  for (const auto& s : j["shuffled"])
    line("  layers shuffled    ", s);
  std::cout << "  " << j["verdict"].get<std::string>() << "\n";
}

}  // namespace

Command add_score_command(CLI::App& parent, const Context& context) {
  auto options = std::make_shared<ScoreOptions>();
  CLI::App* app = parent.add_subcommand("score", "Ink score of a real segment crop");
  add_model_options(*app, options->model);
  app->add_option("-s,--segment", options->segment, "Segment directory (layers/00.tif ...)")
      ->required();
  app->add_option("-c,--crop", options->crop, "x1,y1,x2,y2 (x = column, end exclusive)")
      ->required();
  add_table_options(*app, 0, options->model.values,
                    {"z0", "reverse-layers", "level", "depth-check"});
  return {app, [options, &context]() {
            const Crop crop = parse_crop(options->crop);
            const InkModel model =
                load_model(options->model, context.global, bundled_model_path().string());
            const JobSettings settings = resolve_settings(table_request(options->model.values));
            const Segment segment =
                open_segment(options->segment, layer_order(settings), settings.level);
            const auto& card = model.card;
            const int z0 = settings.z0.value_or(card.default_z0(segment.layer_count()));
            const StartVolume start = segment_start(card, segment, crop, z0);
            const InkScore score = score_volumes(model, start.values.unsqueeze(0)).front();
            const nlohmann::json check =
                settings.depth_check > 0
                    ? depth_check_json(
                          depth_check(model, segment, crop, settings.z0, settings.depth_check, 0))
                    : nlohmann::json();
            if (context.global.json) {
              nlohmann::json j;
              j["model"] = card.name;
              j["model_path"] = model.path.string();
              j["segment"] = segment.dir.string();
              j["crop"] = {crop.x1, crop.y1, crop.x2, crop.y2};
              j["z0"] = z0;
              j["layer_order"] = settings.reverse_layers ? "reversed" : "as_stored";
              j["depth"] = card.depth();
              j["logit"] = score.logit;
              j["probability"] = score.probability;
              j["output_shape"] = model.output_shape;
              j["device"] = model.device.str();
              if (!check.is_null()) j["depth_check"] = check;
              print_json(j);
            } else {
              std::cout << std::setprecision(6) << "ink score of " << segment.name << " crop "
                        << crop.text() << " layers " << z0 << ".." << z0 + card.depth() - 1
                        << (settings.reverse_layers ? " of the reversed stack" : "") << ": logit "
                        << score.logit << ", probability " << score.probability << "\n";
              if (!check.is_null()) print_depth_check(check);
            }
            return 0;
          }};
}

}  // namespace inkgen::cli
