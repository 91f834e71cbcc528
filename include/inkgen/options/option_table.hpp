#pragma once

// The options of the optimization commands (maximize, minimize, batch, the JOBS keys and
// run.json's "options"), each declared once. No LibTorch here: the JOBS parser and the fuzz and
// ASan builds use this table.
//
// An option's key is its name everywhere: `--steps` on the command line and in batch, "steps" in
// a JOBS line or a --config file, "steps" in run.json. Its default is read off `JobSettings{}`
// (whose optimization defaults are OptimizeOptions'), never typed twice.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/io/crop.hpp"
#include "inkgen/options/attribution_options.hpp"
#include "inkgen/options/optimize_options.hpp"

namespace inkgen {

// Where a job's starts come from.
enum class JobSource { noise, segment };
inline constexpr EnumNames<JobSource, 2> job_source_names{
    {{JobSource::noise, "noise"}, {JobSource::segment, "segment"}}};
const char* to_string(JobSource source);

enum class CropsKind {
  listed,  // the crops given
  tiled,   // "auto": every crop of the model's size inside the segment's mask
};

// Everything one job (or one single command) is asked to do, as plain values. Unset optionals
// mean "the model's or the source's own default", decided where the model or segment is known.
struct JobSettings {
  std::optional<Direction> mode;    // the single commands: their name
  std::optional<JobSource> source;  // unset: segment if one is given
  std::optional<std::string> segment;
  std::optional<CropsKind> crops_kind;
  std::vector<Crop> crops;  // when listed
  int stride = 0;           // crops auto: grid step (0: the crop size)
  int sample = 0;           // crops auto: a random K of the tiles (0: all)
  std::uint64_t sample_seed = 0;
  std::optional<int> count;  // noise starts (single commands: default --batch)
  std::string name;          // suffix of a job's folder

  std::string model;                                   // empty: the bundled model
  std::string input_shape, scale, range, output_kind;  // empty: the card's
  std::string precision = "fp32";
  bool freeze = true;
  std::string kernels = "inkgen";
  std::optional<int> z0;  // unset: the card's z0, else the centred window
  bool reverse_layers = false;
  int level = 0;        // Zarr input: the OME-Zarr multiscale level
  int depth_check = 0;  // segment starts: also score them reversed and with K layer shuffles

  Recipe recipe = Recipe::minimal;  // the defaults of the optimization options below
  OptimizeOptions optimize;
  std::optional<double> lr;  // unset: the optimizer's own default (default_learning_rate)
  NoiseKind noise = NoiseKind::uniform;
  std::string noise_range;  // empty: the card's valid range
  int batch = 1;            // starts that go to the device together

  // Channel atlases (inkgen atlas, or a JOBS line with "layer"): every channel of `layer` in
  // `channels` maximized from the same start, one run each. Empty layer: not an atlas.
  std::string layer;
  std::string channels = "all";

  AttributionOptions attribution;  // inkgen attribute
};

// The most layer shuffles --depth-check takes: the spread of a few shows whether the depth order
// matters; hundreds would only cost time.
inline constexpr int max_depth_shuffles = 64;

// How a value is spelled in JSON (a JOBS line) and checked before it is stored.
enum class OptionType {
  text,         // a string
  list,         // "a,b,..." or a JSON list of numbers, kept as the text "a,b,..."
  integer,      // a whole number within int
  real,         // a number ("nan"/"inf" as strings pass here, for validation to refuse)
  real_or_off,  // a number, or "off"
  seed,         // a whole number 0..2^63-1
  flag,         // true or false; on the command line a flag without value
  crops,        // "auto" or a list of "x1,y1,x2,y2" / [x1,y1,x2,y2]
  objective,    // a text (objective_spec.hpp) or a list of {"term", "weight"}, kept as its text
};

// Where an option is offered.
enum OptionScope : unsigned {
  in_single = 1,     // maximize, minimize
  in_batch = 2,      // batch's command line (defaults for every line)
  in_jobs = 4,       // a key of a JOBS line
  in_attribute = 8,  // attribute
  in_atlas = 16,     // atlas (beside the single commands' options)
};

struct OptionSpec {
  std::string key;    // with dashes
  std::string names;  // CLI11 names, e.g. "-c,--crops,--crop"; "--<key>" when empty
  std::string help;
  OptionType type = OptionType::text;
  unsigned scopes = in_single | in_batch | in_jobs;
  // Stores a checked value (see check_option_value) into the settings; throws Error(usage)
  // naming the option when the value is not one the option takes.
  std::function<void(const nlohmann::json&, JobSettings&)> apply;
  // The value as run.json records it (after defaults).
  std::function<nlohmann::json(const JobSettings&)> record;
  // For flags: the command line's spelling when it negates the key ("no-clamp" sets clamp false).
  bool negated_flag = false;
};

// The table, in the order options are listed in help and run.json.
const std::vector<OptionSpec>& option_table();

// The option a key names: dashes or underscores, and the other spellings ("from" for source,
// "crop" for crops, "no-clamp" for clamp, "no-freeze" for freeze). Null when none.
const OptionSpec* find_option(const std::string& key);

// The keys a JSON job line may hold (with dashes), including the negated flag spellings.
const std::vector<std::string>& job_keys();

// Checks a raw value against the option's type and returns it in its stored form. `label` names
// the option in messages ("\"steps\"" in a JOBS line, "--steps" on the command line); `fail`
// throws.
using OptionFailure = std::function<void(const std::string& problem)>;
nlohmann::json check_option_value(const OptionSpec& option, const nlohmann::json& raw,
                                  const std::string& label, const OptionFailure& fail);

// A job's request as written: option key -> checked value. What is absent takes the defaults.
struct JobRequest {
  int line = 0;  // 1-based line of the JOBS file; 0 for the command line
  std::map<std::string, nlohmann::json> values;

  bool has(const std::string& key) const { return values.count(key) > 0; }
  template <typename T>
  std::optional<T> get(const std::string& key) const {
    const auto it = values.find(key);
    if (it == values.end()) return std::nullopt;
    return it->second.get<T>();
  }
};

// The line's values over the defaults' (the line wins).
JobRequest merge_requests(JobRequest line, const JobRequest& defaults);

// Applies the recipe (and the mode, which its targets depend on) to JobSettings{}, then every
// other value; then the defaults that depend on other options (the
// learning rate on the optimizer, the Fourier range on the source). Throws Error(usage) naming
// the option for a value it does not take.
JobSettings resolve_settings(const JobRequest& request);

// "lo,hi" with lo < hi, as --range and --noise-range take it; Error(usage) naming `option`.
std::array<double, 2> parse_lo_hi(const std::string& text, const std::string& option);

// The option keys that name a model and override its card (--model, --scale, ...), which info
// and score take as well.
const std::vector<std::string>& model_option_keys();

// run.json's "options": every option of `scope` with its value after defaults.
nlohmann::json record_settings(const JobSettings& settings, unsigned scope);

}  // namespace inkgen
