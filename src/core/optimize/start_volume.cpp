#include "inkgen/optimize/start_volume.hpp"

#include <ATen/ATen.h>

#include <algorithm>

#include "inkgen/common/error.hpp"
#include "inkgen/optimize/volume_tensor.hpp"

namespace inkgen {

std::uint64_t start_seed(std::uint64_t seed, int index) {
  // splitmix64: nearby seeds and indices give unrelated streams.
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

StartVolume noise_start(const ModelCard& card, const NoiseSpec& given, std::uint64_t seed,
                        int index) {
  NoiseSpec noise = given;
  if (noise.kind == NoiseKind::auto_)
    noise.kind = card.profile.empty() ? NoiseKind::uniform : NoiseKind::sheet;
  const std::vector<std::int64_t> shape{card.channels(), card.depth(), card.height(), card.width()};
  const std::uint64_t s = start_seed(seed, index);
  StartVolume start;
  if (noise.kind == NoiseKind::sheet) {
    // The card's profile, the same in every pixel of a layer, plus noise around it.
    if (card.profile.empty()) {
      throw Error(ErrorKind::usage, "--noise sheet needs the card's input.profile, which model '" +
                                        card.name + "' has not; use --noise uniform or smooth");
    }
    const auto per_layer = [&](const std::vector<double>& v) {
      return at::tensor(v, at::kDouble).to(at::kFloat).reshape({1, card.depth(), 1, 1});
    };
    const double width = card.range_hi - card.range_lo;
    // Quiet noise, the same in every layer: uniform within +- the card's smallest spread of a
    // layer (the air's), or +-0.05 on the Grand Prize scale (range 0..200/255, in proportion on
    // others) for a card without spreads; --noise-range sets it. Each layer's own spread (1 sd of
    // low-pass noise, the texture until stop 29) varies the surface layers as ink does: the
    // lighter-ink known-answer model read such a start as p 0.49 instead of 0.06, and a third of
    // the change then went to the air above the surface (from-noise F_band 0.69 -> 0.94).
    double quiet = 0.05 * width / (200.0 / 255.0);
    for (const double sd : card.profile_sd)
      if (sd > 0) quiet = std::min(quiet, sd);
    const double lo = noise.range ? (*noise.range)[0] : -quiet;
    const double hi = noise.range ? (*noise.range)[1] : quiet;
    if (!(lo < hi) || lo < -width || hi > width) {
      throw Error(ErrorKind::usage,
                  "--noise-range " + std::to_string(lo) + "," + std::to_string(hi) +
                      " of --noise sheet is the noise around the profile: give lo < hi within "
                      "+-" +
                      std::to_string(width));
    }
    const at::Tensor offsets = make_noise(NoiseKind::uniform, shape, lo, hi, s);
    start.values = (per_layer(card.profile) + offsets).clamp(card.range_lo, card.range_hi);
    start.source = {{"kind", "noise"}, {"noise", "sheet"}, {"range", {lo, hi}},
                    {"seed", s},       {"run_seed", seed}, {"index", index}};
    return start;
  }
  const double lo = noise.range ? (*noise.range)[0] : card.range_lo;
  const double hi = noise.range ? (*noise.range)[1] : card.range_hi;
  if (!(lo < hi) || lo < card.range_lo || hi > card.range_hi) {
    throw Error(ErrorKind::usage, "--noise-range " + std::to_string(lo) + "," + std::to_string(hi) +
                                      " must be an interval inside the model's valid range [" +
                                      std::to_string(card.range_lo) + ", " +
                                      std::to_string(card.range_hi) + "]");
  }
  start.values = make_noise(noise.kind, shape, lo, hi, s);
  start.source = {{"kind", "noise"},   {"noise", to_string(noise.kind)},
                  {"range", {lo, hi}}, {"seed", s},
                  {"run_seed", seed},  {"index", index}};
  return start;
}

std::vector<StartVolume> noise_starts(const ModelCard& card, int count, const NoiseSpec& noise,
                                      std::uint64_t seed) {
  std::vector<StartVolume> starts;
  for (int i = 0; i < count; ++i)
    starts.push_back(noise_start(card, noise, seed, i));
  return starts;
}

StartVolume segment_start(const ModelCard& card, const Segment& segment, const Crop& crop, int z0) {
  if (crop.width() != card.width() || crop.height() != card.height()) {
    throw Error(ErrorKind::input,
                "crop " + crop.text() + " is " + std::to_string(crop.width()) + "x" +
                    std::to_string(crop.height()) + " but model '" + card.name + "' takes " +
                    std::to_string(card.width()) + "x" + std::to_string(card.height()) +
                    "; give a crop of that size, e.g. " +
                    Crop{crop.x1, crop.y1, crop.x1 + static_cast<int>(card.width()),
                         crop.y1 + static_cast<int>(card.height())}
                        .text());
  }
  if (card.channels() != 1) {
    throw Error(ErrorKind::model, "model '" + card.name + "' takes " +
                                      std::to_string(card.channels()) +
                                      " channels, but a segment gives one");
  }
  const RawVolume raw = read_crop(segment, crop, z0, static_cast<int>(card.depth()));
  StartVolume start;
  start.values = to_model_scale(raw, card.scale);
  std::optional<NormalizationStats> stats;
  if (card.normalization.kind != NormalizationKind::none) {
    std::vector<float> x(start.values.data_ptr<float>(),
                         start.values.data_ptr<float>() + start.values.numel());
    stats = normalization_stats(card.normalization, x);
    normalize(card.normalization, *stats, x);
    std::copy(x.begin(), x.end(), start.values.data_ptr<float>());
  }
  start.source = {{"kind", "segment"},
                  {"segment", segment.dir.string()},
                  {"segment_name", segment.name},
                  {"crop", {crop.x1, crop.y1, crop.x2, crop.y2}},
                  {"z0", z0},
                  {"layers", {z0, z0 + card.depth() - 1}}};
  if (stats) start.source["normalization"] = stats->to_json(card.normalization);
  if (segment.order == LayerOrder::reversed) {
    start.source["layer_order"] = to_string(segment.order);
    // The files read, so that a reader of run.json can find them without redoing the arithmetic.
    start.source["stored_layers"] = {segment.stored_layer(z0),
                                     segment.stored_layer(z0 + static_cast<int>(card.depth()) - 1)};
  }
  return start;
}

std::optional<at::Tensor> undo_normalization(const ModelCard& card, const at::Tensor& values,
                                             const nlohmann::json& source) {
  if (card.normalization.kind == NormalizationKind::none) return values;
  if (!source.contains("normalization")) return std::nullopt;
  NormalizationStats stats;
  stats.center = source["normalization"].at("center").get<double>();
  stats.spread = source["normalization"].at("spread").get<double>();
  return values * stats.spread + stats.center;
}

std::string describe_source(const nlohmann::json& source) {
  if (source.value("kind", "") == "segment") {
    const auto& c = source["crop"];
    return source.value("segment_name", "") + " crop " + std::to_string(c[0].get<int>()) + "," +
           std::to_string(c[1].get<int>()) + "," + std::to_string(c[2].get<int>()) + "," +
           std::to_string(c[3].get<int>()) + " z0 " + std::to_string(source["z0"].get<int>()) +
           (source.value("layer_order", "") == "reversed" ? " (layers reversed)" : "");
  }
  // The seed the user gave, and which start of it: the start's own seed is derived from both.
  if (source.contains("run_seed")) {
    return source.value("noise", "uniform") + " noise start " +
           std::to_string(source.value("index", 0)) + " of --seed " +
           std::to_string(source.value("run_seed", 0ull));
  }
  return source.value("noise", "uniform") + " noise, seed " +
         std::to_string(source.value("seed", 0ull));
}

}  // namespace inkgen
