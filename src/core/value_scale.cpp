#include "inkgen/value_scale.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>

#include "inkgen/error.hpp"

namespace inkgen {

namespace {

std::string normalize(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

// Free-text descriptions found in real cards, normalised, with the rule they mean.
std::optional<std::string> alias_of(const std::string& normalized) {
  if (normalized == "rawuint16surface-layervalue/65535" || normalized == "rawuint16/65535" ||
      normalized == "uint16/65535") {
    return "raw16/65535";
  }
  if (normalized == "raw8/255" || normalized == "uint8/255") return "raw16>>8/255";
  return std::nullopt;
}

std::string format_number(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::string s = std::to_string(v);
  while (!s.empty() && s.back() == '0')
    s.pop_back();
  return s;
}

}  // namespace

std::string ValueScale::text() const {
  std::string inner = "raw16";
  if (shift > 0) inner += ">>" + std::to_string(shift);
  if (clip) inner = "min(" + inner + "," + std::to_string(*clip) + ")";
  return inner + "/" + format_number(divisor);
}

int ValueScale::max_level() const {
  const int full = 65535 >> shift;
  return clip ? std::min(*clip, full) : full;
}

double ValueScale::max_value() const {
  return max_level() / divisor;
}

float ValueScale::to_model(std::uint16_t raw16) const {
  int level = raw16 >> shift;
  if (clip) level = std::min(level, *clip);
  return static_cast<float>(level / divisor);
}

std::uint16_t ValueScale::to_raw16(double value) const {
  if (!std::isfinite(value)) value = 0.0;
  const double level = std::round(value * divisor);
  const int clamped = static_cast<int>(std::clamp(level, 0.0, static_cast<double>(max_level())));
  return static_cast<std::uint16_t>(clamped << shift);
}

ValueScale parse_value_scale(const std::string& text) {
  std::string s = normalize(text);
  if (const auto alias = alias_of(s)) s = *alias;
  // raw8 is raw16>>8 by our widening rule.
  s = std::regex_replace(s, std::regex("raw8"), "raw16>>8");

  static const std::regex form(
      R"(^(?:min\()?\(?raw16(?:>>(\d+))?\)?(?:,(\d+)\))?/(\d+(?:\.\d+)?)$)");
  std::smatch m;
  const bool has_min = s.rfind("min(", 0) == 0;
  if (!std::regex_match(s, m, form) || has_min != m[2].matched) {
    throw Error(ErrorKind::usage,
                "unknown value scale '" + text +
                    "'; write it as raw16/65535, min(raw16>>8,200)/255 or another "
                    "min(raw16>>S,C)/D");
  }
  ValueScale scale;
  scale.shift = m[1].matched ? std::stoi(m[1].str()) : 0;
  if (m[2].matched) scale.clip = std::stoi(m[2].str());
  scale.divisor = std::stod(m[3].str());
  if (scale.shift < 0 || scale.shift > 15 || scale.divisor <= 0.0 ||
      (scale.clip && *scale.clip <= 0)) {
    throw Error(ErrorKind::usage, "value scale '" + text +
                                      "' is out of bounds; the shift must be 0..15, the clip and "
                                      "divisor positive");
  }
  return scale;
}

}  // namespace inkgen
