#include "inkgen/card/value_scale.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>

#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"

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
  // libstdc++'s regex recurses per character; no rule is this long.
  std::string s = normalize(text.size() > 200 ? text.substr(0, 200) + "?" : text);
  if (const auto alias = alias_of(s)) s = *alias;
  // raw8 is raw16>>8 by our widening rule.
  s = std::regex_replace(s, std::regex("raw8"), "raw16>>8");

  static const std::regex form(
      R"(^(?:min\()?\(?raw16(?:>>(\d+))?\)?(?:,(\d+)\))?/(\d+(?:\.\d+)?)$)");
  std::smatch m;
  const bool has_min = s.rfind("min(", 0) == 0;
  if (!std::regex_match(s, m, form) || has_min != m[2].matched) {
    throw Error(ErrorKind::usage,
                "unknown value scale '" + excerpt(text) +
                    "'; write it as raw16/65535, min(raw16>>8,200)/255 or another "
                    "min(raw16>>S,C)/D");
  }
  // The regex admits any digit count; each number is range-checked before it is used.
  const std::string rule = "value scale '" + excerpt(text) + "'";
  const auto number = [](const std::ssub_match& part) -> long long {
    const auto v = parse_whole(part.str());
    return v ? *v : std::numeric_limits<long long>::max();  // beyond 64 bits: out of any range
  };
  ValueScale scale;
  scale.shift = m[1].matched ? static_cast<int>(std::min<long long>(number(m[1]), 99)) : 0;
  if (m[2].matched) scale.clip = static_cast<int>(std::min<long long>(number(m[2]), 1 << 20));
  const auto divisor = parse_finite(m[3].str());
  scale.divisor = divisor ? *divisor : 0.0;
  check_value_scale(scale, rule, ErrorKind::usage);
  return scale;
}

void check_value_scale(const ValueScale& scale, const std::string& what, ErrorKind kind) {
  const std::string fix = "; write min(raw16>>S,C)/D";
  if (scale.shift < 0 || scale.shift > 15)
    throw Error(kind, what + ": the shift S is " + std::to_string(scale.shift) + ", outside 0..15" +
                          fix + " with S in 0..15");
  const int levels = 65535 >> scale.shift;
  if (scale.clip && (*scale.clip < 1 || *scale.clip > levels)) {
    throw Error(kind, what + ": the clip C is " + std::to_string(*scale.clip) + ", outside 1.." +
                          std::to_string(levels) + " (what raw16>>" + std::to_string(scale.shift) +
                          " can reach)" + fix + " with C in that range, or leave the clip out");
  }
  if (!(scale.divisor > 0.0) || !std::isfinite(scale.divisor) || scale.divisor > 1e12) {
    throw Error(kind, what + ": the divisor D must be a positive number up to 1e12" + fix);
  }
}

}  // namespace inkgen
