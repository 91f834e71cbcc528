#include "inkgen/evaluate/attribution.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <random>

#include "inkgen/common/error.hpp"
#include "inkgen/model/ink_score.hpp"
#include "inkgen/optimize/gaussian_blur.hpp"
#include "inkgen/optimize/optimization.hpp"
#include "inkgen/optimize/soft_threshold.hpp"
#include "inkgen/optimize/volume_tensor.hpp"

namespace inkgen {

namespace {

// Gaussian noise of one sample's shape from its own generator, on the CPU (the same draws on
// every device).
at::Tensor attribution_noise(const at::IntArrayRef shape, double sd, std::mt19937_64& rng) {
  auto out = at::empty(shape, at::kFloat);
  float* p = out.data_ptr<float>();
  std::normal_distribution<double> g(0.0, sd);
  for (int64_t i = 0; i < out.numel(); ++i)
    p[i] = static_cast<float>(g(rng));
  return out;
}

}  // namespace

at::Tensor attribution_target(const at::Tensor& cells, AttributionTarget target) {
  if (target == AttributionTarget::mean_logit) return cells.mean(1);
  // softmax(log sigmoid(l)) = p / sum p, without the underflow of p itself for very negative
  // logits (every cell sure of "no ink" would otherwise divide 0 by 0).
  const auto weights = at::softmax(at::log_sigmoid(cells.detach()), 1);
  return (weights * cells).sum(1);
}

at::Tensor input_gradient(const InkModel& model, const at::Tensor& volumes,
                          AttributionTarget target) {
  c10::AutoGradMode grad_mode(true);
  const at::Tensor x = volumes.to(model.device, at::kFloat).detach().requires_grad_(true);
  const auto cells = cell_logits(forward(model, x), model.card.output_kind);
  const auto objective = attribution_target(cells, target).sum();
  // A model whose output does not depend on its input has a zero gradient, not an error.
  if (!objective.requires_grad()) return at::zeros_like(x).detach();
  return torch::autograd::grad({objective}, {x})[0].detach().to(at::kFloat);
}

at::Tensor map_depth_attribution(const InkModel& model, const at::Tensor& volumes,
                                 const at::Tensor& gradient) {
  c10::NoGradGuard no_grad;
  const at::Tensor b = gaussian_blur_3d(gradient.to(at::kFloat), 2.5, 1.5);
  const int64_t n = b.size(0), d = b.size(-3), h = b.size(-2), w = b.size(-1);
  // The model's ink probability at every pixel of the crop, (N, 1, ..., 1, H, W).
  at::Tensor p = ink_maps(model, volumes).to(b.device()).unsqueeze(1);
  const bool has_map = p.size(-2) * p.size(-1) > 1;
  p = at::upsample_bilinear2d(p, {h, w}, false);
  std::vector<int64_t> plane(static_cast<std::size_t>(b.dim()), 1);
  plane[0] = n;
  plane[plane.size() - 2] = h;
  plane[plane.size() - 1] = w;
  p = p.reshape(plane);
  // The side that holds more of the gradient where the model sees ink.
  std::vector<int64_t> per_sample(static_cast<std::size_t>(b.dim()), 1);
  per_sample[0] = n;
  const at::Tensor mass_where_ink = (b * p).reshape({n, -1}).sum(1);
  const at::Tensor sign =
      at::where(mass_where_ink >= 0, at::ones_like(mass_where_ink), -at::ones_like(mass_where_ink))
          .reshape(per_sample);
  const at::Tensor kept = at::where(sign > 0, b.clamp_min(0), b.clamp_max(0));
  const at::Tensor weight = gaussian_blur_3d(kept.abs(), 0.0, 4.0);
  std::vector<int64_t> depth_axis(static_cast<std::size_t>(b.dim()), 1);
  depth_axis[depth_axis.size() - 3] = d;
  const at::Tensor z = at::arange(d, b.options()).reshape(depth_axis);
  const at::Tensor centre = (weight * z).sum(-3, true) / weight.sum(-3, true).clamp_min(1e-20);
  at::Tensor profile = at::exp(-0.5 * at::pow((z - centre) / 1.25, 2));
  profile = profile / profile.sum(-3, true);
  const at::Tensor footprint = has_map ? p : kept.sum(-3, true).abs();
  return (profile * footprint * sign).contiguous();
}

at::Tensor ig_baseline(const at::Tensor& volumes, double sigma_plane) {
  c10::NoGradGuard no_grad;
  return gaussian_blur_3d(volumes.to(at::kFloat), 0.0, sigma_plane);
}

double attribution_noise_sd(const AttributionOptions& options, const ModelCard& card) {
  return options.noise_sd.value_or(AttributionOptions::noise_sd_fraction *
                                   (card.range_hi - card.range_lo));
}

at::Tensor raw_attribution(const InkModel& model, const at::Tensor& volumes,
                           const AttributionOptions& options,
                           const std::vector<std::uint64_t>& seeds) {
  const at::Tensor x = volumes.to(model.device, at::kFloat);
  const int samples = std::max(1, options.samples);
  at::Tensor map;
  switch (options.method) {
    case AttributionMethod::map_depth:
      map = map_depth_attribution(model, x,
                                  input_gradient(model, x, AttributionTarget::weighted_cells));
      break;
    case AttributionMethod::cells:
      map = input_gradient(model, x, AttributionTarget::weighted_cells);
      break;
    case AttributionMethod::gradient:
      map = input_gradient(model, x, AttributionTarget::mean_logit);
      break;
    case AttributionMethod::smoothgrad: {
      const auto n = static_cast<std::size_t>(x.size(0));
      if (seeds.size() != n) {
        throw Error(ErrorKind::internal, "smoothgrad needs one seed per sample, got " +
                                             std::to_string(seeds.size()) + " for " +
                                             std::to_string(n));
      }
      std::vector<std::mt19937_64> rngs;
      for (const auto s : seeds)
        rngs.emplace_back(s);
      const double sd = attribution_noise_sd(options, model.card);
      const auto one = x.sizes().slice(1);
      map = at::zeros_like(x);
      for (int k = 0; k < samples; ++k) {
        std::vector<at::Tensor> noise;
        for (auto& rng : rngs)
          noise.push_back(attribution_noise(one, sd, rng));
        map += input_gradient(model, x + at::stack(noise).to(x.device()),
                              AttributionTarget::mean_logit);
      }
      map /= samples;
      break;
    }
    case AttributionMethod::ig: {
      const auto x0 = ig_baseline(x, options.baseline_sigma);
      const auto delta = x - x0;
      at::Tensor sum = at::zeros_like(x);
      for (int k = 0; k < samples; ++k) {
        const double alpha = (k + 0.5) / samples;
        sum += input_gradient(model, x0 + alpha * delta, AttributionTarget::mean_logit);
      }
      map = delta * (sum / samples);
      break;
    }
  }
  return map.to(at::kCPU).contiguous();
}

at::Tensor postprocess_attribution(const at::Tensor& maps, double smooth, double threshold,
                                   bool dominant_sign) {
  c10::NoGradGuard no_grad;
  at::Tensor a = maps.to(at::kFloat);
  if (smooth > 0) a = gaussian_blur_3d(a, smooth, smooth);
  if (dominant_sign) a = keep_dominant_sign(a);
  if (threshold > 0) a = soft_threshold(a, threshold);
  return a.contiguous();
}

at::Tensor attribute_volumes(const InkModel& model, const at::Tensor& volumes,
                             const AttributionOptions& options,
                             const std::vector<std::uint64_t>& seeds) {
  at::Tensor map;
  try {
    map = raw_attribution(model, volumes, options, seeds);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    // LibTorch's own failures (a backward the model cannot do, a GPU out of memory).
    throw Error(ErrorKind::model, "the " + std::string(to_string(options.method)) +
                                      " attribution of model '" + model.card.name +
                                      "' failed: " + short_reason(e) +
                                      "; try a smaller --batch, --no-freeze or another --device");
  }
  if (!at::isfinite(map).all().item<bool>()) {
    throw Error(ErrorKind::model, "model '" + model.card.name + "' gave a NaN or infinite " +
                                      to_string(options.method) +
                                      " attribution; check the model on this crop");
  }
  // map-depth is smooth and one-signed by construction.
  if (options.method == AttributionMethod::map_depth)
    return postprocess_attribution(map, 0.0, options.threshold, false);
  return postprocess_attribution(map, options.smooth, options.threshold, options.dominant_sign);
}

std::vector<double> attribution_depth_profile(const at::Tensor& map) {
  return to_doubles(dhw_on_cpu(map, at::kDouble).abs().mean({1, 2}));
}

}  // namespace inkgen
