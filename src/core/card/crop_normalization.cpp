#include "inkgen/card/crop_normalization.hpp"

#include <algorithm>
#include <cmath>

#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"

namespace inkgen {

namespace {

[[noreturn]] void normalize_error(const std::string& origin, const std::string& problem) {
  throw Error(ErrorKind::model, "model card " + origin + ": 'input.normalize' " + problem);
}

// NumPy's percentile (method "linear") of sorted values.
double percentile_of_sorted(const std::vector<double>& sorted, double p) {
  const double index = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(index));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (index - static_cast<double>(below));
}

double median_of_sorted(const std::vector<double>& sorted) {
  return percentile_of_sorted(sorted, 50.0);  // the mean of the two middle values when even
}

std::vector<double> sorted_copy(const std::vector<float>& x) {
  std::vector<double> s(x.begin(), x.end());
  std::sort(s.begin(), s.end());
  return s;
}

}  // namespace

std::optional<std::pair<double, double>> Normalization::range() const {
  if (kind == NormalizationKind::percentile) return std::make_pair(0.0, 1.0);
  if (kind == NormalizationKind::robust && clip > 0) return std::make_pair(-clip, clip);
  return std::nullopt;
}

nlohmann::json Normalization::to_json() const {
  nlohmann::json j{{"kind", to_string(kind)}};
  if (kind == NormalizationKind::robust) j["clip"] = clip;
  if (kind == NormalizationKind::percentile) {
    j["low"] = low;
    j["high"] = high;
  }
  return j;
}

nlohmann::json NormalizationStats::to_json(const Normalization& how) const {
  nlohmann::json j = how.to_json();
  j["center"] = center;
  j["spread"] = spread;
  return j;
}

Normalization parse_normalization(const nlohmann::json& value, const std::string& origin) {
  if (!value.is_object() || !value.value("kind", nlohmann::json()).is_string())
    normalize_error(origin, "must be an object with a \"kind\", got " + excerpt(value));
  Normalization n;
  const std::string kind = value["kind"].get<std::string>();
  const auto number = [&](const char* key, double fallback, double lo, double hi) {
    if (!value.contains(key)) return fallback;
    const auto& v = value[key];
    if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi) {
      normalize_error(origin, std::string("'") + key + "' must be a number in " +
                                  std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
                                  excerpt(v));
    }
    return v.get<double>();
  };
  const auto* known = std::find_if(normalization_kind_names.begin(), normalization_kind_names.end(),
                                   [&](const auto& entry) { return kind == entry.name; });
  if (known == normalization_kind_names.end()) {
    normalize_error(origin,
                    "kind is " + excerpt(kind) + "; use " + enum_choices(normalization_kind_names));
  }
  n.kind = known->value;
  if (n.kind == NormalizationKind::robust) n.clip = number("clip", 0.0, 0.0, 1e6);
  if (n.kind == NormalizationKind::percentile) {
    n.low = number("low", 1.0, 0.0, 100.0);
    n.high = number("high", 99.0, 0.0, 100.0);
    if (n.low >= n.high) normalize_error(origin, "needs low < high");
  }
  return n;
}

NormalizationStats normalization_stats(const Normalization& how, const std::vector<float>& x) {
  NormalizationStats s;
  if (how.kind == NormalizationKind::none || x.empty()) return s;
  if (how.kind == NormalizationKind::standardize) {
    double sum = 0.0;
    for (float v : x)
      sum += v;
    s.center = sum / static_cast<double>(x.size());
    double squares = 0.0;
    for (float v : x)
      squares += (v - s.center) * (v - s.center);
    s.spread = std::sqrt(squares / static_cast<double>(x.size()));
  } else if (how.kind == NormalizationKind::robust) {
    const std::vector<double> sorted = sorted_copy(x);
    s.center = median_of_sorted(sorted);
    std::vector<double> deviations(sorted.size());
    for (std::size_t i = 0; i < sorted.size(); ++i)
      deviations[i] = std::abs(sorted[i] - s.center);
    std::sort(deviations.begin(), deviations.end());
    // 1.4826: the MAD of a normal distribution times this is its standard deviation.
    s.spread = 1.4826 * median_of_sorted(deviations);
  } else {
    const std::vector<double> sorted = sorted_copy(x);
    s.center = percentile_of_sorted(sorted, how.low);
    s.spread = percentile_of_sorted(sorted, how.high) - s.center;
  }
  if (!(s.spread >= 1e-12)) s.spread = 1.0;
  return s;
}

void normalize(const Normalization& how, const NormalizationStats& stats, std::vector<float>& x) {
  if (how.kind == NormalizationKind::none) return;
  const auto bounds = how.range();
  for (float& v : x) {
    double y = (v - stats.center) / stats.spread;
    if (bounds) y = std::clamp(y, bounds->first, bounds->second);
    v = static_cast<float>(y);
  }
}

void denormalize(const NormalizationStats& stats, std::vector<float>& y) {
  for (float& v : y)
    v = static_cast<float>(v * stats.spread + stats.center);
}

}  // namespace inkgen
