#include "fidelity_fixture.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <fstream>

#include "inkgen/io/segment_writer.hpp"
#include "inkgen/run/diff_writer.hpp"
#include "test_support.hpp"

namespace inkgen::test {

namespace fs = std::filesystem;

namespace {

at::Tensor tensor_of(const FloatVolume& v) {
  return at::from_blob(const_cast<float*>(v.values.data()), {v.depth, v.height, v.width},
                       at::kFloat)
      .clone();
}

std::size_t fixture_voxel(const FloatVolume& v, int z, int y, int x) {
  return (static_cast<std::size_t>(z) * v.height + y) * v.width + x;
}

}  // namespace

TruthSegment make_truth_segment(const fs::path& dir, const cv::Mat& mask,
                                const std::function<double(int, int)>& surface) {
  const int w = TruthSegment::width, h = TruthSegment::height, d = TruthSegment::layers;
  TruthSegment s;
  s.dir = dir;
  s.raw = random_volume(d, h, w, 7, 20000, 24000);
  s.film = FloatVolume{d, h, w, std::vector<float>(static_cast<std::size_t>(d) * h * w)};
  s.ink = s.film;
  FloatVolume height_map{1, h, w, std::vector<float>(static_cast<std::size_t>(h) * w)};
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double centre = surface ? surface(y, x) : 7.0 + 1.5 * x / w;
      height_map.values[fixture_voxel(height_map, 0, y, x)] = static_cast<float>(centre);
      const bool inked = (x / 3 + y / 3) % 2 == 0 && (mask.empty() || mask.at<unsigned char>(y, x));
      for (int z = 0; z < d; ++z) {
        const double f = std::exp(-0.5 * std::pow((z - centre) / 0.8, 2));
        const std::size_t i = fixture_voxel(s.film, z, y, x);
        s.film.values[i] = static_cast<float>(f);
        const double ink = inked ? std::round(1500.0 * f) : 0.0;
        s.ink.values[i] = static_cast<float>(ink);
        s.raw.voxels[i] = static_cast<std::uint16_t>(s.raw.voxels[i] + ink);
      }
    }
  }
  write_segment(dir, s.raw, mask);
  const std::string name = dir.filename().string();
  write_float_tiff_stack(dir / (name + "_film.tif"), tensor_of(s.film));
  write_float_tiff_stack(dir / (name + "_ink.tif"), tensor_of(s.ink));
  write_float_tiff_stack(dir / (name + "_surface.tif"), tensor_of(height_map));
  write_text(dir / (name + "_synth.json"), "{\"test\": true}\n");
  return s;
}

FloatVolume window_of(const FloatVolume& v, const Crop& crop, int z0, int depth) {
  FloatVolume out{depth, crop.height(), crop.width(), {}};
  for (int z = 0; z < depth; ++z)
    for (int y = crop.y1; y < crop.y2; ++y)
      for (int x = crop.x1; x < crop.x2; ++x)
        out.values.push_back(v.at(z0 + z, y, x));
  return out;
}

FloatVolume linear_ink_signal(const TruthSegment& s, float sign) {
  FloatVolume out = window_of(s.ink, truth_crop, truth_z0, truth_depth);
  for (auto& v : out.values)
    v = sign * v / 65535.0f;
  return out;
}

nlohmann::json segment_run_record(const std::string& direction, const TruthSegment& s,
                                  const std::string& rule) {
  const Crop& c = truth_crop;
  const nlohmann::json source = {{"kind", "segment"},
                                 {"segment", s.dir.string()},
                                 {"segment_name", s.dir.filename().string()},
                                 {"crop", {c.x1, c.y1, c.x2, c.y2}},
                                 {"z0", truth_z0},
                                 {"layers", {truth_z0, truth_z0 + truth_depth - 1}}};
  return {{"status", "done"},
          {"mode", {{"direction", direction}, {"source", "segment"}}},
          {"model",
           {{"card",
             {{"name", "test"},
              {"input", {{"shape", {1, truth_depth, c.height(), c.width()}}, {"scale", rule}}}}},
            {"input_shape", {1, 1, truth_depth, c.height(), c.width()}}}},
          {"options", {{"z0", "card"}}},
          {"scale", {{"rule", rule}, {"valid_range", {0.0, 1.0}}}},
          {"starts",
           {{{"index", 0},
             {"folder", "."},
             {"source", source},
             {"status", "done"},
             {"start_score", {{"logit", 0.0}, {"probability", 0.5}}},
             {"final_score", {{"logit", 2.0}, {"probability", 0.88}}}}}}};
}

nlohmann::json noise_run_record(const std::string& direction, int depth, int card_z0) {
  return {
      {"status", "done"},
      {"mode", {{"direction", direction}, {"source", "noise"}}},
      {"model",
       {{"card",
         {{"name", "test"},
          {"input", {{"shape", {1, depth, 10, 10}}, {"scale", "raw16/65535"}, {"z0", card_z0}}}}},
        {"input_shape", {1, 1, depth, 10, 10}}}},
      {"options", {{"z0", "card"}}},
      {"scale", {{"rule", "raw16/65535"}, {"valid_range", {0.0, 1.0}}}},
      {"starts",
       {{{"index", 0},
         {"folder", "."},
         {"source", {{"kind", "noise"}, {"noise", "uniform"}, {"seed", 3}}},
         {"status", "done"},
         {"start_score", {{"logit", 0.0}, {"probability", 0.5}}},
         {"final_score", {{"logit", 1.0}, {"probability", 0.73}}}}}}};
}

void write_run(const fs::path& folder, const nlohmann::json& record, const FloatVolume& diff) {
  fs::create_directories(folder);
  write_text(folder / "run.json", record.dump(2));
  write_float_tiff_stack(folder / "diff.tif", tensor_of(diff));
}

}  // namespace inkgen::test
