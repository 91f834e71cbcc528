#pragma once

// What `inkgen attribute` is asked to do, as plain values and their defaults. No LibTorch here:
// the option table (and so the JOBS parser and the fuzz and ASan builds) holds these.
#include <optional>
#include <string>

#include "inkgen/enum_names.hpp"

namespace inkgen {

// How an attribution map is computed (README "Attribution").
enum class AttributionMethod {
  cells,       // gradient of the output cells' logits weighted by their own (detached) probability
  gradient,    // gradient of the mean cell logit
  smoothgrad,  // mean gradient over noisy copies of the crop
  ig,          // integrated gradients against the crop blurred in x,y
};
inline constexpr EnumNames<AttributionMethod, 4> attribution_method_names{
    {{AttributionMethod::cells, "cells"},
     {AttributionMethod::gradient, "gradient"},
     {AttributionMethod::smoothgrad, "smoothgrad"},
     {AttributionMethod::ig, "ig"}}};
inline AttributionMethod parse_attribution_method(const std::string& text) {
  return parse_enum(attribution_method_names, text, "--method");
}
inline const char* to_string(AttributionMethod m) {
  return enum_name(attribution_method_names, m);
}

struct AttributionOptions {
  // `cells` scored best on the bundled model's inked synthetic crops (F_band 0.93, KAS_ink 0.73,
  // against 0.76 and 0.08 for the raw gradient).
  AttributionMethod method = AttributionMethod::cells;
  int samples = 16;                // smoothgrad: noisy copies; ig: steps of the path
  std::optional<double> noise_sd;  // smoothgrad; unset: noise_sd_fraction of the valid range
  double smooth = 1.5;             // sigma in voxels of the 3D Gaussian blur of the map; 0: off
  // Soft threshold at this fraction of max |A| per crop (0: off): drops the diffuse low tail of
  // the map (bundled model, samples/README.md: 0.2 keeps the ink band and its footprint; 0.1 left
  // 10 % of the mass outside the band).
  double threshold = 0.2;
  // Keep only the sign that holds more of the smoothed map's mass: ink is one material, denser
  // or lighter, and a weaker model's gradient alternates in sign along the fibres around it
  // (samples/README.md, "Known-answer fidelity": KAS_ink 0.31 -> 0.45 on the deep-film model).
  bool dominant_sign = true;
  double baseline_sigma = 4.0;  // ig: the baseline is the crop blurred in x,y by this (pixels)

  static constexpr double noise_sd_fraction = 0.05;
  static constexpr int max_samples = 4096;
};

}  // namespace inkgen
