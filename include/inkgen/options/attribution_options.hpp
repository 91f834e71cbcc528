#pragma once

// What `inkgen attribute` is asked to do, as plain values and their defaults. No LibTorch here:
// the option table (and so the JOBS parser and the fuzz and ASan builds) holds these.
#include <optional>
#include <string>

#include "inkgen/common/enum_names.hpp"

namespace inkgen {

// How an attribution map is computed (README "Attribution").
enum class AttributionMethod {
  // The model's ink map placed at the depth its gradient points to: the cells gradient, blurred
  // (2.5 voxels in depth, 1.5 across) and kept on the side that holds more of its mass where the
  // model sees ink, gives each column a depth centre (its |gradient|-weighted mean layer, the
  // plane blurred by 4 pixels); the map is a Gaussian of 1.25 layers about that centre times the
  // model's own ink probability there (upsampled from its output cells; a model with one output
  // per crop has none, and its columns are weighted by their gradient mass instead).
  map_depth,
  cells,       // gradient of the output cells' logits weighted by their own (detached) probability
  gradient,    // gradient of the mean cell logit
  smoothgrad,  // mean gradient over noisy copies of the crop
  ig,          // integrated gradients against the crop blurred in x,y
};
inline constexpr EnumNames<AttributionMethod, 5> attribution_method_names{
    {{AttributionMethod::map_depth, "map-depth"},
     {AttributionMethod::cells, "cells"},
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
  // `map-depth` is the one method that met the known-answer goals (F_band >= 0.9, KAS_ink >= 0.6)
  // on both the bundled and the deep-film model (samples/README.md, "Known-answer fidelity").
  AttributionMethod method = AttributionMethod::map_depth;
  int samples = 16;                // smoothgrad: noisy copies; ig: steps of the path
  std::optional<double> noise_sd;  // smoothgrad; unset: noise_sd_fraction of the valid range
  double smooth = 1.5;             // sigma in voxels of the 3D Gaussian blur of the map; 0: off
  // Soft threshold at this fraction of max |A| per crop (0: off): drops the diffuse low tail of
  // the map. 0.1 for map-depth (0.2 cost the lighter-ink model KAS_ink 0.62 -> 0.59); cells was
  // measured at 0.2 (0.1 left 10 % of its mass outside the band on the bundled model).
  double threshold = 0.1;
  // Keep only the sign that holds more of the smoothed map's mass: ink is one material, denser
  // or lighter, and a weaker model's gradient alternates in sign along the fibres around it
  // (samples/README.md, "Known-answer fidelity": KAS_ink 0.31 -> 0.45 on the deep-film model).
  bool dominant_sign = true;
  double baseline_sigma = 4.0;  // ig: the baseline is the crop blurred in x,y by this (pixels)

  static constexpr double noise_sd_fraction = 0.05;
  static constexpr int max_samples = 4096;
};

}  // namespace inkgen
