#include "inkgen/io/segment.hpp"

#include <algorithm>
#include <cstdint>
#include <map>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/io/layer_image.hpp"

namespace inkgen {

namespace {

namespace fs = std::filesystem;

std::optional<int> layer_number(const fs::path& file) {
  const std::string stem = file.stem().string();
  if (stem.empty() || stem.size() > 6 || !std::all_of(stem.begin(), stem.end(), ::isdigit))
    return std::nullopt;
  return std::stoi(stem);
}

std::optional<fs::path> find_mask(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  const fs::path named = dir / (name + "_mask.png");
  if (fs::is_regular_file(named, ec)) return named;
  // A mask that is there but is not a file must not read as "no mask" (every tile papyrus).
  if (fs::exists(fs::symlink_status(named, ec)))
    check_input_file(named, "mask", ErrorKind::input, std::uintmax_t{1} << 32);
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto file = entry.path().filename().string();
    std::error_code entry_ec;
    if (entry.is_regular_file(entry_ec) && file.size() > 9 &&
        file.compare(file.size() - 9, 9, "_mask.png") == 0) {
      found.push_back(entry.path());
    }
  }
  std::sort(found.begin(), found.end());
  if (found.empty()) return std::nullopt;
  return found.front();
}

// The single *.zarr folder of a segment folder without layers/ (villa's layout beside the mask).
std::optional<fs::path> zarr_inside(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".zarr" && is_zarr(entry.path())) found.push_back(entry.path());
  }
  if (found.size() > 1) {
    std::sort(found.begin(), found.end());
    throw Error(ErrorKind::input, "segment '" + dir.string() + "' holds several Zarr volumes (" +
                                      found[0].filename().string() + ", " +
                                      found[1].filename().string() +
                                      ", ...); give the one to read as --segment");
  }
  if (found.empty()) return std::nullopt;
  return found.front();
}

// probe_layer's checks, with the file named as the mask it is.
LayerHeader probe_mask(const fs::path& path) {
  try {
    return probe_layer(path);
  } catch (const Error& e) {
    std::string message = e.what();
    if (message.rfind("layer ", 0) == 0) message.replace(0, 5, "mask");
    if (const auto at = message.rfind("the layer"); at != std::string::npos)
      message.replace(at, 9, "the mask");
    throw Error(e.kind(), message);
  }
}

void check_mask(const Segment& segment) {
  if (!segment.mask) return;
  const LayerHeader m = probe_mask(*segment.mask);
  if (m.width != segment.width || m.height != segment.height) {
    throw Error(ErrorKind::input, "mask " + segment.mask->string() + " is " +
                                      std::to_string(m.width) + "x" + std::to_string(m.height) +
                                      " but the layers are " + std::to_string(segment.width) + "x" +
                                      std::to_string(segment.height) +
                                      "; the mask must match the layers");
  }
}

// A Zarr surface volume: `array_dir` the array or group, `home` the folder named for the segment
// (the array's own folder, or the segment folder that holds it) where the mask is looked for.
Segment open_zarr_segment(const fs::path& dir, const fs::path& array_dir, const fs::path& home,
                          LayerOrder order, int level) {
  Segment segment;
  segment.dir = dir;
  std::string name = segment_name(home);
  if (home == array_dir && name.size() > 5 && name.compare(name.size() - 5, 5, ".zarr") == 0)
    name.resize(name.size() - 5);
  segment.name = name;
  segment.order = order;
  segment.zarr = std::make_shared<const ZarrArray>(open_zarr_array(array_dir, level));
  segment.width = static_cast<int>(segment.zarr->shape[2]);
  segment.height = static_cast<int>(segment.zarr->shape[1]);
  segment.bits = 8 * segment.zarr->bytes;
  segment.mask = find_mask(home, name);
  std::error_code ec;
  if (!segment.mask && home == array_dir &&
      fs::is_regular_file(home.parent_path() / (name + "_mask.png"), ec)) {
    segment.mask = home.parent_path() / (name + "_mask.png");
  }
  // A mask is drawn at full resolution: at a coarser level it is shrunk when read (segment_mask),
  // so that crops "auto" keep to the papyrus at every level.
  if (level > 0 && segment.mask) {
    const LayerHeader m = probe_mask(*segment.mask);
    const auto shrinks_to = [level](int full, int coarse) {
      const int f = 1 << level;  // OME-Zarr levels halve Y and X (rounding either way)
      return full / f == coarse || (full + f - 1) / f == coarse;
    };
    if (shrinks_to(m.width, segment.width) && shrinks_to(m.height, segment.height)) return segment;
  }
  check_mask(segment);
  return segment;
}

}  // namespace

std::string segment_name(const fs::path& dir) {
  fs::path p = fs::absolute(dir).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();  // "a/b/" names b
  return p.filename().string();
}

Segment open_segment(const fs::path& dir, LayerOrder order, int level) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(ErrorKind::input,
                "segment directory '" + dir.string() +
                    "' not found; give a segment directory that holds layers/ or a Zarr volume "
                    "(--segment, or \"segment\" in a JOBS line)");
  }
  if (is_zarr(dir)) {
    const fs::path clean = fs::absolute(dir).lexically_normal();
    const fs::path home = clean.has_filename() ? clean : clean.parent_path();
    return open_zarr_segment(dir, home, home, order, level);
  }
  Segment segment;
  segment.dir = dir;
  segment.name = segment_name(dir);
  const fs::path layers_dir = dir / "layers";
  if (!fs::is_directory(layers_dir, ec)) {
    if (const auto inside = zarr_inside(dir))
      return open_zarr_segment(dir, *inside, dir, order, level);
  }
  // A folder of layer images has one resolution: --level 1 would read full resolution unsaid.
  if (level > 0 && fs::is_directory(layers_dir, ec)) {
    throw Error(ErrorKind::usage, "--level " + std::to_string(level) +
                                      " asks for a coarser level, but '" + excerpt(dir.string()) +
                                      "' holds layer images at one resolution; leave --level out "
                                      "(levels are those of an OME-Zarr)");
  }
  if (!fs::is_directory(layers_dir, ec)) {
    throw Error(ErrorKind::input,
                "segment '" + dir.string() +
                    "' has no layers/ directory and no *.zarr; a segment holds layers/00.tif, "
                    "layers/01.tif, ... or a Zarr surface volume");
  }
  std::map<int, fs::path> by_number;
  for (const auto& entry : fs::directory_iterator(layers_dir, ec)) {
    if (!is_layer_file_name(entry.path())) continue;
    const auto number = layer_number(entry.path());
    if (!number) continue;
    // The error_code overloads: a symlink loop made the throwing ones escape as "a bug".
    std::error_code entry_ec;
    if (!fs::is_regular_file(entry.path(), entry_ec)) {
      std::error_code link_ec;
      const bool link = fs::is_symlink(entry.symlink_status(link_ec));
      const bool missing = entry_ec == std::errc::no_such_file_or_directory;
      const std::string what = entry_ec && !missing ? "cannot be read (" + entry_ec.message() + ")"
                               : link               ? "is a symbolic link to nothing readable"
                                                    : "is not a regular file";
      throw Error(ErrorKind::input, "layer " + entry.path().string() + " " + what +
                                        "; replace it with the layer's image or remove it");
    }
    const auto [it, inserted] = by_number.emplace(*number, entry.path());
    if (!inserted) {
      throw Error(ErrorKind::input, "segment '" + dir.string() + "' has two files for layer " +
                                        std::to_string(*number) + " (" +
                                        it->second.filename().string() + ", " +
                                        entry.path().filename().string() + "); keep one");
    }
  }
  if (by_number.empty()) {
    throw Error(
        ErrorKind::input,
        "segment '" + dir.string() +
            "' has no layer images in layers/; expected 00.tif, 01.tif, ... (or .png/.jpg)");
  }
  for (const auto& [number, path] : by_number) {
    if (number != segment.layer_count()) {
      throw Error(ErrorKind::input,
                  "segment '" + dir.string() + "' is missing layer " +
                      std::to_string(segment.layer_count()) + " (layers must be numbered 0.." +
                      std::to_string(by_number.rbegin()->first) + " without gaps); restore it");
    }
    segment.layers.push_back(path);
  }
  const LayerHeader first = probe_layer(segment.layers.front());
  segment.width = first.width;
  segment.height = first.height;
  segment.bits = first.bits;
  for (std::size_t z = 1; z < segment.layers.size(); ++z) {
    const LayerHeader h = probe_layer(segment.layers[z]);
    if (h.width != first.width || h.height != first.height) {
      throw Error(ErrorKind::input, "layer " + segment.layers[z].string() + " is " +
                                        std::to_string(h.width) + "x" + std::to_string(h.height) +
                                        " but layer 0 is " + std::to_string(first.width) + "x" +
                                        std::to_string(first.height) +
                                        "; all layers of a segment must have one size");
    }
    if (h.bits != first.bits) {
      throw Error(ErrorKind::input, "layer " + segment.layers[z].string() + " is " +
                                        std::to_string(h.bits) + "-bit but layer 0 is " +
                                        std::to_string(first.bits) +
                                        "-bit; all layers of a segment must have one bit depth");
    }
  }
  segment.mask = find_mask(dir, segment.name);
  check_mask(segment);
  return in_order(std::move(segment), order);
}

Segment in_order(Segment segment, LayerOrder order) {
  if (segment.order != order) std::reverse(segment.layers.begin(), segment.layers.end());
  segment.order = order;
  return segment;
}

void check_window(const Segment& segment, const Crop& crop, int z0, int depth) {
  if (crop.x2 > segment.width || crop.y2 > segment.height) {
    throw Error(ErrorKind::input, "crop " + crop.text() + " lies outside segment '" + segment.name +
                                      "' (" + std::to_string(segment.width) + "x" +
                                      std::to_string(segment.height) +
                                      " pixels); choose x2 <= " + std::to_string(segment.width) +
                                      " and y2 <= " + std::to_string(segment.height));
  }
  // 64-bit: z0 near 2^31 plus the depth wrapped int, passed this check and read past the end.
  const std::int64_t end = std::int64_t{z0} + depth;
  if (z0 < 0 || end > segment.layer_count()) {
    throw Error(ErrorKind::input,
                "depth window z0=" + std::to_string(z0) + ".." + std::to_string(end - 1) +
                    " goes beyond segment '" + segment.name + "', which has layers 0.." +
                    std::to_string(segment.layer_count() - 1) + "; choose --z0 between 0 and " +
                    std::to_string(std::max(0, segment.layer_count() - depth)));
  }
}

RawVolume read_crop(const Segment& segment, const Crop& crop, int z0, int depth) {
  check_window(segment, crop, z0, depth);
  RawVolume volume;
  volume.depth = depth;
  volume.height = crop.height();
  volume.width = crop.width();
  volume.voxels.resize(static_cast<std::size_t>(depth) * volume.height * volume.width);
  const std::size_t plane = static_cast<std::size_t>(volume.height) * volume.width;
  if (segment.zarr) {
    // Read in stored order (one pass over the chunks), then turn the layers over when reversed.
    const int first = std::min(segment.stored_layer(z0), segment.stored_layer(z0 + depth - 1));
    volume.voxels = read_zarr_region(*segment.zarr, first, first + depth, crop);
    if (segment.order == LayerOrder::reversed) {
      for (int z = 0; z < depth / 2; ++z)
        std::swap_ranges(volume.voxels.begin() + z * plane, volume.voxels.begin() + (z + 1) * plane,
                         volume.voxels.begin() + (depth - 1 - z) * plane);
    }
    return volume;
  }
  for (int z = 0; z < depth; ++z)
    read_layer_region(segment.layers[z0 + z], crop, volume.voxels.data() + z * plane);
  return volume;
}

}  // namespace inkgen
