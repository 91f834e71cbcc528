#include "inkgen/evaluate/atlas.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/io/float_tiff_stack.hpp"
#include "inkgen/optimize/volume_tensor.hpp"
#include "inkgen/run/diff_writer.hpp"
#include "inkgen/run/montage_writer.hpp"

namespace inkgen {

namespace {}  // namespace

std::vector<std::int64_t> parse_channel_list(const std::string& text, std::int64_t channels) {
  std::vector<std::int64_t> out;
  if (text == "all") {
    for (std::int64_t k = 0; k < channels; ++k)
      out.push_back(k);
    return out;
  }
  const auto bad = [&](const std::string& part, const std::string& why) {
    throw Error(ErrorKind::usage, "--channels part '" + excerpt(part) + "' " + why +
                                      "; give all, or channels and ranges below " +
                                      std::to_string(channels) + " such as 0-7 or 0,3,8-11");
  };
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t end = std::min(text.find(',', begin), text.size());
    const std::string part = text.substr(begin, end - begin);
    const std::size_t dash = part.find('-');
    const auto lo = parse_whole(part.substr(0, dash));
    const auto hi = dash == std::string::npos ? lo : parse_whole(part.substr(dash + 1));
    if (!lo || !hi || *lo < 0 || *hi < *lo) bad(part, "is not a channel or a range lo-hi");
    if (*hi >= channels) bad(part, "goes past the layer's last channel");
    for (long long k = *lo; k <= *hi; ++k) {
      if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
    }
    begin = end + 1;
  }
  return out;
}

std::vector<std::int64_t> atlas_channels(const InkModel& model, const std::string& layer,
                                         const std::string& channels) {
  const auto it = std::find_if(model.layers.begin(), model.layers.end(),
                               [&](const auto& l) { return l.first == layer; });
  if (it == model.layers.end()) {
    throw Error(ErrorKind::usage, "model '" + model.card.name + "' has no layer '" + layer +
                                      "'; its layers are " + layers_text(model));
  }
  return parse_channel_list(channels, it->second[0]);
}

std::optional<AtlasTile> read_atlas_tile(const std::filesystem::path& run_dir,
                                         const nlohmann::json& start, std::int64_t channel) {
  if (!start.contains("objective") || !start["objective"].contains("final")) return std::nullopt;
  const auto file = run_dir / start.value("folder", std::string(".")) / "diff.tif";
  const auto header = probe_float_tiff_stack(file);
  const Crop all{0, 0, header.width, header.height};
  auto values = read_float_tiff_stack(file, all, 0, header.pages);
  const auto diff =
      at::from_blob(values.data(), {header.pages, header.height, header.width}, at::kFloat).clone();
  return AtlasTile{channel, diff, start["objective"]["start"].get<double>(),
                   start["objective"]["final"].get<double>()};
}

int atlas_tile_layer(const at::Tensor& diff) {
  return static_cast<int>(
      dhw_on_cpu(diff).abs().mean(at::IntArrayRef{1, 2}).argmax().item<int64_t>());
}

std::vector<std::string> atlas_caption(const std::string& layer, const std::string& model_name,
                                       const std::string& source, int steps,
                                       const std::string& optimizer) {
  return {"atlas of layer " + layer + " of " + model_name + ", from " + source +
              ": each channel's mean maximized (" + std::to_string(steps) + " steps of " +
              optimizer + ")",
          "tile: the change at its largest layer z (own scale; red denser, blue lighter), under "
          "it |change| per layer"};
}

void write_atlas(const std::filesystem::path& path, const std::vector<AtlasTile>& tiles,
                 const std::vector<std::string>& caption) {
  namespace ms = montage_style;
  if (tiles.empty()) throw Error(ErrorKind::internal, "an atlas needs at least one tile");
  const auto first = dhw_on_cpu(tiles.front().diff);
  const int h = static_cast<int>(first.size(1)), w = static_cast<int>(first.size(2));
  const int zoom = ms::zoom(h, w);
  const int tile_w = std::max(w * zoom, 150), tile_h = h * zoom, plot_h = 48;
  const int columns = std::min<int>(8, static_cast<int>(tiles.size()));
  const int rows = (static_cast<int>(tiles.size()) + columns - 1) / columns;
  const int cell_w = tile_w + ms::gap, cell_h = ms::header_height + tile_h + plot_h + ms::gap;
  const int height =
      ms::gap + rows * cell_h + ms::line_height * static_cast<int>(caption.size()) + ms::gap + 14;
  cv::Mat canvas = ms::canvas(height, ms::gap + columns * cell_w);
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const auto d = dhw_on_cpu(tiles[i].diff);
    const int layer = atlas_tile_layer(d);
    const double largest = d.abs().max().item<double>();
    const double scale = std::max(1e-12, largest);
    cv::Mat slice;
    cv::resize(diff_to_colour(d[layer], scale), slice, {w * zoom, h * zoom}, 0, 0,
               cv::INTER_NEAREST);
    const int x = ms::gap + static_cast<int>(i % columns) * cell_w;
    const int y = ms::gap + static_cast<int>(i / columns) * cell_h;
    ms::text(canvas, "ch " + std::to_string(tiles[i].channel) + "  z=" + std::to_string(layer), x,
             y + 12);
    // A channel that is off everywhere for this start has a zero gradient: nothing can move it.
    ms::text(canvas,
             largest == 0.0
                 ? std::string("no change: zero gradient")
                 : ms::number(tiles[i].start_value) + " -> " + ms::number(tiles[i].final_value),
             x, y + 24);
    slice.copyTo(canvas(cv::Rect(x, y + ms::header_height, slice.cols, slice.rows)));
    const auto profile = to_doubles(d.abs().mean(at::IntArrayRef{1, 2}));
    // The profile on its side under the slice: layer 0 on the left, bars rising.
    cv::Mat plot = profile_plot(profile, plot_h, tile_w);
    cv::rotate(plot, plot, cv::ROTATE_90_COUNTERCLOCKWISE);
    plot.copyTo(canvas(cv::Rect(x, y + ms::header_height + tile_h, plot.cols, plot.rows)));
  }
  int y = ms::gap + rows * cell_h + ms::line_height;
  for (const auto& line : caption) {
    ms::text(canvas, line, ms::gap, y);
    y += ms::line_height;
  }
  ms::colour_bar(canvas, ms::gap, y - ms::line_height + 6, 120);
  write_image_atomically(path, canvas);
}

}  // namespace inkgen
