#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core/mat.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/card/value_scale.hpp"
#include "inkgen/io/crop.hpp"
#include "inkgen/io/raw_volume.hpp"
#include "inkgen/io/segment.hpp"
#include "inkgen/synth/synthetic_segment.hpp"

namespace inkgen {

// Known-answer scoring of activation-maximization runs against a synthetic segment whose ink is
// known (`inkgen fidelity`): does the change a run made lie where, and look like what, the
// synthetic ink is?

// FloatVolume (a float volume in a segment's grid, z-major) comes with the synthetic segment,
// whose ground truth it holds.

// The metrics. `film` is either the size of `diff` (one film profile per (y, x) column) or
// depth x 1 x 1 (one profile for every column, as for a noise run). sigma is +1 where the run
// wanted more ink (maximize, attribution), -1 where it wanted less (minimize).

// F_band: the share of sum |diff| lying within +-half_width layers of each column's film centre
// (the film-weighted mean layer). Columns without film count as outside. Null for a zero diff.
std::optional<double> band_fraction(const FloatVolume& diff, const FloatVolume& film,
                                    double half_width = 2.0);

// KAS_film: sum over columns of max(sigma * <w^, Dc>, 0)^2 / sum over all voxels of Dc^2, with
// Dc the diff minus its column mean and w^ the column's film profile, centred and scaled to unit
// length (columns whose centred profile is ~0 add nothing above the line). 1 for a right-signed
// film-shaped change of any amplitude per column; about 1/(2(d-1)) for iid noise; 0 for a change
// without depth structure (a uniform shift, or nothing).
double film_alignment(const FloatVolume& diff, const FloatVolume& film, int sigma);

// KAS_ink: the Pearson correlation over voxels of sigma * diff and the ink signal. Null when the
// signal is constant (no ink the model could see); 0 when the diff is constant.
std::optional<double> ink_correlation(const FloatVolume& diff, const FloatVolume& signal,
                                      int sigma);

// The ink as the model sees it: scale(raw) - scale(raw - ink), with ink in raw 16-bit units (the
// segment minus the same segment without ink) and raw - ink rounded and clamped to 16 bits.
FloatVolume ink_signal(const RawVolume& raw, const FloatVolume& ink, const ValueScale& scale);

// The depth x 1 x 1 mean of `film` over the pixels where mask > 0 (all pixels for an empty mask).
FloatVolume mean_profile(const FloatVolume& film, const cv::Mat& mask);

// The ground truth `inkgen synth` writes beside a synthetic segment: <name>_ink.tif (raw units)
// and <name>_film.tif (weight 0..1), one float32 page per layer, the segment's size.
struct SegmentTruth {
  Segment segment;
  std::filesystem::path ink;
  std::filesystem::path film;
  // -1 when the ink is lighter than papyrus (synth's ink_contrast < 0, from <name>_synth.json):
  // the film then points the other way, and a right-signed change to add ink makes it lighter.
  int ink_sign = 1;
};

// Throws Error(input) when the segment cannot be opened, or its ground truth is missing or does not
// match its layers.
SegmentTruth open_segment_truth(const std::filesystem::path& dir);

// One start of a run: its record and the folder that holds its diff.tif (or attribution.tif).
struct RunStart {
  std::filesystem::path record;  // the run.json that lists it
  std::filesystem::path folder;
  std::string name;  // how to show it: the folder as reached from the RUN_DIR given
  nlohmann::json run;
  nlohmann::json start;  // its entry in run["starts"]
};

// Every start below `run_dir`: a single run (run.json + diff.tif), a run of several starts
// (run.json listing each start's folder) or any folder holding such runs (a batch), searched
// without descending into a run once its run.json is found. Throws Error(input) when there is no
// folder or no run.json below it, or a run.json cannot be read.
std::vector<RunStart> find_run_starts(const std::filesystem::path& run_dir);

// The scores of one start.
struct StartFidelity {
  std::string name;
  std::string mode;    // maximize, minimize or attribution
  std::string source;  // segment or noise
  int sigma = 1;
  std::optional<Crop> crop;  // segment starts
  int z0 = 0;
  int depth = 0;
  std::optional<double> p0, p1;  // ink probability before and after
  std::optional<double> f_band;
  double kas_film = 0.0;
  std::optional<double> kas_ink;

  nlohmann::json to_json() const;
};

// Scores one start against the truth; nullopt with `why_skipped` set for a start that cannot be
// scored by this truth without anything being wrong (it did not finish, or it read another
// segment). Throws Error(input) for an inconsistent or unreadable run.
std::optional<StartFidelity> evaluate_start(const SegmentTruth& truth, const RunStart& start,
                                            std::string& why_skipped);

struct FidelityReport {
  std::filesystem::path truth;
  std::vector<StartFidelity> starts;
  std::vector<std::string> skipped;  // "<name>: <why>"

  // Means over the starts, and per mode: {"starts", "F_band", "KAS_film", "KAS_ink",
  // "KAS_ink_starts", "p0", "p1"}, null where no start has the value.
  nlohmann::json summary() const;
  nlohmann::json to_json() const;  // {"truth", "runs": [...], "skipped": [...], "summary": {...}}
};

// Scores every start below each of `run_dirs`. Throws Error(input) when none can be scored.
FidelityReport evaluate_fidelity(const std::filesystem::path& truth_dir,
                                 const std::vector<std::filesystem::path>& run_dirs);

}  // namespace inkgen
