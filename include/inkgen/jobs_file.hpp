#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/crop.hpp"

namespace inkgen {

enum class CropsKind {
  listed,  // the crops given
  tiled,   // "auto": every crop of the model's size inside the segment's mask
};

// One line of a JOBS file (or the batch command line's defaults for every line), as written:
// what is unset is taken from the defaults, then from the single commands' defaults. Syntax and
// types are checked here; values that need the model or the optimizer's rules are checked when
// the jobs are planned (job_plan.hpp), so that this parser stays free of LibTorch.
struct JobRequest {
  int line = 0;  // 1-based line of the JOBS file; 0 for the command line

  std::optional<std::string> mode;    // "maximize" or "minimize"
  std::optional<std::string> source;  // "noise" or "segment"
  std::optional<std::string> segment;
  std::optional<CropsKind> crops_kind;
  std::vector<Crop> crops;  // when listed
  std::optional<int> stride;
  std::optional<int> sample;
  std::optional<std::uint64_t> sample_seed;
  std::optional<int> count;  // noise starts of a noise job line
  std::optional<std::string> name;

  // The single commands' options, by the same names.
  std::optional<std::string> model;
  std::optional<std::string> input_shape;
  std::optional<std::string> scale;
  std::optional<std::string> range;
  std::optional<std::string> output_kind;
  std::optional<int> z0;
  std::optional<int> steps;
  std::optional<double> lr;
  std::optional<std::string> optimizer;
  std::optional<double> decay;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> noise;
  std::optional<std::string> noise_range;
  std::optional<bool> clamp;
  std::optional<double> l2;
  std::optional<double> tv;
  std::optional<int> jitter;
  std::optional<int> blur_every;
  std::optional<double> blur_sigma;
  std::optional<int> report_every;
  std::optional<int> save_every;
  std::optional<std::string> objective;
  std::optional<std::string> param;
  std::optional<double> fourier_decay;
  std::optional<std::string> robust;
  std::optional<double> diversity;
  std::optional<double> stop_at;
  std::optional<std::string> precision;
  std::optional<bool> freeze;  // "no-freeze": true gives false
};

// The keys a JSON job line may hold (with dashes; an underscore may stand for a dash).
const std::vector<std::string>& job_keys();

// Reads a JOBS file's text: JSON Lines (one object per line) when its first job line starts with
// '{' (or '['), else a plain list of segment directories, one per line. Blank lines and lines
// starting with '#' are skipped in both. `origin` names the file in messages. Throws Error(input)
// naming the line for a malformed line, an unknown or repeated key, a value of the wrong type, or a
// file without jobs.
std::vector<JobRequest> parse_jobs_text(const std::string& text, const std::string& origin);

// Reads the file; Error(input) when it cannot be read.
std::vector<JobRequest> read_jobs_file(const std::string& path);

// "auto" or a list of "x1,y1,x2,y2", as the command line's --crops gives them; Error(usage).
void parse_crops_option(const std::vector<std::string>& values, JobRequest& request);

}  // namespace inkgen
