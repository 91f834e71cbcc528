#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/card/crop_normalization.hpp"
#include "inkgen/card/value_scale.hpp"
#include "inkgen/common/enum_names.hpp"

namespace inkgen {

enum class OutputKind { logits, probability };
inline constexpr EnumNames<OutputKind, 2> output_kind_names{
    {{OutputKind::logits, "logits"}, {OutputKind::probability, "probability"}}};

// What a model's card says about it (README "Model cards" documents the schema).
struct ModelCard {
  std::string name;
  std::array<std::int64_t, 4> input_shape{};  // C, D, H, W
  ValueScale scale;
  Normalization normalization;  // input.normalize: per crop, after the raw rule
  double range_lo = 0.0;        // the valid input range on the model's scale
  double range_hi = 1.0;
  std::optional<int> z0;  // first segment layer the model reads
  // input.profile (inkgen's extension): the mean input value of each layer over the model's
  // training windows, on the model's scale; empty when the card has none. What a plain sheet looks
  // like to this model (the noise kind "sheet").
  std::vector<double> profile;
  // input.profile_sd: the spread of each layer about the profile (its texture); empty when none.
  std::vector<double> profile_sd;
  OutputKind output_kind = OutputKind::logits;
  std::string output_meaning;
  nlohmann::json json;  // the card as given, with inkgen's additions, for records

  std::int64_t channels() const { return input_shape[0]; }
  std::int64_t depth() const { return input_shape[1]; }
  std::int64_t height() const { return input_shape[2]; }
  std::int64_t width() const { return input_shape[3]; }
  // The first layer to read from a segment of `layer_count` layers: the card's z0, or else the
  // window centred in the stack (layers 29..36 of 65 for an 8-layer model, as its authors used).
  int default_z0(int layer_count) const;
};

// What the command line says about a model, overriding the card or standing in for a missing one.
struct CardOverrides {
  std::optional<std::array<std::int64_t, 4>> input_shape;
  std::optional<std::string> scale;
  std::optional<std::array<double, 2>> range;
  std::optional<int> z0;
  std::optional<OutputKind> output_kind;

  bool can_stand_alone() const { return input_shape.has_value() && scale.has_value(); }
};

// Reads a card; `origin` names where it came from, for messages. Throws Error(model) naming the
// missing or malformed key.
ModelCard parse_model_card(const nlohmann::json& card, const std::string& origin);
ModelCard parse_model_card_text(const std::string& text, const std::string& origin);
// A card built from the command line alone, for a model that has none.
ModelCard card_from_overrides(const std::string& name, const CardOverrides& overrides);
// The card with the command line's values put in its place.
ModelCard apply_overrides(ModelCard card, const CardOverrides& overrides);

OutputKind parse_output_kind(const std::string& text);
const char* to_string(OutputKind kind);
// "1,30,64,64" -> {1,30,64,64}; throws Error(usage).
std::array<std::int64_t, 4> parse_input_shape(const std::string& text);

}  // namespace inkgen
