#include "inkgen/start_volume.hpp"

#include <ATen/ATen.h>

#include "inkgen/error.hpp"
#include "inkgen/volume_tensor.hpp"

namespace inkgen {

std::uint64_t start_seed(std::uint64_t seed, int index) {
  // splitmix64: nearby seeds and indices give unrelated streams.
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::vector<StartVolume> noise_starts(const ModelCard& card, int count, const NoiseSpec& noise,
                                      std::uint64_t seed) {
  const double lo = noise.range ? (*noise.range)[0] : card.range_lo;
  const double hi = noise.range ? (*noise.range)[1] : card.range_hi;
  if (!(lo < hi) || lo < card.range_lo || hi > card.range_hi) {
    throw Error(ErrorKind::usage, "--noise-range " + std::to_string(lo) + "," + std::to_string(hi) +
                                      " must be an interval inside the model's valid range [" +
                                      std::to_string(card.range_lo) + ", " +
                                      std::to_string(card.range_hi) + "]");
  }
  std::vector<StartVolume> starts;
  for (int i = 0; i < count; ++i) {
    const std::uint64_t s = start_seed(seed, i);
    StartVolume start;
    start.values = make_noise(
        noise.kind, {card.channels(), card.depth(), card.height(), card.width()}, lo, hi, s);
    start.source = {
        {"kind", "noise"}, {"noise", to_string(noise.kind)}, {"range", {lo, hi}}, {"seed", s}};
    starts.push_back(std::move(start));
  }
  return starts;
}

StartVolume segment_start(const ModelCard& card, const Segment& segment, const Crop& crop, int z0) {
  if (crop.width() != card.width() || crop.height() != card.height()) {
    throw Error(ErrorKind::input, "crop " + crop.text() + " is " + std::to_string(crop.width()) +
                                      "x" + std::to_string(crop.height()) + " but model '" +
                                      card.name + "' takes " + std::to_string(card.width()) + "x" +
                                      std::to_string(card.height()) + "; give a crop of that size");
  }
  if (card.channels() != 1) {
    throw Error(ErrorKind::model, "model '" + card.name + "' takes " +
                                      std::to_string(card.channels()) +
                                      " channels, but a segment gives one");
  }
  const RawVolume raw = read_crop(segment, crop, z0, static_cast<int>(card.depth()));
  StartVolume start;
  start.values = to_model_scale(raw, card.scale);
  start.source = {{"kind", "segment"},
                  {"segment", segment.dir.string()},
                  {"segment_name", segment.name},
                  {"crop", {crop.x1, crop.y1, crop.x2, crop.y2}},
                  {"z0", z0},
                  {"layers", {z0, z0 + card.depth() - 1}}};
  return start;
}

}  // namespace inkgen
