#include "inkgen/optimize/optimization.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>

#include "inkgen/common/error.hpp"
#include "inkgen/optimize/change_sign.hpp"
#include "inkgen/optimize/gaussian_blur.hpp"
#include "inkgen/optimize/row_split.hpp"
#include "inkgen/optimize/soft_threshold.hpp"
#include "inkgen/optimize/volume_tensor.hpp"

namespace inkgen {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

at::Tensor row_index(const std::vector<std::int64_t>& rows, const at::Device& device) {
  return at::tensor(rows, at::kLong).to(device);
}

// The gradient at `theta` of a step whose model part was computed apart: `seen_grad` is what
// flows back into the model's input `seen`, `regularizer` (or undefined) a loss on the volume.
at::Tensor backward_to(const at::Tensor& theta, const at::Tensor& seen, const at::Tensor& seen_grad,
                       const at::Tensor& regularizer) {
  std::vector<at::Tensor> outputs, grads;
  // A pixel volume seen as it is: the model's input is theta itself.
  const bool seen_is_theta = seen.is_same(theta);
  if (!seen_is_theta) {
    outputs.push_back(seen);
    grads.push_back(seen_grad);
  }
  if (regularizer.defined()) {
    outputs.push_back(regularizer);
    grads.push_back(at::ones_like(regularizer));
  }
  if (outputs.empty()) return seen_grad;
  const at::Tensor rest = torch::autograd::grad(outputs, {theta}, grads)[0];
  return seen_is_theta ? seen_grad + rest : rest;
}

}  // namespace

void check_options(const OptimizeOptions& o) {
  const auto bad = [](const std::string& what) { throw Error(ErrorKind::usage, what); };
  // Six significant digits: a value of 1e308 is quoted as such, not as 309 digits.
  const auto num = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", v);
    return std::string(text);
  };
  if (o.steps < 1) bad("--steps must be at least 1, got " + std::to_string(o.steps));
  if (!std::isfinite(o.rule.lr) || o.rule.lr <= 0) {
    bad("--lr must be a positive finite number, got " + num(o.rule.lr));
  }
  if (!std::isfinite(o.rule.decay) || o.rule.decay < 0 || o.rule.decay >= 1) {
    bad("--decay must be in [0, 1), got " + num(o.rule.decay));
  }
  const auto& r = o.regularizers;
  // Weights beyond 1e6 drown the objective: the loss overflows to inf instead of meaning anything.
  if (!std::isfinite(r.l2) || r.l2 < 0 || r.l2 > 1e6)
    bad("--l2 must be a weight from 0 to 1e6, got " + num(r.l2));
  if (!std::isfinite(r.tv) || r.tv < 0 || r.tv > 1e6)
    bad("--tv must be a weight from 0 to 1e6, got " + num(r.tv));
  // A shift beyond any crop's side only wraps around again; 256 is four Grand Prize crops.
  if (r.jitter < 0 || r.jitter > 256)
    bad("--jitter must be 0 to 256 voxels, got " + std::to_string(r.jitter));
  if (r.blur_every < 0) bad("--blur-every must be >= 0 steps, got " + std::to_string(r.blur_every));
  if (!std::isfinite(r.blur_sigma) || r.blur_sigma <= 0 || r.blur_sigma > 16) {
    bad("--blur-sigma must be a sigma of more than 0 and at most 16 voxels, got " +
        num(r.blur_sigma));
  }
  if (!std::isfinite(r.diversity) || r.diversity < 0 || r.diversity > 1e6) {
    bad("--diversity must be a weight from 0 to 1e6, got " + num(r.diversity));
  }
  // 1/f^8 already leaves only the lowest frequencies; more underflows to nothing.
  if (!std::isfinite(o.fourier_decay) || o.fourier_decay < 0 || o.fourier_decay > 8) {
    bad("--fourier-decay must be from 0 to 8, got " + num(o.fourier_decay));
  }
  if (o.stop_at && !(*o.stop_at > 0 && *o.stop_at < 1)) {
    bad("--stop-at must be a probability strictly between 0 and 1, got " + num(*o.stop_at));
  }
  if (o.report_every < 1)
    bad("--report-every must be at least 1 step, got " + std::to_string(o.report_every));
  if (o.save_every < 0) bad("--save-every must be >= 0 steps, got " + std::to_string(o.save_every));
  if (!std::isfinite(o.grad_blur) || o.grad_blur < 0 || o.grad_blur > 16) {
    bad("--grad-blur must be a sigma of 0 to 16 voxels (0: off), got " + num(o.grad_blur));
  }
  if (!std::isfinite(o.grad_threshold) || o.grad_threshold < 0 || o.grad_threshold >= 1) {
    bad("--grad-threshold must be a fraction in [0, 1) of each step's largest gradient, got " +
        num(o.grad_threshold));
  }
}

std::vector<InkScore> score_volumes(const InkModel& model, const at::Tensor& volumes) {
  c10::NoGradGuard no_grad;
  return ink_scores(forward(model, volumes.to(model.device)), model.card.output_kind);
}

ObjectiveScores objective_scores(const InkModel& model, const BoundObjective& objective,
                                 const at::Tensor& volumes, Direction direction) {
  c10::NoGradGuard no_grad;
  const auto pass = run_model(model, volumes.to(model.device), objective.reads_layers);
  ObjectiveScores scores;
  scores.total = to_doubles(objective_values(objective, pass.output, pass.layers, direction));
  if (objective.terms.size() > 1) {
    for (const auto& term : objective.terms)
      scores.terms.push_back(
          to_doubles(term_values(objective, term, pass.output, pass.layers, direction)));
  }
  return scores;
}

at::Tensor ink_maps(const InkModel& model, const at::Tensor& volumes) {
  c10::NoGradGuard no_grad;
  auto out = forward(model, volumes.to(model.device)).to(at::kCPU, at::kFloat);
  if (model.card.output_kind == OutputKind::probability) out = at::logit(out, 1e-7);
  const int64_t n = out.size(0);
  if (out.dim() == 2) out = out.reshape({n, 1, 1, out.size(1)});
  if (out.dim() == 1) out = out.reshape({n, 1, 1, 1});
  // Any leading output dimensions (channels) are averaged, as the ink score averages them.
  return at::sigmoid(out.reshape({n, -1, out.size(-2), out.size(-1)}).mean(1));
}

OptimizeResult optimize_input(const InkModel& model, const at::Tensor& start,
                              const OptimizeOptions& options, const OptimizeCallbacks& callbacks) {
  const auto& card = model.card;
  const auto& reg = options.regularizers;
  const auto t0 = Clock::now();

  OptimizeResult result;
  result.start = start.to(at::kCPU, at::kFloat).contiguous();
  const std::int64_t starts = start.size(0);
  // A sign applies to pixel values; a Fourier volume changes both ways.
  const ChangeSign sign =
      options.param == ParamKind::pixel ? options.change_sign : ChangeSign::both;
  const std::int64_t ways = rows_per_start(sign);
  const auto n = static_cast<std::size_t>(starts * ways);  // rows of the optimized batch
  result.trace.resize(n);

  const at::Tensor start_here = start.to(model.device, at::kFloat);
  result.start_scores = score_volumes(model, start_here);
  if (!options.row_channels.empty() &&
      options.row_channels.size() != static_cast<std::size_t>(starts)) {
    throw Error(ErrorKind::internal, "row_channels needs one channel per start");
  }
  const BoundObjective objective = bind_objective(options.objective, model, options.row_channels);
  if (objective.reads_layers) {
    const auto scores = objective_scores(model, objective, start_here, options.direction);
    result.start_objective = scores.total;
    for (std::int64_t i = 0; i < starts; ++i) {
      const ObjectiveSpec spec = options.row_channels.empty()
                                     ? options.objective
                                     : with_channel(options.objective, options.row_channels[i]);
      result.objective_texts.push_back(spec.text());
      if (scores.terms.empty()) continue;
      auto& terms = result.objective_terms.emplace_back();
      for (std::size_t j = 0; j < spec.terms.size(); ++j) {
        OptimizeResult::TermValues v;
        v.term = spec.terms[j].text();
        v.weight = spec.terms[j].weight;
        v.start = scores.terms[j][static_cast<std::size_t>(i)];
        terms.push_back(std::move(v));
      }
    }
  }
  const at::Tensor origin =
      ways == 1 ? start_here
                : at::cat(std::vector<at::Tensor>(static_cast<std::size_t>(ways), start_here));
  const at::Tensor signs = row_signs(sign, starts, origin.dim(), origin.options());
  const Parameterization param(options.param, origin, card.range_lo, card.range_hi,
                               options.fourier_range, options.fourier_decay);
  at::Tensor theta = param.initial().clone();
  const double fill = 0.5 * (card.range_lo + card.range_hi);
  const bool maximize = options.direction == Direction::maximize;
  const auto change_l1 = [&] {
    return to_doubles((param.volume(theta) - origin).abs().reshape({origin.size(0), -1}).sum(1));
  };
  // The row each start is represented by: itself, or the way ahead so far.
  const auto leaders = [&] {
    return leading_rows(result.trace, ways == 1 ? std::vector<double>(n, 0.0) : change_l1(), starts,
                        maximize, options.stop_at.value_or(maximize ? 1.0 : 0.0));
  };

  UpdateRule rule(options.rule);
  std::mt19937_64 rng(options.seed);
  // Seed's loss is the batch mean, as in the research script; ours is the sum, so that a start's
  // gradient does not depend on how many starts share the batch.
  const bool batch_mean = options.rule.kind == OptimizerKind::seed;

  std::vector<at::Tensor> pending;  // per-step scores still on the device
  const auto flush = [&](int step) {
    if (pending.empty()) return;
    const auto host = at::stack(pending).to(at::kCPU, at::kDouble).contiguous();  // (steps, N, 2)
    const auto first_step = step - static_cast<int>(pending.size()) + 1;
    pending.clear();
    const double* p = host.data_ptr<double>();
    for (int64_t s = 0; s < host.size(0); ++s) {
      for (std::size_t i = 0; i < n; ++i) {
        const double logit = p[(s * n + i) * 2], probability = p[(s * n + i) * 2 + 1];
        if (!std::isfinite(logit)) {
          throw Error(ErrorKind::model,
                      "model '" + card.name + "' output turned NaN or infinite at step " +
                          std::to_string(first_step + s) + " (start " + std::to_string(i) +
                          "); lower --lr, keep clamping on, or check the model");
        }
        result.trace[i].push_back({logit, probability});
      }
    }
    if (options.stop_at) {
      const double target = *options.stop_at;
      const auto reached = [&](std::size_t row) {
        const double p = result.trace[row].back().probability;
        return maximize ? p >= target : p <= target;
      };
      result.reached_stop_at = true;
      for (std::size_t i = 0; i < static_cast<std::size_t>(starts); ++i) {
        bool any = false;
        for (std::int64_t way = 0; way < ways; ++way)
          any = any || reached(i + static_cast<std::size_t>(way * starts));
        result.reached_stop_at = result.reached_stop_at && any;
      }
    }
    if (callbacks.on_report) {
      StepReport report{step, options.steps, seconds_since(t0), {}};
      for (const auto row : leaders())
        report.scores.push_back(result.trace[static_cast<std::size_t>(row)].back());
      callbacks.on_report(report);
    }
  };

  // On the CPU with several threads, the model's part of each step runs as one part of the
  // batch per thread (row_split.hpp).
  const int threads = model.device.is_cpu() ? at::get_num_threads() : 1;
  std::optional<RowSplit> split;
  if (options.split_batch && plan_row_parts(threads, static_cast<std::int64_t>(n)).size() > 1)
    split.emplace(threads, static_cast<std::int64_t>(n));

  const auto loop_start = Clock::now();
  for (int step = 1; step <= options.steps; ++step) {
    if (callbacks.stop && callbacks.stop->load()) {
      result.interrupted = true;
      break;
    }
    const at::Tensor theta_i = theta.detach().requires_grad_(true);
    const at::Tensor xi = param.volume(theta_i);
    const auto seen =
        random_transform(apply_shift(xi, random_shift(reg.jitter, rng)), reg.robust, fill, rng);
    at::Tensor regularizer;  // undefined: none asked for
    const auto add = [&regularizer](const at::Tensor& term) {
      regularizer = regularizer.defined() ? regularizer + term : term;
    };
    if (reg.l2 > 0) add(reg.l2 * l2_to_start(xi, origin).sum());
    if (reg.tv > 0) add(reg.tv * total_variation_3d(xi).sum());
    // Scaled by the batch size, like the summed scores it balances.
    if (reg.diversity > 0)
      add(reg.diversity * static_cast<double>(n) * diversity_penalty(xi, origin));
    at::Tensor cells, grad;
    if (split) {
      auto pass = split->run(model, objective, seen, options.direction,
                             batch_mean ? 1.0 / static_cast<double>(n) : 1.0);
      cells = std::move(pass.cells);
      grad = backward_to(theta_i, seen, pass.input_grad, regularizer);
    } else {
      const auto pass = run_model(model, seen, objective.reads_layers);
      cells = pass.output;
      const auto losses = objective_loss(objective, cells, pass.layers, options.direction);
      at::Tensor loss = batch_mean ? losses.mean() : losses.sum();
      if (regularizer.defined()) loss = loss + regularizer;
      grad = torch::autograd::grad({loss}, {theta_i})[0];
    }
    c10::NoGradGuard no_grad;
    const at::Tensor rows = score_rows(cells.detach());
    pending.push_back(rows);
    if (options.grad_blur > 0 && param.kind() == ParamKind::pixel)
      grad = gaussian_blur_3d(grad, options.grad_blur, options.grad_blur);
    if (sign != ChangeSign::both) grad = keep_descent_sign(grad, signs);
    if (options.grad_threshold > 0) grad = soft_threshold(grad, options.grad_threshold);
    if (options.stop_at) {
      // A start that has reached the target keeps the volume that reached it (no update at all:
      // Adam's momentum would move it on), while the others go on. Decided on the device, from
      // the scores this step computed anyway, so that nothing waits for the host.
      const auto p = rows.select(1, 1).to(theta.scalar_type());
      auto done = maximize ? p.ge(*options.stop_at) : p.le(*options.stop_at);
      // A start whose one way has reached the target is done both ways.
      if (ways > 1) done = done.reshape({ways, starts}).any(0).repeat({ways});
      std::vector<int64_t> shape(theta.dim(), 1);
      shape[0] = theta.size(0);
      const auto keep = done.reshape(shape);
      const at::Tensor before = theta.clone();
      rule.apply(theta, grad);
      theta = at::where(keep, before, theta);
    } else {
      rule.apply(theta, grad);
    }
    if (param.kind() == ParamKind::pixel) {
      // A Fourier volume stays in range by construction and is low-pass by its scaling.
      if (reg.blur_every > 0 && step % reg.blur_every == 0) {
        theta = gaussian_blur_3d(theta, reg.blur_sigma, reg.blur_sigma);
      }
      if (options.clamp) theta.clamp_(card.range_lo, card.range_hi);
      if (sign != ChangeSign::both) theta = keep_change_sign(theta, origin, signs);
    }
    result.steps_done = step;
    if (step % std::max(1, options.report_every) == 0 || step == options.steps) flush(step);
    if (result.reached_stop_at) break;
    if (options.save_every > 0 && step % options.save_every == 0 && callbacks.on_snapshot) {
      flush(step);
      callbacks.on_snapshot(
          step,
          param.volume(theta).index_select(0, row_index(leaders(), theta.device())).to(at::kCPU));
    }
  }
  flush(result.steps_done);
  result.step_seconds = seconds_since(loop_start);

  c10::NoGradGuard no_grad;
  const auto chosen = leaders();
  const at::Tensor x = param.volume(theta).index_select(0, row_index(chosen, theta.device()));
  std::vector<std::vector<InkScore>> trace;
  for (const auto row : chosen) {
    trace.push_back(std::move(result.trace[static_cast<std::size_t>(row)]));
    if (sign != ChangeSign::both)
      result.ways.push_back(signs.flatten()[row].item<float>() > 0 ? "up" : "down");
  }
  result.trace = std::move(trace);
  result.result = x.to(at::kCPU).contiguous();
  result.final_scores = score_volumes(model, x);
  if (objective.reads_layers) {
    const auto scores = objective_scores(model, objective, x, options.direction);
    result.final_objective = scores.total;
    for (std::size_t i = 0; i < result.objective_terms.size(); ++i) {
      for (std::size_t j = 0; j < result.objective_terms[i].size(); ++j)
        result.objective_terms[i][j].final = scores.terms[j][i];
    }
  }
  result.seconds = seconds_since(t0);
  return result;
}

}  // namespace inkgen
