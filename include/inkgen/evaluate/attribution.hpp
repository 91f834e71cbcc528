#pragma once

// Attribution maps: which voxels of an input volume make the model say ink. A map A has the
// volume's shape; A > 0 where raising the voxel would raise the ink score (supports ink), A < 0
// where it argues against ink. The methods and their post-processing: README "Attribution".
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "inkgen/model/ink_model.hpp"
#include "inkgen/options/attribution_options.hpp"

namespace inkgen {

// What a gradient is taken of, per sample, from the output's per-cell ink logits (N, M).
enum class AttributionTarget {
  mean_logit,      // mean over cells of the logit
  weighted_cells,  // sum_c sg(p_c) l_c / sum_c sg(p_c), p_c = sigmoid(l_c), sg = detach
};

// The target of each sample, (N,), differentiable in the cell logits.
at::Tensor attribution_target(const at::Tensor& cell_logits, AttributionTarget target);

// d target_i / d x_i for each sample of a batch of volumes (N, C, D, H, W): one forward and one
// backward pass; the result is float32 on the volumes' device. The samples must not interact in
// the model (true of any model in eval mode).
at::Tensor input_gradient(const InkModel& model, const at::Tensor& volumes,
                          AttributionTarget target);

// The map-depth attribution (attribution_options.hpp) of volumes whose cells gradient is
// `gradient`, before the soft threshold.
at::Tensor map_depth_attribution(const InkModel& model, const at::Tensor& volumes,
                                 const at::Tensor& gradient);

// The baseline of integrated gradients: each volume blurred in x and y (depth left alone).
at::Tensor ig_baseline(const at::Tensor& volumes, double sigma_plane);

// The smoothgrad noise sd: the options' own, else noise_sd_fraction of the card's valid range.
double attribution_noise_sd(const AttributionOptions& options, const ModelCard& card);

// The map of the chosen method before post-processing, (N, C, D, H, W) float32 on the CPU.
// Sample i of smoothgrad draws its noise from seeds[i] alone (so the map of a crop does not depend
// on which crops share its batch); `seeds` must hold one per sample for smoothgrad.
at::Tensor raw_attribution(const InkModel& model, const at::Tensor& volumes,
                           const AttributionOptions& options,
                           const std::vector<std::uint64_t>& seeds = {});

// The post-processing of every method, per sample of (N, ...D, H, W): a 3D Gaussian blur of sigma
// `smooth` voxels in depth and plane (0: off), with `dominant_sign` only the sign that holds
// more of the map's mass, then the soft threshold
// A <- sign(A) * max(|A| - threshold * max|A|, 0) with max|A| of that sample (0: off).
at::Tensor postprocess_attribution(const at::Tensor& maps, double smooth, double threshold,
                                   bool dominant_sign = false);

// raw_attribution, then postprocess_attribution with the options' smooth and threshold. Throws
// Error(model) when the map is not finite (a model whose gradient is NaN or infinite).
at::Tensor attribute_volumes(const InkModel& model, const at::Tensor& volumes,
                             const AttributionOptions& options,
                             const std::vector<std::uint64_t>& seeds = {});

// Mean |A| per depth layer of one sample's map ((D, H, W) with any number of leading 1s).
std::vector<double> attribution_depth_profile(const at::Tensor& map);

}  // namespace inkgen
