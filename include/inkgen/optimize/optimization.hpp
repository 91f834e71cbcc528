#pragma once

#include <ATen/core/Tensor.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "inkgen/model/ink_model.hpp"
#include "inkgen/model/ink_score.hpp"
#include "inkgen/optimize/objective.hpp"
#include "inkgen/optimize/parameterization.hpp"
#include "inkgen/optimize/regularizers.hpp"
#include "inkgen/optimize/update_rule.hpp"
#include "inkgen/options/optimize_options.hpp"

namespace inkgen {

// Throws Error(usage) naming the first option out of bounds (steps, lr, decay, regularizers).
void check_options(const OptimizeOptions& options);

struct StepReport {
  int step = 0;
  int steps = 0;
  double seconds = 0.0;
  std::vector<InkScore> scores;  // one per start, at this step
  // Which starts these are, when a run optimizes its starts in several batches: scores[0] is
  // start first_start of total_starts. total_starts 0: the scores are all of the run's starts.
  std::size_t first_start = 0;
  std::size_t total_starts = 0;
};

struct OptimizeCallbacks {
  std::function<void(const StepReport&)> on_report;
  std::function<void(int step, const at::Tensor& volume)>
      on_snapshot;                          // (N, C, D, H, W) on the CPU
  const std::atomic<bool>* stop = nullptr;  // checked between steps
};

struct OptimizeResult {
  at::Tensor start;   // (N, C, D, H, W), CPU
  at::Tensor result;  // (N, C, D, H, W), CPU
  std::vector<InkScore> start_scores;
  std::vector<InkScore> final_scores;
  std::vector<std::vector<InkScore>> trace;  // trace[start][step - 1]: the score each step saw
  // The way each start's voxels moved ("up" or "down") when the change had one sign; empty
  // otherwise.
  std::vector<std::string> ways;
  // The objective's value per start (objective_values) when it reads hidden layers; else empty.
  std::vector<double> start_objective, final_objective;
  std::vector<std::string> objective_texts;  // what each start's objective read
  // A sum of several terms: each term's own value (before its weight) per start, so that a run
  // shows which of them moved. Empty for one term.
  struct TermValues {
    std::string term;
    double weight = 1.0;
    double start = 0.0;
    double final = 0.0;
  };
  std::vector<std::vector<TermValues>> objective_terms;  // [start][term]
  int steps_done = 0;
  double seconds = 0.0;
  // The steps alone, without scoring the start and the result: what a benchmark compares.
  double step_seconds = 0.0;
  bool interrupted = false;
  bool reached_stop_at = false;
};

// Gradient ascent (maximize) or descent (minimize) of the ink score on the input volume. The
// model's weights stay frozen; each step builds one graph from the input alone and drops it, so
// memory stays flat however many steps run. Throws Error(model) when the model's output turns
// NaN or infinite.
OptimizeResult optimize_input(const InkModel& model, const at::Tensor& start,
                              const OptimizeOptions& options,
                              const OptimizeCallbacks& callbacks = {});

// The ink scores of a batch of volumes (N, C, D, H, W), without gradients.
std::vector<InkScore> score_volumes(const InkModel& model, const at::Tensor& volumes);

// The objective's value of each volume (what maximize raises), without gradients, and for a sum
// of several terms each term's value before its weight ([term][volume]; empty for one term).
struct ObjectiveScores {
  std::vector<double> total;
  std::vector<std::vector<double>> terms;
};
ObjectiveScores objective_scores(const InkModel& model, const BoundObjective& objective,
                                 const at::Tensor& volumes, Direction direction);

// The model's ink probability map of each volume, (N, h, w) on the CPU: the last two output
// dimensions (a 16x16 map for the Grand Prize I3D; 1x1 for a model with one output per sample).
at::Tensor ink_maps(const InkModel& model, const at::Tensor& volumes);

}  // namespace inkgen
