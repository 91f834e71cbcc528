#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "inkgen/model/ink_model.hpp"
#include "inkgen/options/objective_spec.hpp"
#include "inkgen/options/optimize_options.hpp"

namespace inkgen {

// The per-sample loss (N,) that a step descends, from the output's per-cell ink logits (N, M).
at::Tensor sample_loss(const at::Tensor& cell_logits, Objective objective, Direction direction);

// An objective made ready for one model: its layers and channels checked against what the model
// exposes, direction vectors read and scaled to unit length.
struct BoundTerm {
  ObjectiveTerm term;
  at::Tensor direction;  // direction terms: (C,), unit L2 norm, on the model's device
};
struct BoundObjective {
  std::vector<BoundTerm> terms;
  std::optional<Objective> plain_ink;  // today's objectives take today's exact arithmetic
  bool reads_layers = false;
  at::Tensor row_channels;  // (starts,) long: OptimizeOptions::row_channels; undefined: none
};

// Throws Error(usage) naming the available layers and their channel counts when a term names a
// layer, channel or position the model does not have, and Error(input) for an unreadable
// direction file (relative to the working directory).
// `row_channels` (OptimizeOptions::row_channels) are checked against every channel term's layer.
BoundObjective bind_objective(const ObjectiveSpec& spec, const InkModel& model,
                              const std::vector<std::int64_t>& row_channels = {});

// What one forward pass gives an objective: the output's cell logits (N, M) and, when the
// objective reads hidden layers, the model's named activations.
struct ModelPass {
  at::Tensor output;
  std::vector<std::pair<std::string, at::Tensor>> layers;
};
ModelPass run_model(const InkModel& model, const at::Tensor& input, bool with_layers);

// The per-sample value (N,) of one term, before its weight.
at::Tensor term_values(const BoundObjective& objective, const BoundTerm& term,
                       const at::Tensor& cell_logits,
                       const std::vector<std::pair<std::string, at::Tensor>>& layers,
                       Direction direction);

// The per-sample value (N,) of the weighted sum that maximize raises and minimize lowers. The bce
// term is the log-likelihood of the wanted label, so that it rises as the run succeeds.
at::Tensor objective_values(const BoundObjective& objective, const at::Tensor& cell_logits,
                            const std::vector<std::pair<std::string, at::Tensor>>& layers,
                            Direction direction);

// The per-sample loss (N,) a step descends: the signed objective_values, or sample_loss for
// today's plain ink objectives (bit for bit what they always were).
at::Tensor objective_loss(const BoundObjective& objective, const at::Tensor& cell_logits,
                          const std::vector<std::pair<std::string, at::Tensor>>& layers,
                          Direction direction);

// A direction vector from a .npy file (1-D float32/float64, little-endian) or a JSON list.
std::vector<double> read_direction_file(const std::filesystem::path& path);

}  // namespace inkgen
