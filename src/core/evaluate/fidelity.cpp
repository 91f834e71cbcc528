#include "inkgen/evaluate/fidelity.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/io/crop_tiling.hpp"
#include "inkgen/io/float_tiff_stack.hpp"

namespace inkgen {

namespace fs = std::filesystem;

namespace {

// The error_code form: a symlink loop in a user's folder must not escape as an exception.
bool is_file_here(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// A centred film profile shorter than this is flat: no depth to align with.
constexpr double flat_profile = 1e-6;

[[noreturn]] void bad_run(const fs::path& where, const std::string& problem,
                          const std::string& fix) {
  throw Error(ErrorKind::input, where.string() + ": " + problem + "; " + fix);
}

// The film value of column (y, x) at depth z, for a per-column film or one shared profile.
float film_at(const FloatVolume& film, int z, int y, int x) {
  return film.height == 1 && film.width == 1 ? film.values[z] : film.at(z, y, x);
}

void check_film_fits(const FloatVolume& diff, const FloatVolume& film) {
  const bool shared = film.height == 1 && film.width == 1;
  if (film.depth != diff.depth ||
      (!shared && (film.height != diff.height || film.width != diff.width))) {
    throw Error(ErrorKind::internal, "fidelity: the film window does not match the diff");
  }
}

std::optional<int> int_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j.at(key).is_number_integer()) return std::nullopt;
  return j.at(key).get<int>();
}

std::optional<double> probability_at(const nlohmann::json& start, const char* key) {
  if (!start.contains(key) || !start.at(key).is_object()) return std::nullopt;
  const auto& s = start.at(key);
  if (!s.contains("probability") || !s.at("probability").is_number()) return std::nullopt;
  return s.at("probability").get<double>();
}

nlohmann::json read_record(const fs::path& path) {
  if (!std::ifstream(path, std::ios::binary))
    bad_run(path, "cannot be read", "check the file's permissions");
  nlohmann::json j = parse_json_input(read_text(path), ErrorKind::input, path.string(),
                                      "give a run.json written by inkgen, or run it again");
  if (!j.is_object() || !j.contains("starts") || !j.at("starts").is_array())
    bad_run(path, "has no \"starts\" list", "give a run.json written by inkgen");
  return j;
}

// The path without "." parts or a trailing separator: "run/." -> "run".
fs::path normal(const fs::path& p) {
  fs::path n = p.lexically_normal();
  return n.has_filename() || !n.has_parent_path() ? n : n.parent_path();
}

// The starts one run.json lists. The record in a start folder of a several-start run lists that
// start alone, under the folder name it has in the parent: a lone start is always its record's
// own folder.
void add_starts_of(const fs::path& dir, const fs::path& shown, std::vector<RunStart>& out) {
  const fs::path record = dir / "run.json";
  const nlohmann::json run = read_record(record);
  const auto& starts = run.at("starts");
  for (const auto& start : starts) {
    RunStart s;
    s.record = record;
    s.run = run;
    s.start = start;
    // Every later read of the start takes it as an object (value() throws on anything else).
    if (!start.is_object())
      bad_run(record, "lists a start that is " + excerpt(start) + ", not an object",
              "give a run.json written by inkgen");
    const auto& named = start.contains("folder") ? start.at("folder") : nlohmann::json(".");
    const std::string folder = named.is_string() ? named.get<std::string>() : ".";
    const fs::path relative = starts.size() == 1 ? fs::path(".") : fs::path(folder);
    s.folder = normal(dir / relative);
    s.name = normal(shown / relative).string();
    out.push_back(std::move(s));
  }
}

std::string mode_of(const RunStart& s, bool attribution) {
  if (attribution) return "attribution";
  const auto& mode = s.run.contains("mode") ? s.run.at("mode") : nlohmann::json();
  const std::string direction =
      mode.is_string() ? mode.get<std::string>()
                       : (mode.is_object() ? mode.value("direction", std::string()) : "");
  if (direction != "maximize" && direction != "minimize") {
    bad_run(s.record, "has mode " + mode.dump() + ", neither maximize nor minimize",
            "give a run written by inkgen maximize, minimize or batch");
  }
  return direction;
}

// The model's channel count, from the recorded input shape (N, C, D, H, W) or the card's
// (C, D, H, W).
int channels_of(const nlohmann::json& run) {
  const auto model = run.value("model", nlohmann::json::object());
  const auto shape = model.value("input_shape", nlohmann::json());
  if (shape.is_array() && shape.size() == 5 && shape[1].is_number_integer())
    return shape[1].get<int>();
  const auto card = model.value("card", nlohmann::json::object());
  if (card.contains("input") && card.at("input").is_object()) {
    const auto s = card.at("input").value("shape", nlohmann::json());
    if (s.is_array() && s.size() == 4 && s[0].is_number_integer()) return s[0].get<int>();
  }
  return 1;
}

ValueScale scale_of(const RunStart& s) {
  std::string rule;
  if (s.run.contains("scale") && s.run.at("scale").is_object())
    rule = s.run.at("scale").value("rule", std::string());
  if (rule.empty()) {
    const auto card =
        s.run.value("model", nlohmann::json::object()).value("card", nlohmann::json());
    if (card.is_object() && card.contains("input") && card.at("input").is_object()) {
      const auto v = card.at("input").value("scale", nlohmann::json());
      if (v.is_string()) rule = v.get<std::string>();
    }
  }
  if (rule.empty()) {
    bad_run(s.record, "records no value scale (scale.rule or the card's input.scale)",
            "give a run.json written by inkgen");
  }
  try {
    return parse_value_scale(rule);
  } catch (const Error& e) {
    bad_run(s.record, std::string("has a scale rule that cannot be read (") + e.what() + ")",
            "give a run.json written by inkgen");
  }
}

// The first layer of a noise run's window: the z0 the run recorded, else the card's, else the
// centred window the commands default to.
int noise_z0(const RunStart& s, int layer_count, int depth) {
  if (const auto z = int_at(s.start.value("source", nlohmann::json()), "z0")) return *z;
  if (const auto z = int_at(s.run.value("options", nlohmann::json()), "z0")) return *z;
  const auto card = s.run.value("model", nlohmann::json::object()).value("card", nlohmann::json());
  if (card.is_object() && card.contains("input")) {
    if (const auto z = int_at(card.at("input"), "z0")) return *z;
  }
  return std::max(0, (layer_count - depth + 1) / 2);
}

FloatVolume read_window(const fs::path& path, const Crop& crop, int z0, int depth) {
  FloatVolume v;
  v.depth = depth;
  v.height = crop.height();
  v.width = crop.width();
  v.values = read_float_tiff_stack(path, crop, z0, depth);
  return v;
}

// The film's mean profile over the mask, read one page at a time: a noise run has no crop, so
// this touches whole pages, and one page at a time bounds the memory.
FloatVolume masked_film_profile(const SegmentTruth& truth, int z0, int depth) {
  const Segment& seg = truth.segment;
  const cv::Mat mask = segment_mask(seg);
  const Crop all{0, 0, seg.width, seg.height};
  FloatVolume profile;
  profile.depth = depth;
  profile.height = profile.width = 1;
  for (int z = 0; z < depth; ++z) {
    const FloatVolume page = read_window(truth.film, all, z0 + z, 1);
    profile.values.push_back(mean_profile(page, mask).values[0]);
  }
  return profile;
}

void check_truth_file(const fs::path& path, const Segment& seg) {
  const FloatStackHeader h = probe_float_tiff_stack(path);
  if (h.pages != seg.layer_count() || h.width != seg.width || h.height != seg.height) {
    throw Error(ErrorKind::input,
                path.string() + " holds " + std::to_string(h.pages) + " pages of " +
                    std::to_string(h.width) + "x" + std::to_string(h.height) + " but segment " +
                    seg.name + " has " + std::to_string(seg.layer_count()) + " layers of " +
                    std::to_string(seg.width) + "x" + std::to_string(seg.height) +
                    "; make the segment and its ground truth again with inkgen synth");
  }
}

struct Means {
  int starts = 0;
  double f_band = 0, kas_film = 0, kas_ink = 0, p0 = 0, p1 = 0;
  int n_band = 0, n_ink = 0, n_p0 = 0, n_p1 = 0;

  void add(const StartFidelity& s) {
    ++starts;
    kas_film += s.kas_film;
    if (s.f_band) f_band += *s.f_band, ++n_band;
    if (s.kas_ink) kas_ink += *s.kas_ink, ++n_ink;
    if (s.p0) p0 += *s.p0, ++n_p0;
    if (s.p1) p1 += *s.p1, ++n_p1;
  }
  nlohmann::json to_json() const {
    const auto mean = [](double sum, int n) {
      return n > 0 ? nlohmann::json(sum / n) : nlohmann::json(nullptr);
    };
    return {{"starts", starts},
            {"F_band", mean(f_band, n_band)},
            {"KAS_film", mean(kas_film, starts)},
            {"KAS_ink", mean(kas_ink, n_ink)},
            {"KAS_ink_starts", n_ink},
            {"p0", mean(p0, n_p0)},
            {"p1", mean(p1, n_p1)}};
  }
};

nlohmann::json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

std::optional<double> band_fraction(const FloatVolume& diff, const FloatVolume& film,
                                    double half_width) {
  check_film_fits(diff, film);
  double total = 0, inside = 0;
  for (int y = 0; y < diff.height; ++y) {
    for (int x = 0; x < diff.width; ++x) {
      double weight = 0, moment = 0;
      for (int z = 0; z < diff.depth; ++z) {
        const double f = film_at(film, z, y, x);
        weight += f;
        moment += f * z;
      }
      const bool has_centre = weight > 0;
      const double centre = has_centre ? moment / weight : 0.0;
      for (int z = 0; z < diff.depth; ++z) {
        const double a = std::abs(static_cast<double>(diff.at(z, y, x)));
        total += a;
        if (has_centre && std::abs(z - centre) <= half_width) inside += a;
      }
    }
  }
  if (total <= 0) return std::nullopt;
  return inside / total;
}

double film_alignment(const FloatVolume& diff, const FloatVolume& film, int sigma) {
  check_film_fits(diff, film);
  const int d = diff.depth;
  std::vector<double> dc(d), w(d);
  double aligned = 0, energy = 0, raw_energy = 0;
  for (int y = 0; y < diff.height; ++y) {
    for (int x = 0; x < diff.width; ++x) {
      double dm = 0, wm = 0;
      for (int z = 0; z < d; ++z) {
        dc[z] = diff.at(z, y, x);
        w[z] = film_at(film, z, y, x);
        dm += dc[z];
        wm += w[z];
      }
      dm /= d;
      wm /= d;
      double norm = 0, dot = 0;
      for (int z = 0; z < d; ++z) {
        raw_energy += dc[z] * dc[z];
        dc[z] -= dm;
        w[z] -= wm;
        energy += dc[z] * dc[z];
        norm += w[z] * w[z];
        dot += w[z] * dc[z];
      }
      norm = std::sqrt(norm);
      if (norm <= flat_profile) continue;
      const double a = std::max(sigma * dot / norm, 0.0);
      aligned += a * a;
    }
  }
  // A change with no depth structure (rounding aside) aligns with nothing.
  if (energy <= 1e-20 * raw_energy || energy <= 0) return 0.0;
  return aligned / energy;
}

std::optional<double> ink_correlation(const FloatVolume& diff, const FloatVolume& signal,
                                      int sigma) {
  if (diff.values.size() != signal.values.size())
    throw Error(ErrorKind::internal, "fidelity: the ink signal does not match the diff");
  const std::size_t n = diff.values.size();
  if (n == 0) return std::nullopt;
  double md = 0, ms = 0;
  for (std::size_t i = 0; i < n; ++i) {
    md += sigma * static_cast<double>(diff.values[i]);
    ms += signal.values[i];
  }
  md /= static_cast<double>(n);
  ms /= static_cast<double>(n);
  double sdd = 0, sss = 0, sds = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = sigma * static_cast<double>(diff.values[i]) - md;
    const double b = signal.values[i] - ms;
    sdd += a * a;
    sss += b * b;
    sds += a * b;
  }
  if (sss <= 0) return std::nullopt;
  if (sdd <= 0) return 0.0;
  // Rounding can carry a perfect match a hair past 1.
  return std::clamp(sds / std::sqrt(sdd * sss), -1.0, 1.0);
}

FloatVolume ink_signal(const RawVolume& raw, const FloatVolume& ink, const ValueScale& scale) {
  if (raw.voxels.size() != ink.values.size())
    throw Error(ErrorKind::internal, "fidelity: the ink window does not match the segment window");
  FloatVolume s{raw.depth, raw.height, raw.width, std::vector<float>(raw.voxels.size())};
  for (std::size_t i = 0; i < raw.voxels.size(); ++i) {
    const double bare =
        std::clamp(std::round(raw.voxels[i] - static_cast<double>(ink.values[i])), 0.0, 65535.0);
    s.values[i] = scale.to_model(raw.voxels[i]) - scale.to_model(static_cast<std::uint16_t>(bare));
  }
  return s;
}

FloatVolume mean_profile(const FloatVolume& film, const cv::Mat& mask) {
  if (!mask.empty() && (mask.rows != film.height || mask.cols != film.width))
    throw Error(ErrorKind::internal, "fidelity: the mask does not match the film");
  FloatVolume p{film.depth, 1, 1, std::vector<float>(film.depth, 0.0f)};
  for (int z = 0; z < film.depth; ++z) {
    double sum = 0;
    long count = 0;
    for (int y = 0; y < film.height; ++y) {
      for (int x = 0; x < film.width; ++x) {
        if (!mask.empty() && mask.at<unsigned char>(y, x) == 0) continue;
        sum += film.at(z, y, x);
        ++count;
      }
    }
    p.values[z] = count > 0 ? static_cast<float>(sum / count) : 0.0f;
  }
  return p;
}

SegmentTruth open_segment_truth(const fs::path& dir) {
  SegmentTruth t;
  t.segment = open_segment(dir);
  const std::string& name = t.segment.name;
  t.ink = t.segment.dir / (name + "_ink.tif");
  t.film = t.segment.dir / (name + "_film.tif");
  for (const auto& path : {t.ink, t.film}) {
    if (!is_file_here(path)) {
      throw Error(ErrorKind::input,
                  "segment " + dir.string() + " has no ground truth (" + path.filename().string() +
                      " is missing): it was not made by inkgen synth with ground truth; make one "
                      "with `inkgen synth --out DIR` (it writes <name>_ink.tif, <name>_film.tif "
                      "and <name>_surface.tif beside the layers) and run on that");
    }
    check_truth_file(path, t.segment);
  }
  const fs::path synth = t.segment.dir / (name + "_synth.json");
  if (is_file_here(synth)) {
    const nlohmann::json options = parse_json_input(
        read_text(synth), ErrorKind::input, synth.string(), "remake the segment with inkgen synth");
    if (!options.is_object()) {
      throw Error(ErrorKind::input, synth.string() +
                                        " is not a JSON object; remake the segment "
                                        "with inkgen synth");
    }
    const auto contrast = options.find("ink_contrast");
    if (contrast != options.end() && contrast->is_number() && contrast->get<double>() < 0)
      t.ink_sign = -1;
  }
  return t;
}

std::vector<RunStart> find_run_starts(const fs::path& run_dir) {
  if (std::error_code ec; !fs::is_directory(run_dir, ec)) {
    throw Error(ErrorKind::input, "run folder " + run_dir.string() +
                                      " does not exist; give a folder written by inkgen "
                                      "maximize, minimize or batch");
  }
  std::vector<RunStart> out;
  if (is_file_here(run_dir / "run.json")) {
    add_starts_of(run_dir, run_dir, out);
    return out;
  }
  std::vector<fs::path> runs;
  std::error_code walk;
  for (auto it = fs::recursive_directory_iterator(run_dir, walk);
       !walk && it != fs::recursive_directory_iterator(); it.increment(walk)) {
    std::error_code ec;
    if (it->is_directory(ec) && is_file_here(it->path() / "run.json")) {
      runs.push_back(it->path());
      it.disable_recursion_pending();  // its start folders belong to its own record
    }
  }
  if (runs.empty()) {
    throw Error(ErrorKind::input, "no run.json in or below " + run_dir.string() +
                                      "; give a folder written by inkgen maximize, minimize or "
                                      "batch");
  }
  std::sort(runs.begin(), runs.end());
  for (const auto& dir : runs)
    add_starts_of(dir, dir, out);
  return out;
}

std::optional<StartFidelity> evaluate_start(const SegmentTruth& truth, const RunStart& s,
                                            std::string& why_skipped) {
  const fs::path diff_path = s.folder / "diff.tif", attribution_path = s.folder / "attribution.tif";
  const bool has_diff = is_file_here(diff_path);
  const bool attribution = !has_diff && is_file_here(attribution_path);
  const std::string status = s.start.value("status", std::string());
  if (!has_diff && !attribution) {
    if (status != "done" && status != "interrupted") {
      why_skipped = "not finished (status " + (status.empty() ? "unknown" : status) + ")";
      return std::nullopt;
    }
    bad_run(s.folder, "has no diff.tif (nor attribution.tif) though run.json says " + status,
            "run it again, or leave the folder out");
  }
  const nlohmann::json source = s.start.value("source", nlohmann::json::object());
  const std::string kind = source.value("kind", std::string());
  if (kind != "segment" && kind != "noise") {
    bad_run(s.record, "lists a start whose source is neither a segment nor noise",
            "give a run.json written by inkgen");
  }
  if (kind == "segment") {
    std::string name = source.value("segment_name", std::string());
    if (name.empty()) name = segment_name(source.value("segment", std::string()));
    if (name != truth.segment.name) {
      why_skipped = "it read segment " + name + ", not " + truth.segment.name;
      return std::nullopt;
    }
  }

  StartFidelity r;
  r.name = s.name;
  r.mode = mode_of(s, attribution);
  r.sigma = r.mode == "minimize" ? -1 : 1;
  r.source = kind;
  r.p0 = probability_at(s.start, "start_score");
  r.p1 = probability_at(s.start, "final_score");

  const fs::path& diff_file = attribution ? attribution_path : diff_path;
  const int channels = channels_of(s.run);
  const FloatStackHeader h = probe_float_tiff_stack(diff_file);
  if (channels != 1) {
    bad_run(s.folder,
            "the model takes " + std::to_string(channels) + " channels (" +
                diff_file.filename().string() + " has " + std::to_string(h.pages) +
                " pages); fidelity scores one-channel runs only",
            "score a run of a one-channel model");
  }
  r.depth = h.pages;
  const Segment& seg = truth.segment;
  FloatVolume film;
  RawVolume raw;
  FloatVolume ink;
  if (kind == "segment") {
    const auto& c = source.value("crop", nlohmann::json());
    if (!c.is_array() || c.size() != 4) {
      bad_run(s.record, "lists a segment start without a crop",
              "give a run.json written by inkgen");
    }
    const Crop crop{c[0].get<int>(), c[1].get<int>(), c[2].get<int>(), c[3].get<int>()};
    const auto z0 = int_at(source, "z0");
    if (!z0)
      bad_run(s.record, "lists a segment start without z0", "give a run.json written by inkgen");
    int depth = h.pages;
    const auto layers = source.value("layers", nlohmann::json());
    if (layers.is_array() && layers.size() == 2)
      depth = layers[1].get<int>() - layers[0].get<int>() + 1;
    if (h.pages != depth || h.width != crop.width() || h.height != crop.height()) {
      bad_run(diff_file,
              "holds " + std::to_string(h.pages) + " pages of " + std::to_string(h.width) + "x" +
                  std::to_string(h.height) + " but run.json's window is " + std::to_string(depth) +
                  " layers of crop " + crop.text() + " (" + std::to_string(crop.width()) + "x" +
                  std::to_string(crop.height()) + ")",
              "the run folder is inconsistent: run it again");
    }
    check_window(seg, crop, *z0, depth);
    r.crop = crop;
    r.z0 = *z0;
    film = read_window(truth.film, crop, *z0, depth);
    ink = read_window(truth.ink, crop, *z0, depth);
    raw = read_crop(seg, crop, *z0, depth);
  } else {
    r.z0 = noise_z0(s, seg.layer_count(), h.pages);
    if (r.z0 < 0 || r.z0 + h.pages > seg.layer_count()) {
      bad_run(s.folder,
              "the noise run's window, layers " + std::to_string(r.z0) + ".." +
                  std::to_string(r.z0 + h.pages - 1) + ", is outside segment " + seg.name + "'s " +
                  std::to_string(seg.layer_count()) + " layers",
              "give the segment the model was made for");
    }
    film = masked_film_profile(truth, r.z0, h.pages);
  }
  const FloatVolume diff = read_window(diff_file, Crop{0, 0, h.width, h.height}, 0, h.pages);
  r.f_band = band_fraction(diff, film);
  r.kas_film = film_alignment(diff, film, r.sigma * truth.ink_sign);
  const bool inked =
      std::any_of(ink.values.begin(), ink.values.end(), [](float v) { return v != 0.0f; });
  if (kind == "segment" && inked)
    r.kas_ink = ink_correlation(diff, ink_signal(raw, ink, scale_of(s)), r.sigma);
  return r;
}

nlohmann::json StartFidelity::to_json() const {
  nlohmann::json crop_json =
      crop ? nlohmann::json{crop->x1, crop->y1, crop->x2, crop->y2} : nlohmann::json(nullptr);
  return {{"folder", name},
          {"mode", mode},
          {"sigma", sigma},
          {"source", source},
          {"crop", crop_json},
          {"z0", z0},
          {"layers", {z0, z0 + depth - 1}},
          {"p0", optional_json(p0)},
          {"p1", optional_json(p1)},
          {"F_band", optional_json(f_band)},
          {"KAS_film", kas_film},
          {"KAS_ink", optional_json(kas_ink)}};
}

nlohmann::json FidelityReport::summary() const {
  Means all;
  std::map<std::string, Means> by_mode;
  for (const auto& s : starts) {
    all.add(s);
    by_mode[s.mode].add(s);
  }
  nlohmann::json j = all.to_json();
  j["by_mode"] = nlohmann::json::object();
  for (const auto& [mode, means] : by_mode)
    j["by_mode"][mode] = means.to_json();
  return j;
}

nlohmann::json FidelityReport::to_json() const {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& s : starts)
    runs.push_back(s.to_json());
  return {{"truth", truth.string()}, {"runs", runs}, {"skipped", skipped}, {"summary", summary()}};
}

FidelityReport evaluate_fidelity(const fs::path& truth_dir, const std::vector<fs::path>& run_dirs) {
  FidelityReport report;
  report.truth = truth_dir;
  const SegmentTruth truth = open_segment_truth(truth_dir);
  for (const auto& dir : run_dirs) {
    for (const auto& start : find_run_starts(dir)) {
      std::string why;
      std::optional<StartFidelity> r;
      try {
        r = evaluate_start(truth, start, why);
      } catch (const nlohmann::json::exception& e) {
        bad_run(start.record, std::string("has a field of an unexpected kind (") + e.what() + ")",
                "give a run.json written by inkgen");
      }
      if (r) {
        report.starts.push_back(std::move(*r));
      } else {
        report.skipped.push_back(start.name + ": " + why);
      }
    }
  }
  if (report.starts.empty()) {
    throw Error(ErrorKind::input,
                "no start of the runs given could be scored against segment " + truth.segment.name +
                    (report.skipped.empty() ? "" : " (" + report.skipped.front() + ")") +
                    "; give finished runs of that segment or of noise");
  }
  return report;
}

}  // namespace inkgen
