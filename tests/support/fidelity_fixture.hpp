#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <opencv2/core/mat.hpp>
#include <string>

#include "inkgen/evaluate/fidelity.hpp"
#include "inkgen/io/crop.hpp"
#include "inkgen/io/raw_volume.hpp"

namespace inkgen::test {

// A small synthetic segment whose ink is known, with the ground truth `inkgen synth` writes
// (<name>_ink.tif, <name>_film.tif, <name>_surface.tif), and run folders as inkgen writes them, so
// that `inkgen fidelity` can be checked against answers worked out by hand.
struct TruthSegment {
  static constexpr int width = 24;
  static constexpr int height = 20;
  static constexpr int layers = 16;
  std::filesystem::path dir;
  FloatVolume film;  // whole segment
  FloatVolume ink;   // raw units, whole segment
  RawVolume raw;
};

// The window the segment runs below use: crop 4,2,20,18 (16x16), layers 2..13.
inline const Crop truth_crop{4, 2, 20, 18};
inline constexpr int truth_z0 = 2;
inline constexpr int truth_depth = 12;

// The film is a Gaussian bump (sigma 0.8 layers) around surface(y, x); the ink is 1500 raw units
// times the film on a checkerboard of 3x3 pixel squares (inside the mask); the rest of the raw
// volume is uniform noise in 20000..24000. Default surface: 7 + 1.5 x / width.
TruthSegment make_truth_segment(const std::filesystem::path& dir, const cv::Mat& mask = cv::Mat(),
                                const std::function<double(int, int)>& surface = nullptr);

// The part of a whole-segment volume inside a window.
FloatVolume window_of(const FloatVolume& v, const Crop& crop, int z0, int depth);

// sigma * the linear-rule ink signal of the standard window: ink / 65535.
FloatVolume linear_ink_signal(const TruthSegment& s, float sign);

// run.json of a one-start segment run over the standard window ("raw16/65535" unless `rule`).
nlohmann::json segment_run_record(const std::string& direction, const TruthSegment& s,
                                  const std::string& rule = "raw16/65535");
// run.json of a one-start noise run of a model whose card says z0 = card_z0.
nlohmann::json noise_run_record(const std::string& direction, int depth, int card_z0);

// Writes folder/run.json and folder/diff.tif.
void write_run(const std::filesystem::path& folder, const nlohmann::json& record,
               const FloatVolume& diff);

}  // namespace inkgen::test
