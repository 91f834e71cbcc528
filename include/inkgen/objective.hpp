#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace inkgen {

enum class Direction { maximize, minimize };
const char* to_string(Direction direction);

// What a step moves, read off the model's output cells (one cell for a model with one output per
// sample, 16x16 for the Grand Prize I3D):
//  - logit: the mean ink logit over the cells. On a map model the cells already sure of ink can
//    keep growing without bound, so the mean can climb while whole columns of cells stay at no
//    ink.
//  - bce: the mean binary cross-entropy of every cell against the label the run wants (ink when
//    maximizing, no ink when minimizing). A cell that already agrees has a vanishing gradient, so
//    the step goes to the cells that still disagree, and the mean probability, which is what
//    inkgen reports, is what rises.
enum class Objective { logit, bce };
Objective parse_objective(const std::string& text);
const char* to_string(Objective objective);

// The per-sample loss (N,) that a step descends, from the output's per-cell ink logits (N, M).
at::Tensor sample_loss(const at::Tensor& cell_logits, Objective objective, Direction direction);

}  // namespace inkgen
