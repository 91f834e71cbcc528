#include "inkgen/model/ink_score.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <string>

#include "inkgen/common/error.hpp"

namespace inkgen {

namespace {

// Probabilities are clamped this far from 0 and 1 so that a saturated model still has a finite
// logit and gradient.
constexpr double probability_eps = 1e-7;

}  // namespace

at::Tensor cell_logits(const at::Tensor& output, OutputKind kind) {
  auto flat = output.reshape({output.size(0), -1}).to(at::kFloat);
  if (kind == OutputKind::probability) flat = at::logit(flat, probability_eps);
  return flat;
}

at::Tensor score_rows(const at::Tensor& cell_logits) {
  return at::stack({cell_logits.mean(1), at::sigmoid(cell_logits).mean(1)}, 1);
}

std::vector<InkScore> ink_scores(const at::Tensor& output, OutputKind kind) {
  c10::NoGradGuard no_grad;
  // The scores go to the CPU below anyway, so checking here costs no extra device sync.
  if (kind == OutputKind::probability && output.numel() > 0) {
    const double lo = output.min().item<double>(), hi = output.max().item<double>();
    if (!(lo >= 0.0 && hi <= 1.0)) {
      throw Error(ErrorKind::model,
                  "the model gives values from " + std::to_string(lo) + " to " +
                      std::to_string(hi) +
                      ", outside 0..1, though its card says \"probability\"; set output.kind to "
                      "\"logits\" (or --output-kind logits) if it returns logits");
    }
  }
  const auto both = score_rows(cell_logits(output, kind)).to(at::kCPU, at::kDouble).contiguous();
  std::vector<InkScore> scores(static_cast<std::size_t>(both.size(0)));
  const double* p = both.data_ptr<double>();
  for (std::size_t i = 0; i < scores.size(); ++i)
    scores[i] = {p[2 * i], p[2 * i + 1]};
  return scores;
}

}  // namespace inkgen
