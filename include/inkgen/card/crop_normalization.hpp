#pragma once

// Per-crop normalisations that current ink models apply after the raw rule (the card's
// `input.normalize`), each an affine map and a clip:
//   y = clip((x - center) / spread, lo, hi)
// where x is the value after the card's raw rule (value_scale.hpp), over every voxel of the crop
// (all its layers) at once, and
//   standardize  center = mean(x), spread = std(x) (population, ddof 0)           no clip
//   robust       center = median(x), spread = 1.4826 * median(|x - median(x)|)    clip +-`clip`
//   percentile   center = P_low(x), spread = P_high(x) - P_low(x)                  clip 0..1
// (medians and percentiles as NumPy's defaults: the mean of the two middle values; linear
// interpolation between order statistics). A spread below 1e-12 (a flat crop) is taken as 1.
// Not invertible from a result alone: the statistics of each start are recorded (run.json's
// source.normalization) and a result goes back to raw values through them; clipped voxels come
// back at the clip bound. No LibTorch here.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/common/enum_names.hpp"

namespace inkgen {

enum class NormalizationKind { none, standardize, robust, percentile };
inline constexpr EnumNames<NormalizationKind, 4> normalization_kind_names{
    {{NormalizationKind::none, "none"},
     {NormalizationKind::standardize, "standardize"},
     {NormalizationKind::robust, "robust"},
     {NormalizationKind::percentile, "percentile"}}};

struct Normalization {
  NormalizationKind kind = NormalizationKind::none;
  double clip = 0.0;  // robust: +-clip after scaling (0: none)
  double low = 1.0;   // percentile: the percentiles that map to 0 and 1
  double high = 99.0;

  // The model-space range the normalisation leaves values in, when it fixes one.
  std::optional<std::pair<double, double>> range() const;
  nlohmann::json to_json() const;
};

// The statistics one crop was normalised with.
struct NormalizationStats {
  double center = 0.0;
  double spread = 1.0;
  nlohmann::json to_json(const Normalization& how) const;
};

// `input.normalize` of a card: {"kind": "standardize"}, {"kind": "robust", "clip": 3} or
// {"kind": "percentile", "low": 1, "high": 99}. Throws Error(model) naming the field.
Normalization parse_normalization(const nlohmann::json& value, const std::string& origin);

NormalizationStats normalization_stats(const Normalization& how, const std::vector<float>& x);
// In place: x -> y, and back (y -> x; clipped values stay at their bound).
void normalize(const Normalization& how, const NormalizationStats& stats, std::vector<float>& x);
void denormalize(const NormalizationStats& stats, std::vector<float>& y);

inline const char* to_string(NormalizationKind kind) {
  return enum_name(normalization_kind_names, kind);
}

}  // namespace inkgen
