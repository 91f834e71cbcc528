#include <spdlog/spdlog.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>
#include <opencv2/core.hpp>
#include <sstream>

#include "commands.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/io/segment.hpp"
#include "inkgen/synth/synthetic_segment.hpp"

namespace inkgen::cli {

namespace {

namespace fs = std::filesystem;

struct SynthCommandOptions {
  std::string out;
  std::string size = "512,384";
  int layers = 65;
  std::uint32_t seed = 0;
  std::optional<std::string> text;
  SynthOptions synth;  // the bend, ink and blur options, parsed straight in
  bool force = false;
  bool zarr = false;
};

void parse_size(const std::string& text, SynthOptions& options) {
  int w = 0, h = 0;
  char comma = 0;
  std::istringstream in(text);
  if (!(in >> w >> comma >> h) || comma != ',' || !(in >> std::ws).eof() || w <= 0 || h <= 0) {
    throw Error(ErrorKind::usage,
                "--size '" + text + "' is not W,H; write two positive integers, e.g. 512,384");
  }
  options.width = w;
  options.height = h;
}

// A shell cannot easily pass a newline, so "\n" in --text starts a new line.
std::string unescape_newlines(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
      out += '\n';
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

long letter_count(const std::string& text) {
  return std::count_if(text.begin(), text.end(), [](unsigned char c) { return c > ' '; });
}

// Refuses to mix a new segment into a folder that holds something else.
void check_out(const fs::path& out, bool force) {
  if (out.empty()) throw Error(ErrorKind::usage, "--out is empty; give the folder to write to");
  std::error_code ec;
  if (!fs::exists(out, ec)) return;
  if (!fs::is_directory(out, ec)) {
    throw Error(ErrorKind::output,
                "--out " + out.string() + " exists and is not a folder; choose another --out");
  }
  if (!fs::is_empty(out, ec) && !force) {
    throw Error(ErrorKind::output, "--out " + out.string() +
                                       " is not empty; choose a new folder, or add --force to "
                                       "replace the segment in it");
  }
}

}  // namespace

Command add_synth_command(CLI::App& parent, const Context& context) {
  auto options = std::make_shared<SynthCommandOptions>();
  CLI::App* app = parent.add_subcommand(
      "synth",
      "Write a synthetic segment whose ink is known (layers, mask, ink labels, and the exact ink, "
      "film and surface beside them)");
  app->add_option("-o,--out", options->out, "Segment folder to write (new or empty)")->required();
  app->add_option("--size", options->size, "W,H in pixels")->capture_default_str();
  app->add_option("--layers", options->layers, "Number of layers")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app->add_option("--seed", options->seed, "Random seed: the same seed gives the same segment")
      ->capture_default_str();
  app->add_option("--text", options->text,
                  "Letters to write (printable ASCII, \\n for a new line); default: random "
                  "Greek-like capitals in lines");
  SynthOptions& synth = options->synth;
  app->add_option("--bend", synth.bend,
                  "How far the surface bends either side of the middle layer on the papyrus "
                  "(layers, 1st..99th percentile); 0 = flat")
      ->capture_default_str();
  app->add_option("--ink-depth", synth.ink_depth,
                  "Centre of the ink film relative to the surface (layers; positive = into the "
                  "papyrus)")
      ->capture_default_str();
  app->add_option("--ink-thickness", synth.ink_thickness, "Thickness of the ink film (layers)")
      ->capture_default_str();
  app->add_option("--ink-contrast", synth.ink_contrast,
                  "Ink density before the blur as a fraction of the papyrus-air contrast; "
                  "negative = lighter than papyrus, 0 = invisible")
      ->capture_default_str();
  app->add_option("--blur", synth.blur, "CT blur: Gaussian sigma in voxels; 0 = none")
      ->capture_default_str();
  app->add_flag("--zarr", options->zarr,
                "Write the layers as OUT/<name>.zarr (Zarr v2, uint16, zlib chunks) instead of "
                "OUT/layers/");
  app->add_flag("--force", options->force,
                "Write into a non-empty --out, replacing the segment there");
  return {app, [options, &context]() {
            SynthOptions synth = options->synth;
            parse_size(options->size, synth);
            synth.layers = options->layers;
            synth.seed = options->seed;
            if (options->text) synth.text = unescape_newlines(*options->text);
            const fs::path out = options->out;
            check_out(out, options->force);

            const SyntheticSegment segment = make_synthetic_segment(synth, &context.stop_requested);
            write_synthetic_segment(out, segment,
                                    options->zarr ? VolumeFormat::zarr : VolumeFormat::tiff_layers,
                                    &context.stop_requested);
            if (synth.text && letter_count(segment.text) < letter_count(*synth.text)) {
              spdlog::warn(
                  "only {} of the {} letters of --text fit on the sheet; give a larger "
                  "--size or fewer letters",
                  letter_count(segment.text), letter_count(*synth.text));
            }

            double surface_lo = 0, surface_hi = 0;
            cv::minMaxLoc(segment.surface, &surface_lo, &surface_hi);
            const auto [papyrus_lo, papyrus_hi] = surface_percentiles(segment, 1, 99);
            const int papyrus = cv::countNonZero(segment.mask);
            const int ink = cv::countNonZero(segment.ink_labels);
            if (context.global.json) {
              nlohmann::json j;
              j["out"] = out.string();
              j["name"] = segment_name(out);
              j["width"] = synth.width;
              j["height"] = synth.height;
              j["layers"] = synth.layers;
              j["seed"] = synth.seed;
              j["surface_layers"] = {surface_lo, surface_hi};
              j["surface_p01_p99"] = {papyrus_lo, papyrus_hi};
              j["bend"] = synth.bend;
              j["ink_depth"] = synth.ink_depth;
              j["ink_thickness"] = synth.ink_thickness;
              j["ink_contrast"] = synth.ink_contrast;
              j["blur"] = synth.blur;
              j["papyrus_pixels"] = papyrus;
              j["ink_pixels"] = ink;
              j["text"] = segment.text;
              print_json(j);
            } else if (!context.global.quiet) {
              std::cout << std::fixed << std::setprecision(1) << "wrote synthetic segment "
                        << out.string() << ": " << synth.width << "x" << synth.height << ", "
                        << synth.layers << " layers, seed " << synth.seed << "; surface at layers "
                        << papyrus_lo << ".." << papyrus_hi
                        << " on the papyrus (1st..99th percentile), ink on "
                        << 100.0 * ink / std::max(1, papyrus) << "% of the papyrus\n";
            }
            return 0;
          }};
}

}  // namespace inkgen::cli
