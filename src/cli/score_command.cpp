#include <spdlog/spdlog.h>

#include <iomanip>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "inkgen/crop.hpp"
#include "inkgen/error.hpp"
#include "inkgen/optimization.hpp"
#include "inkgen/start_volume.hpp"

namespace inkgen::cli {

namespace {

struct ScoreOptions {
  ModelOptions model;
  std::string segment;
  std::string crop;
  std::optional<int> z0;
};

}  // namespace

Command add_score_command(CLI::App& parent, const Context& context) {
  auto options = std::make_shared<ScoreOptions>();
  CLI::App* app = parent.add_subcommand("score", "Ink score of a real segment crop");
  add_model_options(*app, options->model);
  app->add_option("-s,--segment", options->segment, "Segment directory (layers/00.tif ...)")
      ->required();
  app->add_option("-c,--crop", options->crop, "x1,y1,x2,y2 (x = column, end exclusive)")
      ->required();
  // The same bound as the optimizing commands' --z0 (option_table.cpp): layer files have at most
  // 6 digits.
  app->add_option("--z0", options->z0,
                  "First layer (default: the card's z0, else the centred window)")
      ->check(CLI::Range(0, 999999));
  return {app, [options, &context]() {
            const Crop crop = parse_crop(options->crop);
            const InkModel model =
                load_model(options->model, context.global, bundled_model_path().string());
            const Segment segment = open_segment(options->segment);
            const auto& card = model.card;
            const int z0 = options->z0.value_or(card.default_z0(segment.layer_count()));
            const StartVolume start = segment_start(card, segment, crop, z0);
            const InkScore score = score_volumes(model, start.values.unsqueeze(0)).front();
            if (context.global.json) {
              nlohmann::json j;
              j["model"] = card.name;
              j["model_path"] = model.path.string();
              j["segment"] = segment.dir.string();
              j["crop"] = {crop.x1, crop.y1, crop.x2, crop.y2};
              j["z0"] = z0;
              j["depth"] = card.depth();
              j["logit"] = score.logit;
              j["probability"] = score.probability;
              j["output_shape"] = model.output_shape;
              j["device"] = model.device.str();
              print_json(j);
            } else {
              std::cout << std::setprecision(6) << "ink score of " << segment.name << " crop "
                        << crop.text() << " layers " << z0 << ".." << z0 + card.depth() - 1
                        << ": logit " << score.logit << ", probability " << score.probability
                        << "\n";
            }
            return 0;
          }};
}

}  // namespace inkgen::cli
