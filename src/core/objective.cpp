#include "inkgen/objective.hpp"

#include <ATen/ATen.h>

#include "inkgen/error.hpp"

namespace inkgen {

const char* to_string(Direction direction) {
  return direction == Direction::maximize ? "maximize" : "minimize";
}

Objective parse_objective(const std::string& text) {
  if (text == "logit") return Objective::logit;
  if (text == "bce") return Objective::bce;
  throw Error(ErrorKind::usage, "--objective '" + text + "' is unknown; use logit or bce");
}

const char* to_string(Objective objective) {
  return objective == Objective::logit ? "logit" : "bce";
}

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
