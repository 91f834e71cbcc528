#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "inkgen/card/model_card.hpp"

namespace inkgen {

// The ink score of one sample: the mean over the model's output elements of the ink logit, and
// beside it the mean of the per-element probability sigmoid(logit). For a model with one output
// per sample the two are the same number seen two ways.
struct InkScore {
  double logit = 0.0;
  double probability = 0.0;
};

// The ink logit of every output cell, (N, M), differentiable. For a probability model the logit
// of each cell is computed from its probability.
at::Tensor cell_logits(const at::Tensor& output, OutputKind kind);
// Each sample's mean logit and mean probability from its cell logits, (N, 2), left on the
// device so that a loop can read many steps back at once.
at::Tensor score_rows(const at::Tensor& cell_logits);
// The scores of an output, read back to the host.
std::vector<InkScore> ink_scores(const at::Tensor& output, OutputKind kind);

}  // namespace inkgen
