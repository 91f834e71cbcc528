#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <opencv2/core/mat.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "inkgen/io/raw_volume.hpp"

namespace inkgen {

// What `inkgen synth` makes: a segment whose ink we know, for tests, demos and the bundled model's
// training data. The same options give the same segment bit for bit, and the sheet (everything
// but the ink) depends on the seed, size, layers, bend and blur only: changing the text or the ink
// options changes the ink alone.
struct SynthOptions {
  int width = 512;
  int height = 384;
  int layers = 65;
  std::uint32_t seed = 0;
  // The letters to write, '\n' starting a new line; unset: random Greek-like capitals in lines.
  // Printable ASCII only (what the Hershey fonts draw).
  std::optional<std::string> text;
  // How far the surface bends either side of the middle layer, in layers: the 1st and 99th
  // percentiles of the surface height on the papyrus lie at middle - bend and middle + bend.
  // 0 gives a flat sheet.
  double bend = 3;
  // The ink film, in layers relative to the local surface (positive = into the papyrus): its
  // centre lies ink_depth from the surface and it is ink_thickness thick. The defaults put it
  // from 1.5 layers above the surface (a film on the papyrus) to 0.3 into it (a little soaked in).
  double ink_depth = -0.6;
  double ink_thickness = 1.8;
  // The ink's density before the blur, as a signed fraction of the papyrus-air contrast: 0.07 is
  // 7% denser (about 3.5% after the blur), a negative value lighter, 0 no visible ink (the labels
  // stay: a negative control).
  double ink_contrast = 0.07;
  // The CT blur, a Gaussian sigma in voxels on all three axes; 0 = none.
  double blur = 0.85;
};

// A float volume in the segment's grid, z-major like RawVolume.
struct FloatVolume {
  int depth = 0;
  int height = 0;
  int width = 0;
  std::vector<float> values;
  float at(int z, int y, int x) const {
    return values[(static_cast<std::size_t>(z) * height + y) * width + x];
  }
};

// A papyrus sheet in a CT volume: air above and below, a sheet about 13 layers thick whose inked
// face (its "surface") bends a few layers around the middle layer, two crossed layers of fibres,
// blur and noise, and letters written on the surface as a thin film a few percent denser than
// the papyrus. With it, the exact answers: what the ink changed and where the film lies.
struct SyntheticSegment {
  SynthOptions options;  // what made it (text as given, unset for random)
  RawVolume volume;      // 16-bit; air about 10500, papyrus about 31000 (under the Grand Prize
                         // rule's clip at 200 * 256 = 51200, so that rule keeps the contrast)
  cv::Mat mask;          // CV_8UC1, 255 = papyrus; the torn sheet edge leaves a border at 0
  cv::Mat ink_labels;    // CV_8UC1, 255 = ink: the strokes' footprint on the papyrus
  cv::Mat surface;       // CV_32FC1, the layer of the inked face at each pixel (papyrus lies from
                         // there towards higher layers)
  // volume minus the same segment made without ink (same sheet, same noise, quantized the same
  // way), in raw 16-bit units: exactly what the ink changed, voxel by voxel.
  FloatVolume ink;
  // The film's weight in [0, 1] as if every papyrus pixel were inked: the film's overlap with each
  // voxel (relative to the local surface, on the mask only), blurred like the volume, divided by
  // its largest value in the volume. A column's maximum is about 1, at surface + ink_depth.
  // Independent of the text.
  FloatVolume film;
  std::string text;  // the letters written, lines joined by '\n'
};

// Throws Error(usage) for sizes or ink options out of bounds or text the fonts cannot draw, and
// Error(interrupted) soon after `*stop` becomes true (a large segment takes minutes).
SyntheticSegment make_synthetic_segment(const SynthOptions& options,
                                        const std::atomic<bool>* stop = nullptr);

// The `lo` and `hi` percentiles (0..100) of the surface height on the papyrus (mask) pixels; of
// all pixels when the mask is empty.
std::pair<double, double> surface_percentiles(const SyntheticSegment& segment, double lo,
                                              double hi);

// Writes the Vesuvius layout: layers/NN.tif (16-bit), <name>_mask.png and <name>_inklabels.png
// (8-bit, 255 = ink), <name> being the folder's name; and the answers beside them:
// <name>_ink.tif and <name>_film.tif (float32, one page per layer, see SyntheticSegment),
// <name>_surface.tif (float32, one page) and <name>_synth.json (the options and the text). Each
// file atomically. Layer images of an earlier segment in dir/layers that this one does not
// overwrite are removed, so that the folder holds one consistent segment.
// With VolumeFormat::zarr the layers go to dir/<name>.zarr (a Zarr v2 array, layers x Y x X,
// uint16) instead of dir/layers/, the layout of villa's segment folders.
enum class VolumeFormat { tiff_layers, zarr };
// A true `*stop` is heard between two files: Error(interrupted), the files so far written whole.
void write_synthetic_segment(const std::filesystem::path& dir, const SyntheticSegment& segment,
                             VolumeFormat format = VolumeFormat::tiff_layers,
                             const std::atomic<bool>* stop = nullptr);

}  // namespace inkgen
