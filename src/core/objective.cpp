#include "inkgen/objective.hpp"

#include <ATen/ATen.h>

#include "inkgen/error.hpp"

namespace inkgen {

at::Tensor sample_loss(const at::Tensor& cell_logits, Objective objective, Direction direction) {
  const bool up = direction == Direction::maximize;
  if (objective == Objective::logit) {
    const auto mean = cell_logits.mean(1);
    return up ? -mean : mean;
  }
  // -log sigmoid(l) is the cross-entropy against "ink", -log sigmoid(-l) against "no ink".
  return -at::log_sigmoid(up ? cell_logits : -cell_logits).mean(1);
}

}  // namespace inkgen
