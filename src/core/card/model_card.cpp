#include "inkgen/card/model_card.hpp"

#include <algorithm>
#include <cmath>

#include <sstream>

#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"

namespace inkgen {

namespace {

[[noreturn]] void card_error(const std::string& origin, const std::string& problem) {
  throw Error(ErrorKind::model, "model card " + origin + ": " + problem +
                                    "; fix the card (README \"Model cards\") or give "
                                    "--input-shape and --scale");
}

const nlohmann::json& require(const nlohmann::json& object, const char* key,
                              const std::string& path, const std::string& origin) {
  if (!object.is_object() || !object.contains(key)) {
    card_error(origin, "missing key '" + path + key + "'");
  }
  return object.at(key);
}

// A whole number of the card within lo..hi, or a card error naming `key`.
long long card_whole(const nlohmann::json& v, long long lo, long long hi, const std::string& key,
                     const std::string& origin) {
  const auto n = whole_of(v);
  if (!n || *n < lo || *n > hi) {
    card_error(origin, "'" + key + "' must be a whole number in " + std::to_string(lo) + ".." +
                           std::to_string(hi) + ", got " + excerpt(v));
  }
  return *n;
}

std::array<std::int64_t, 4> shape_from_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_array() || j.size() != 4) {
    card_error(origin,
               "'input.shape' must be a list of 4 integers [C, D, H, W], got " + excerpt(j));
  }
  std::array<std::int64_t, 4> shape{};
  for (std::size_t i = 0; i < 4; ++i)
    shape[i] = card_whole(j[i], 1, max_model_dim, "input.shape", origin);
  try {
    check_input_shape(shape, "'input.shape'", ErrorKind::model, "fix it");
  } catch (const Error& e) {
    card_error(origin, e.what());
  }
  return shape;
}

ValueScale scale_from_json(const nlohmann::json& j, const std::string& origin) {
  if (j.is_string()) {
    try {
      return parse_value_scale(j.get<std::string>());
    } catch (const Error& e) {
      card_error(origin, std::string("'input.scale': ") + e.what());
    }
  }
  if (j.is_object()) {
    ValueScale s;
    if (j.contains("shift"))
      s.shift = static_cast<int>(card_whole(j.at("shift"), 0, 15, "input.scale.shift", origin));
    if (j.contains("clip") && !j.at("clip").is_null())
      s.clip = static_cast<int>(card_whole(j.at("clip"), 1, 65535, "input.scale.clip", origin));
    if (j.contains("divisor")) {
      if (!j.at("divisor").is_number())
        card_error(origin,
                   "'input.scale.divisor' must be a number, got " + excerpt(j.at("divisor")));
      s.divisor = j.at("divisor").get<double>();
    }
    try {
      check_value_scale(s, "'input.scale'", ErrorKind::model);
    } catch (const Error& e) {
      card_error(origin, e.what());
    }
    return s;
  }
  card_error(origin, "'input.scale' must be a rule such as \"raw16/65535\", got " + excerpt(j));
}

}  // namespace

int ModelCard::default_z0(int layer_count) const {
  if (z0) return *z0;
  return std::max(0, static_cast<int>((layer_count - depth() + 1) / 2));
}

OutputKind parse_output_kind(const std::string& text) {
  // The singular and plural that cards in the wild use, beside the names.
  if (text == "logit") return OutputKind::logits;
  if (text == "probabilities") return OutputKind::probability;
  return parse_enum(output_kind_names, text, "output kind");
}

const char* to_string(OutputKind kind) {
  return enum_name(output_kind_names, kind);
}

std::array<std::int64_t, 4> parse_input_shape(const std::string& text) {
  std::array<std::int64_t, 4> shape{};
  std::stringstream in(text.size() < 200 ? text : std::string());
  std::string part;
  std::size_t i = 0;
  while (std::getline(in, part, ',')) {
    const auto v = parse_whole(part);
    if (i >= 4 || !v || *v <= 0) {
      i = 5;
      break;
    }
    shape[i++] = *v;
  }
  if (i != 4) {
    throw Error(ErrorKind::usage,
                "--input-shape '" + excerpt(text) +
                    "' is not C,D,H,W; write four positive integers, e.g. 1,30,64,64");
  }
  check_input_shape(shape, "--input-shape", ErrorKind::usage, "give the model's real input shape");
  return shape;
}

ModelCard parse_model_card(const nlohmann::json& card, const std::string& origin) {
  if (!card.is_object()) card_error(origin, "the card is not a JSON object");
  ModelCard out;
  try {
    const auto& name = require(card, "name", "", origin);
    if (!name.is_string() || name.get<std::string>().empty())
      card_error(origin, "'name' must be a non-empty string");
    out.name = name.get<std::string>();

    const auto& input = require(card, "input", "", origin);
    out.input_shape = shape_from_json(require(input, "shape", "input.", origin), origin);
    out.scale = scale_from_json(require(input, "scale", "input.", origin), origin);
    if (input.contains("layout") && input.at("layout") != "N,C,D,H,W") {
      card_error(origin, "'input.layout' is " + excerpt(input.at("layout")) +
                             "; inkgen feeds N,C,D,H,W (wrap the model to take that layout)");
    }
    if (input.contains("dtype") && input.at("dtype") != "float32") {
      card_error(origin,
                 "'input.dtype' is " + excerpt(input.at("dtype")) + "; inkgen feeds float32");
    }
    out.range_lo = 0.0;
    out.range_hi = out.scale.max_value();
    if (input.contains("normalize")) {
      out.normalization = parse_normalization(input.at("normalize"), origin);
      if (const auto r = out.normalization.range()) {
        out.range_lo = r->first;
        out.range_hi = r->second;
      } else if (out.normalization.kind != NormalizationKind::none && !input.contains("range")) {
        card_error(origin, "'input.normalize' " + std::string(to_string(out.normalization.kind)) +
                               " leaves values unbounded; give 'input.range' [lo, hi] (e.g. "
                               "[-4, 4]) for the optimizer to keep them in");
      }
    }
    if (input.contains("range")) {
      const auto& r = input.at("range");
      if (!r.is_array() || r.size() != 2 || !r[0].is_number() || !r[1].is_number() ||
          r[0].get<double>() >= r[1].get<double>() || std::abs(r[0].get<double>()) > 1e9 ||
          std::abs(r[1].get<double>()) > 1e9) {
        card_error(origin, "'input.range' must be [lo, hi] with lo < hi, both within +-1e9, got " +
                               excerpt(r));
      }
      out.range_lo = r[0].get<double>();
      out.range_hi = r[1].get<double>();
    }
    if (input.contains("z0")) {
      // Layer numbers are at most 6 digits (segment.cpp); a larger z0 can name no layer.
      out.z0 = static_cast<int>(card_whole(input.at("z0"), 0, 999999, "input.z0", origin));
    }
    // One value per layer, each within [lo, hi]; Error(model) naming the key otherwise.
    const auto per_layer = [&](const char* key, double lo, double hi) {
      std::vector<double> values;
      if (!input.contains(key)) return values;
      const auto& list = input.at(key);
      const bool ok = list.is_array() &&
                      static_cast<std::int64_t>(list.size()) == out.input_shape[1] &&
                      std::all_of(list.begin(), list.end(), [&](const nlohmann::json& v) {
                        return v.is_number() && v.get<double>() >= lo && v.get<double>() <= hi;
                      });
      if (!ok) {
        card_error(origin, std::string("'input.") + key + "' must list one value per layer (" +
                               std::to_string(out.input_shape[1]) + ") inside input.range");
      }
      for (const auto& v : list)
        values.push_back(v.get<double>());
      return values;
    };
    out.profile = per_layer("profile", out.range_lo, out.range_hi);
    out.profile_sd = per_layer("profile_sd", 0.0, out.range_hi - out.range_lo);
    if (!out.profile_sd.empty() && out.profile.empty())
      card_error(origin, "'input.profile_sd' needs 'input.profile'");

    const auto& output = require(card, "output", "", origin);
    const auto& kind = require(output, "kind", "output.", origin);
    if (!kind.is_string())
      card_error(origin, "'output.kind' must be \"logits\" or \"probability\"");
    try {
      out.output_kind = parse_output_kind(kind.get<std::string>());
    } catch (const Error&) {
      card_error(origin,
                 "'output.kind' is " + excerpt(kind) + ", not \"logits\" or \"probability\"");
    }
    out.output_meaning = output.value("meaning", std::string());
  } catch (const nlohmann::json::exception& e) {
    card_error(origin, std::string("a value has the wrong type (") + e.what() + ")");
  }
  out.json = card;
  return out;
}

ModelCard parse_model_card_text(const std::string& text, const std::string& origin) {
  const nlohmann::json j = parse_json_input(text, ErrorKind::model, "model card " + origin,
                                            "fix the JSON or give --input-shape and --scale");
  return parse_model_card(j, origin);
}

ModelCard card_from_overrides(const std::string& name, const CardOverrides& o) {
  nlohmann::json j;
  j["name"] = name;
  j["input"]["shape"] = *o.input_shape;
  j["input"]["scale"] = parse_value_scale(*o.scale).text();
  if (o.range) j["input"]["range"] = *o.range;
  if (o.z0) j["input"]["z0"] = *o.z0;
  j["output"]["kind"] = to_string(o.output_kind.value_or(OutputKind::logits));
  j["output"]["meaning"] = "not stated (no card; given on the command line)";
  return parse_model_card(j, "from the command line");
}

ModelCard apply_overrides(ModelCard card, const CardOverrides& o) {
  nlohmann::json j = card.json;
  if (o.input_shape) j["input"]["shape"] = *o.input_shape;
  if (o.scale) {
    j["input"]["scale"] = parse_value_scale(*o.scale).text();
    if (!o.range) j["input"].erase("range");  // a new rule has its own natural range
  }
  if (o.range) j["input"]["range"] = *o.range;
  if (o.z0) j["input"]["z0"] = *o.z0;
  if (o.output_kind) j["output"]["kind"] = to_string(*o.output_kind);
  return parse_model_card(j, "with command-line overrides");
}

}  // namespace inkgen
