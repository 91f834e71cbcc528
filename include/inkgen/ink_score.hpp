#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "inkgen/model_card.hpp"

namespace inkgen {

// The ink score of one sample: the mean over the model's output elements of the ink logit, and
// beside it the mean of the per-element probability sigmoid(logit). For a model with one output
// per sample the two are the same number seen two ways.
struct InkScore {
  double logit = 0.0;
  double probability = 0.0;
};

// Per-sample mean logit, shape (N,), differentiable: the objective the optimizer moves. For a
// probability model the logit of each element is computed from its probability.
at::Tensor sample_logits(const at::Tensor& output, OutputKind kind);
// Per-sample mean probability, shape (N,).
at::Tensor sample_probabilities(const at::Tensor& output, OutputKind kind);
// Both, read back to the host.
std::vector<InkScore> ink_scores(const at::Tensor& output, OutputKind kind);

}  // namespace inkgen
