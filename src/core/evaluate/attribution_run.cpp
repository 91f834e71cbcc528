#include "inkgen/evaluate/attribution_run.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/evaluate/attribution.hpp"
#include "inkgen/io/segment_writer.hpp"
#include "inkgen/optimize/optimization.hpp"
#include "inkgen/run/diff_writer.hpp"
#include "inkgen/run/montage_writer.hpp"
#include "inkgen/run/run_record.hpp"
#include "inkgen/run/slice_stack_writer.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

at::Tensor attribution_dhw(const at::Tensor& v) {
  at::Tensor t = v.to(at::kCPU, at::kFloat);
  while (t.dim() > 3)
    t = t.select(0, 0);
  return t.contiguous();
}

// The grey slice with the map over it: red where A > 0, blue where A < 0, opacity |A| / scale.
cv::Mat attribution_overlay(const at::Tensor& slice, const at::Tensor& map, double lo, double hi,
                            double scale) {
  const cv::Mat grey = slice_to_gray8(slice, lo, hi);
  const auto a = (map / scale).clamp(-1, 1).contiguous();
  const float* p = a.data_ptr<float>();
  cv::Mat out(grey.rows, grey.cols, CV_8UC3);
  for (int y = 0; y < grey.rows; ++y) {
    for (int x = 0; x < grey.cols; ++x) {
      const double v = p[y * grey.cols + x], alpha = 0.8 * std::abs(v);
      const double g = grey.at<uint8_t>(y, x) * (1 - alpha);
      const auto full = static_cast<uint8_t>(g + 255 * alpha), dim = static_cast<uint8_t>(g);
      out.at<cv::Vec3b>(y, x) = v >= 0 ? cv::Vec3b(dim, dim, full) : cv::Vec3b(full, dim, dim);
    }
  }
  return out;
}

// Start slices, attribution slices and the map over the start, side by side; the depth profile
// below; a colour bar and the caption.
void write_attribution_montage(const fs::path& path, const at::Tensor& start_volume,
                               const at::Tensor& map_volume, double lo, double hi, double scale,
                               const std::vector<double>& profile,
                               const std::vector<std::string>& caption) {
  const auto start = attribution_dhw(start_volume);
  const auto map = attribution_dhw(map_volume);
  const int depth = static_cast<int>(start.size(0));
  const int h = static_cast<int>(start.size(1)), w = static_cast<int>(start.size(2));
  using namespace montage_style;
  const int tile_w = w * zoom(h, w), tile_h = h * zoom(h, w);
  const auto slices = montage_slices(depth, 8);
  const int rows = static_cast<int>(slices.size());
  const int width = label_width + 3 * (tile_w + gap) + gap;
  const int extras = header_height + tile_h + gap;
  const int caption_height = (static_cast<int>(caption.size()) + 1) * line_height + gap;
  const int height = header_height + rows * (tile_h + gap) + extras + caption_height + 16;
  int widest = 0;
  for (const auto& line : caption)
    widest = std::max(widest, text_width(line));
  cv::Mat canvas = montage_style::canvas(height, std::max({width, widest, 420}));
  const int col[3] = {label_width, label_width + tile_w + gap, label_width + 2 * (tile_w + gap)};
  text(canvas, "start", col[0], 18);
  text(canvas, "attribution", col[1], 18);
  text(canvas, "over start", col[2], 18);
  for (int r = 0; r < rows; ++r) {
    const int z = slices[r];
    const int y = header_height + r * (tile_h + gap);
    text(canvas, "z=" + std::to_string(z), 6, y + tile_h / 2 + 5);
    cv::Mat tiles[3];
    cv::cvtColor(slice_to_gray8(start.select(0, z), lo, hi), tiles[0], cv::COLOR_GRAY2BGR);
    tiles[1] = diff_to_colour(map.select(0, z), scale);
    tiles[2] = attribution_overlay(start.select(0, z), map.select(0, z), lo, hi, scale);
    for (int i = 0; i < 3; ++i) {
      cv::Mat big;
      cv::resize(tiles[i], big, {tile_w, tile_h}, 0, 0, cv::INTER_NEAREST);
      big.copyTo(canvas(cv::Rect(col[i], y, tile_w, tile_h)));
    }
  }
  int y = header_height + rows * (tile_h + gap);
  text(canvas, "|A| per layer", col[0], y + 18);
  profile_plot(profile, tile_w, tile_h)
      .copyTo(canvas(cv::Rect(col[0], y + header_height, tile_w, tile_h)));
  y += extras + 4;
  const int bar_w = std::min(tile_w, 200);
  colour_bar(canvas, col[1], y, bar_w);
  text(canvas, "-" + montage_style::number(scale) + " .. +" + montage_style::number(scale),
       col[1] + bar_w + 8, y + 10);
  text(canvas, "blue: against ink, red: for ink", col[1], y + 26);
  text(canvas, "grey: " + montage_style::number(lo) + ".." + montage_style::number(hi), col[0],
       y + 10);
  y += 24 + line_height;
  for (const auto& line : caption) {
    text(canvas, line, 6, y);
    y += line_height;
  }
  write_image_atomically(path, canvas);
}

// One start's files, and what run.json says of its map.
nlohmann::json write_attribution_files(const fs::path& dir, const InkModel& model,
                                       const AttributionSpec& spec, const at::Tensor& start,
                                       const at::Tensor& map, const InkScore& score,
                                       const nlohmann::json& source) {
  const auto& card = model.card;
  const auto a = attribution_dhw(map);
  write_slice_stack(dir / "start", start, card.range_lo, card.range_hi);
  const double max_positive = std::max(0.0, a.max().item<double>());
  const double max_negative = std::max(0.0, -a.min().item<double>());
  // An all-zero map still gets a finite scale, so its pictures come out white, not NaN.
  const double scale = std::max({max_positive, max_negative, 1e-12});
  make_directories(dir / "attribution");
  const int depth = static_cast<int>(a.size(0));
  for (int z = 0; z < depth; ++z) {
    write_image_atomically(dir / "attribution" / layer_file_name(z, depth, ".png"),
                           diff_to_colour(a.select(0, z), scale));
  }
  write_float_tiff_stack(dir / "attribution.tif", a);
  const auto profile = attribution_depth_profile(a);
  const double sum_abs = a.abs().sum().item<double>();
  const auto& o = spec.attribution;
  std::string settings = std::string("method ") + to_string(o.method);
  if (o.method == AttributionMethod::smoothgrad || o.method == AttributionMethod::ig)
    settings += ", " + std::to_string(o.samples) + " samples";
  if (o.method != AttributionMethod::map_depth)  // map-depth is smooth by construction
    settings += ", smooth " + montage_style::number(o.smooth);
  settings += ", threshold " + montage_style::number(o.threshold);
  write_attribution_montage(
      dir / "montage.png", start, a, card.range_lo, card.range_hi, scale, profile,
      {"attribution, " + card.name + ", " + describe_source(source),
       settings + "   ink probability " + montage_style::fixed(score.probability, 4) + " (logit " +
           montage_style::fixed(score.logit, 2) + ")"});
  nlohmann::json j = {{"method", to_string(o.method)}, {"scale", scale},
                      {"max_positive", max_positive},  {"max_negative", max_negative},
                      {"sum", a.sum().item<double>()}, {"sum_abs", sum_abs},
                      {"depth_profile", profile}};
  if (o.method == AttributionMethod::smoothgrad) {
    j["samples"] = o.samples;
    j["noise_sd"] = attribution_noise_sd(o, card);
  }
  if (o.method == AttributionMethod::ig) {
    j["samples"] = o.samples;
    j["baseline"] = {{"kind", "blurred in x,y"}, {"sigma", o.baseline_sigma}};
  }
  return j;
}

nlohmann::json attribution_scale_json(const InkModel& model) {
  nlohmann::json j = scale_json(model);
  for (const char* key : {"diff_png", "diff_tif", "volume"})
    j.erase(key);  // the optimization's files; an attribution run has none
  j["attribution_png"] =
      "attribution/ PNGs: A / attribution.scale in -1..1; red = supports ink, white = 0, blue = "
      "argues against ink; one scale for all slices of a start";
  j["attribution_tif"] =
      "attribution.tif: the map A itself, float32, one page per slice: d(ink target)/d(voxel) "
      "for gradient methods, a contribution in logits for ig, an ink probability spread over "
      "depth for map-depth, after smooth and threshold";
  return j;
}

}  // namespace

RunOutcome run_attribution(const InkModel& model, const std::vector<StartVolume>& starts,
                           const AttributionSpec& spec, const std::atomic<bool>* stop) {
  if (starts.empty()) throw Error(ErrorKind::usage, "nothing to attribute: no crops; give --crop");
  prepare_output_dir(spec.out, spec.overwrite);
  const std::size_t count = starts.size();

  RunOutcome outcome;
  RunRecordFile record(
      spec.out,
      new_run_record(model, "attribute", spec.seed, spec.options, attribution_scale_json(model)),
      starts);
  record.write();

  try {
    const std::size_t batch = static_cast<std::size_t>(std::max(1, spec.batch));
    for (std::size_t first = 0; first < count; first += batch) {
      if (stop != nullptr && stop->load()) {
        outcome.status = RunStatus::interrupted;
        break;
      }
      const std::size_t n = std::min(batch, count - first);
      std::vector<at::Tensor> volumes;
      std::vector<std::uint64_t> seeds;
      for (std::size_t i = first; i < first + n; ++i) {
        volumes.push_back(starts[i].values);
        seeds.push_back(start_seed(spec.seed, static_cast<int>(i)));
      }
      const at::Tensor x = at::stack(volumes);
      const auto scores = score_volumes(model, x);
      const at::Tensor maps = attribute_volumes(model, x, spec.attribution, seeds);
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = first + k;
        auto& entry = record.start(i);
        entry["start_score"] = score_json(scores[k]);
        entry["attribution"] =
            write_attribution_files(start_folder(spec.out, i, count), model, spec, starts[i].values,
                                    maps[static_cast<int64_t>(k)], scores[k], starts[i].source);
        entry["status"] = "done";
      }
      record.write();
    }
  } catch (const Error& e) {
    outcome.status = RunStatus::failed;
    record.fail(e);
    throw;
  }
  record.finish(outcome.status);
  outcome.record = record.json();
  return outcome;
}

}  // namespace inkgen
