#pragma once

#include <cstdint>
#include <filesystem>
#include <opencv2/core/mat.hpp>
#include <optional>
#include <string>

#include "inkgen/raw_volume.hpp"

namespace inkgen {

// What `inkgen synth` makes: a segment whose ink we know, for tests, demos and the bundled model's
// training data. The same options give the same segment bit for bit.
struct SynthOptions {
  int width = 512;
  int height = 384;
  int layers = 65;
  std::uint32_t seed = 0;
  // The letters to write, '\n' starting a new line; unset: random Greek-like capitals in lines.
  // Printable ASCII only (what the Hershey fonts draw).
  std::optional<std::string> text;
};

// A papyrus sheet in a CT volume: air above and below, a sheet about 13 layers thick whose inked
// face (its "surface") bends a few layers around the middle layer, two crossed layers of fibres,
// blur and noise, and letters written on the surface as a thin layer a few percent denser than
// the papyrus.
struct SyntheticSegment {
  RawVolume volume;    // 16-bit; air about 10500, papyrus about 31000 (under the Grand Prize
                       // rule's clip at 200 * 256 = 51200, so that rule keeps the contrast)
  cv::Mat mask;        // CV_8UC1, 255 = papyrus; the torn sheet edge leaves a border at 0
  cv::Mat ink_labels;  // CV_8UC1, 255 = ink: the strokes' footprint on the papyrus
  cv::Mat surface;     // CV_32FC1, the layer of the inked face at each pixel (papyrus lies from
                       // there towards higher layers)
  std::string text;    // the letters written, lines joined by '\n'
};

// Throws Error(usage) for sizes out of bounds or text the fonts cannot draw.
SyntheticSegment make_synthetic_segment(const SynthOptions& options);

// Writes the Vesuvius layout: layers/NN.tif (16-bit), <name>_mask.png and <name>_inklabels.png
// (8-bit, 255 = ink), <name> being the folder's name; each file atomically. Layer images of an
// earlier segment in dir/layers that this one does not overwrite are removed, so that the folder
// holds one consistent segment.
void write_synthetic_segment(const std::filesystem::path& dir, const SyntheticSegment& segment);

}  // namespace inkgen
