#include "inkgen/run_record.hpp"

#include <ctime>

namespace inkgen {

nlohmann::json score_json(const InkScore& score) {
  return {{"logit", score.logit}, {"probability", score.probability}};
}

nlohmann::json trace_json(const std::vector<InkScore>& trace) {
  nlohmann::json logits = nlohmann::json::array(), probabilities = nlohmann::json::array();
  for (const auto& s : trace) {
    logits.push_back(s.logit);
    probabilities.push_back(s.probability);
  }
  return {{"logit", logits}, {"probability", probabilities}};
}

nlohmann::json model_json(const InkModel& model) {
  return {{"path", model.path.string()},
          {"name", model.card.name},
          {"card_origin", model.card_origin},
          {"card", model.card.json},
          {"input_shape", model.batch_shape(1)},
          {"output_shape", model.output_shape},
          {"output_kind", to_string(model.card.output_kind)},
          {"parameters", model.parameter_count}};
}

nlohmann::json scale_json(const InkModel& model) {
  const auto& c = model.card;
  return {
      {"rule", c.scale.text()},
      {"valid_range", {c.range_lo, c.range_hi}},
      {"png",
       "start/ and result/ PNGs: grey = round((v - lo) / (hi - lo) * 255), lo..hi = valid_range, "
       "clipped; the same for every slice"},
      {"diff_png",
       "diff/ PNGs: (result - start) / diff.scale in -1..1; blue = removed, white = unchanged, "
       "red = added"},
      {"diff_tif", "diff.tif: result - start, float32, model input scale, one page per slice"},
      {"volume",
       "volume/layers/NN.tif: the result as 16-bit raw values, by the inverse of the rule"}};
}

void record_failure(nlohmann::json& record, const Error& error) {
  record["status"] = "failed";
  record["error"] = {{"kind", to_string(error.kind())}, {"message", error.what()}};
  record["finished_at"] = utc_now();
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace inkgen
