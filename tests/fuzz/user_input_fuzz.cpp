// libFuzzer target: arbitrary bytes as what a user types or writes: a model card, a --config
// file's JSON (through the option table into a job's settings and its run.json record), a value
// scale rule, an --input-shape, and one value given to every option, as the command line does.
// Each must give its result or an inkgen::Error; another exception, a crash or a sanitizer report
// is a bug. The checked results must keep the bounds the rest of inkgen relies on.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "inkgen/card/model_card.hpp"
#include "inkgen/card/value_scale.hpp"
#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/common/json_text.hpp"
#include "inkgen/options/option_table.hpp"

namespace {

void throw_usage(const std::string& problem) {
  throw inkgen::Error(inkgen::ErrorKind::usage, problem);
}

// As the command line, a --config file and a JOBS line end: settings resolved and recorded, so
// that every value reaches the arithmetic and the JSON writer that a run would give it to.
void resolve_and_record(const inkgen::JobRequest& request) {
  const auto settings = inkgen::resolve_settings(request);
  (void)inkgen::json_text(inkgen::record_settings(settings, ~0u));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const inkgen::ModelCard card = inkgen::parse_model_card_text(text, "fuzz.json");
    std::int64_t values = 1;
    for (const auto d : card.input_shape) {
      if (d < 1 || d > inkgen::max_model_dim) __builtin_trap();
      values *= d;
    }
    if (values > inkgen::max_sample_values) __builtin_trap();
    if (card.z0 && (*card.z0 < 0 || *card.z0 > 999999)) __builtin_trap();
    if (!(card.range_lo < card.range_hi)) __builtin_trap();
    if (card.scale.shift < 0 || card.scale.shift > 15 || !(card.scale.divisor > 0))
      __builtin_trap();
  } catch (const inkgen::Error&) {
  }
  try {
    // The --config path: parsed, then every value's text is built from it.
    const auto j = inkgen::parse_json_input(text, inkgen::ErrorKind::usage, "config", "fix it");
    (void)inkgen::excerpt(j);
    if (j.is_object()) {
      inkgen::JobRequest request;
      for (const auto& [key, value] : j.items()) {
        const inkgen::OptionSpec* option = inkgen::find_option(key);
        if (option)
          request.values[option->key] = check_option_value(*option, value, key, throw_usage);
      }
      resolve_and_record(request);
    }
  } catch (const inkgen::Error&) {
  }
  const std::string first = text.substr(0, text.find('\n'));
  try {
    const inkgen::ValueScale s = inkgen::parse_value_scale(first);
    if (s.clip && (*s.clip < 1 || *s.clip > (65535 >> s.shift))) __builtin_trap();
    (void)s.to_raw16(s.to_model(65535));
  } catch (const inkgen::Error&) {
  }
  try {
    (void)inkgen::parse_input_shape(first);
  } catch (const inkgen::Error&) {
  }
  try {
    const long long v =
        inkgen::parse_whole_in(first, -1000, 1000, "--n", inkgen::ErrorKind::usage, "fix");
    if (v < -1000 || v > 1000) __builtin_trap();
  } catch (const inkgen::Error&) {
  }
  if (const auto d = inkgen::parse_finite(first); d && !std::isfinite(*d)) __builtin_trap();
  for (const auto& option : inkgen::option_table()) {
    try {
      inkgen::JobRequest request;
      request.values[option.key] =
          check_option_value(option, nlohmann::json(first), "--" + option.key, throw_usage);
      resolve_and_record(request);
    } catch (const inkgen::Error&) {
    }
  }
  return 0;
}
