#include "inkgen/model/single_channel_conv.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>

#include "inkgen/common/vector_clones.hpp"

namespace inkgen {

namespace {

struct ConvShape {
  std::int64_t D, H, W, KD, KH, KW, OD, OH, OW;
  ConvGeometry g;
};

// Adds the taps of output depths [od0, od0 + depths) of one sample back onto its input,
// `grad_input` (D, H, W). taps: (KD*KH*KW, depths, OH, OW); tap k of output position p belongs to
// input position p*stride - padding + k.
INKGEN_VECTOR_CLONES void scatter_taps(const float* taps, float* grad_input, std::int64_t od0,
                                       std::int64_t depths, const ConvShape& s) {
  const std::int64_t sd = s.g.stride[0], sh = s.g.stride[1], sw = s.g.stride[2];
  const std::int64_t pd = s.g.padding[0], ph = s.g.padding[1], pw = s.g.padding[2];
  const std::int64_t positions = depths * s.OH * s.OW;
  for (std::int64_t kd = 0; kd < s.KD; ++kd) {
    for (std::int64_t kh = 0; kh < s.KH; ++kh) {
      for (std::int64_t kw = 0; kw < s.KW; ++kw) {
        // The output columns whose input column ow*sw - pw + kw lies inside the row.
        const std::int64_t first = pw - kw <= 0 ? 0 : (pw - kw + sw - 1) / sw;
        const std::int64_t last_in = s.W - 1 + pw - kw;
        const std::int64_t end = last_in < 0 ? 0 : std::min(s.OW, last_in / sw + 1);
        if (end <= first) continue;
        const std::int64_t count = end - first;
        const float* tap = taps + ((kd * s.KH + kh) * s.KW + kw) * positions;
        for (std::int64_t d = 0; d < depths; ++d) {
          const std::int64_t id = (od0 + d) * sd - pd + kd;
          if (id < 0 || id >= s.D) continue;
          for (std::int64_t oh = 0; oh < s.OH; ++oh) {
            const std::int64_t ih = oh * sh - ph + kh;
            if (ih < 0 || ih >= s.H) continue;
            const float* __restrict from = tap + (d * s.OH + oh) * s.OW + first;
            float* __restrict to = grad_input + (id * s.H + ih) * s.W + first * sw - pw + kw;
            if (sw == 1) {
              for (std::int64_t i = 0; i < count; ++i)
                to[i] += from[i];
            } else {
              for (std::int64_t i = 0; i < count; ++i)
                to[i * sw] += from[i];
            }
          }
        }
      }
    }
  }
}

}  // namespace

at::Tensor single_channel_conv3d_input_grad(const at::Tensor& grad_output, const at::Tensor& weight,
                                            at::IntArrayRef input_sizes,
                                            const ConvGeometry& geometry) {
  TORCH_CHECK(input_sizes.size() == 5 && input_sizes[1] == 1 && weight.dim() == 5 &&
                  weight.size(1) == 1 && grad_output.dim() == 5 &&
                  grad_output.size(0) == input_sizes[0] && grad_output.size(1) == weight.size(0),
              "single_channel_conv3d_input_grad: shapes do not fit");
  TORCH_CHECK(grad_output.scalar_type() == at::kFloat && weight.scalar_type() == at::kFloat &&
                  grad_output.device().is_cpu(),
              "single_channel_conv3d_input_grad: float32 on the CPU only");
  const ConvShape s{input_sizes[2],      input_sizes[3], input_sizes[4],      weight.size(2),
                    weight.size(3),      weight.size(4), grad_output.size(2), grad_output.size(3),
                    grad_output.size(4), geometry};
  const std::int64_t n = input_sizes[0], channels = weight.size(0), tap_count = s.KD * s.KH * s.KW,
                     plane = s.OH * s.OW;
  const at::Tensor taps_of_channels = weight.reshape({channels, tap_count}).t().contiguous();
  const at::Tensor grad = grad_output.contiguous();
  at::Tensor grad_input = at::zeros(input_sizes, grad_output.options());
  // A few output depths at a time, so that their taps (tap_count x depths x plane) stay in the
  // core's cache between the matrix product that makes them and the scatter that adds them up.
  const std::int64_t depths = std::max<std::int64_t>(1, (64 << 10) / (tap_count * plane));
  // One thread per sample: the samples' inputs are disjoint, so no two threads add to one place.
  at::parallel_for(0, n, 1, [&](std::int64_t n0, std::int64_t n1) {
    for (std::int64_t i = n0; i < n1; ++i) {
      float* to = grad_input.data_ptr<float>() + i * s.D * s.H * s.W;
      for (std::int64_t od0 = 0; od0 < s.OD; od0 += depths) {
        const std::int64_t count = std::min(depths, s.OD - od0);
        // taps[k][p] = sum over output channels o of weight[o][k] * grad_output[i][o][p].
        const at::Tensor taps =
            at::mm(taps_of_channels, grad[i].narrow(1, od0, count).reshape({channels, -1}));
        scatter_taps(taps.data_ptr<float>(), to, od0, count, s);
      }
    }
  });
  return grad_input;
}

}  // namespace inkgen
