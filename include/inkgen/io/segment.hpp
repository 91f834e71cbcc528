#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/common/enum_names.hpp"
#include "inkgen/io/crop.hpp"
#include "inkgen/io/raw_volume.hpp"
#include "inkgen/io/zarr_array.hpp"

namespace inkgen {

// The order in which a segment's layers are read. Some segments' layers run from the verso to the
// recto (their surface normal points the other way); a model trained on the usual order then sees
// its input upside down in depth and its output is ruined, not merely weaker.
enum class LayerOrder {
  as_stored,  // layer z is layers/z.tif
  reversed,   // layer z is layers/(N-1-z).tif: the whole stack turned over, so the window rule
              // (z0, the centred window) applies to the corrected stack
};
inline constexpr EnumNames<LayerOrder, 2> layer_order_names{
    {{LayerOrder::as_stored, "as_stored"}, {LayerOrder::reversed, "reversed"}}};
inline const char* to_string(LayerOrder order) {
  return enum_name(layer_order_names, order);
}

// A segment: a directory in the Vesuvius layout, layers/00.tif .. layers/NN.tif (8- or 16-bit
// greyscale TIFF, or PNG/JPEG) and <name>_mask.png beside them; or a surface volume stored as a
// Zarr array or OME-Zarr group (zarr_array.hpp). Opening reads headers only.
struct Segment {
  std::filesystem::path dir;
  std::string name;
  LayerOrder order = LayerOrder::as_stored;
  std::vector<std::filesystem::path> layers;  // index = layer number z in `order`; empty for Zarr
  std::shared_ptr<const ZarrArray> zarr;      // set for a Zarr surface volume
  std::optional<std::filesystem::path> mask;
  int width = 0;
  int height = 0;
  int bits = 0;

  int layer_count() const {
    return zarr ? static_cast<int>(zarr->shape[0]) : static_cast<int>(layers.size());
  }
  // The file number of layer z (differs from z when reversed).
  int stored_layer(int z) const {
    return order == LayerOrder::reversed ? layer_count() - 1 - z : z;
  }
};

// The segment's name: its directory's name ("20230509182749" for .../20230509182749/).
std::string segment_name(const std::filesystem::path& dir);

// `dir` is a segment folder with layers/, a Zarr array or OME-Zarr group (multiscale `level`), or
// a segment folder without layers/ that holds one *.zarr. Throws Error(input) when the directory,
// a layer or the mask is missing or inconsistent.
Segment open_segment(const std::filesystem::path& dir, LayerOrder order = LayerOrder::as_stored,
                     int level = 0);

// The same segment read in `order` (no file is touched).
Segment in_order(Segment segment, LayerOrder order);

// Reads layers z0 .. z0+depth-1 of `crop`, touching only those layers and the crop's rows.
// Throws Error(input) for a crop outside the image or a depth window past the last layer.
RawVolume read_crop(const Segment& segment, const Crop& crop, int z0, int depth);

// Checks that the crop and depth window fit the segment, with messages that say how.
void check_window(const Segment& segment, const Crop& crop, int z0, int depth);

}  // namespace inkgen
