#include "inkgen/model/window_max_pool.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <limits>
#include <vector>

#include "inkgen/common/vector_clones.hpp"

namespace inkgen {

namespace {

struct PoolShape {
  std::int64_t D, H, W, KD, KH, KW, OD, OH, OW;
};

PoolShape pool_shape(at::IntArrayRef sizes, const std::array<std::int64_t, 3>& window) {
  return {sizes[2],
          sizes[3],
          sizes[4],
          window[0],
          window[1],
          window[2],
          sizes[2] / window[0],
          sizes[3] / window[1],
          sizes[4] / window[2]};
}

// Whether candidate (v, code) replaces the current (best, best_code) under LibTorch's rule for a
// scan in (d, h, w) order, `v > best || isnan(v)`: the first maximum wins, and the last NaN. The
// codes number the window in that order, so a scan done in another order can still follow it.
// Branch-free, so that the loops calling it vectorize.
inline bool replaces(float v, std::int32_t code, float best, std::int32_t best_code) {
  const bool v_nan = v != v, best_nan = best != best;
  return (v_nan & (!best_nan | (code > best_code))) |
         (!v_nan & !best_nan & ((v > best) | ((v == best) & (code < best_code))));
}

// One (n, c) plane. Each output row is done in two passes: the window's input rows are reduced
// column by column (contiguous), then each output takes the best of its window's columns by the
// rule above. `column_max` and `column_code` hold OW*KW values each. KW is a template argument
// for the common widths (1 and 2), so that the second pass's strided reads vectorize too; 0
// means "s.KW, at run time".
template <int FixedKW>
INKGEN_VECTOR_CLONES void pool_plane(const float* in, float* out, std::uint8_t* argmax,
                                     const PoolShape& shape, bool relu, float* column_max,
                                     std::int32_t* column_code) {
  const PoolShape s = shape;  // a local copy: the stores below cannot change the loop bounds
  const std::int64_t KW = FixedKW > 0 ? FixedKW : s.KW;
  const std::int64_t columns = s.OW * KW;
  for (std::int64_t od = 0; od < s.OD; ++od) {
    for (std::int64_t oh = 0; oh < s.OH; ++oh) {
      float* __restrict m = column_max;
      std::int32_t* __restrict c = column_code;
      for (std::int64_t w = 0; w < columns; ++w) {
        m[w] = -std::numeric_limits<float>::infinity();
        c[w] = static_cast<std::int32_t>(w % KW);
      }
      for (std::int64_t kd = 0; kd < s.KD; ++kd) {
        for (std::int64_t kh = 0; kh < s.KH; ++kh) {
          const float* __restrict row = in + ((od * s.KD + kd) * s.H + oh * s.KH + kh) * s.W;
          const auto code = static_cast<std::int32_t>((kd * s.KH + kh) * KW);
          for (std::int64_t w = 0; w < columns; ++w) {
            const float v = row[w];
            const bool take = v > m[w] || v != v;  // in scan order: LibTorch's own test
            m[w] = take ? v : m[w];
            c[w] = take ? code + static_cast<std::int32_t>(w % KW) : c[w];
          }
        }
      }
      float* __restrict best = out + (od * s.OH + oh) * s.OW;
      std::uint8_t* __restrict arg = argmax + (od * s.OH + oh) * s.OW;
      // Written out for widths 1 and 2: a loop over kw inside would keep this one scalar.
      const auto finish = [relu](float b, std::int32_t code, float& value, std::uint8_t& where) {
        // As LibTorch's relu and its backward (grad where not x <= 0): NaN passes, gradient too.
        const bool cut = relu & (b <= 0.0f);
        value = cut ? 0.0f : b;
        where = static_cast<std::uint8_t>(cut ? no_gradient : code);
      };
      if constexpr (FixedKW == 1) {
        for (std::int64_t ow = 0; ow < s.OW; ++ow)
          finish(m[ow], c[ow], best[ow], arg[ow]);
      } else if constexpr (FixedKW == 2) {
        for (std::int64_t ow = 0; ow < s.OW; ++ow) {
          const float b0 = m[2 * ow], b1 = m[2 * ow + 1];
          const std::int32_t c0 = c[2 * ow], c1 = c[2 * ow + 1];
          const bool take = replaces(b1, c1, b0, c0);
          finish(take ? b1 : b0, take ? c1 : c0, best[ow], arg[ow]);
        }
      } else {
        for (std::int64_t ow = 0; ow < s.OW; ++ow) {
          float b = m[ow * KW];
          std::int32_t b_code = c[ow * KW];
          for (std::int64_t kw = 1; kw < KW; ++kw) {
            const bool take = replaces(m[ow * KW + kw], c[ow * KW + kw], b, b_code);
            b = take ? m[ow * KW + kw] : b;
            b_code = take ? c[ow * KW + kw] : b_code;
          }
          finish(b, b_code, best[ow], arg[ow]);
        }
      }
    }
  }
}

template <int FixedKW>
INKGEN_VECTOR_CLONES void unpool_plane(const float* grad_out, const std::uint8_t* argmax,
                                       float* grad_in, const PoolShape& shape) {
  const PoolShape s = shape;  // a local copy: the stores below cannot change the loop bounds
  const std::int64_t KW = FixedKW > 0 ? FixedKW : s.KW;
  for (std::int64_t d = 0; d < s.D; ++d) {
    const std::int64_t od = d / s.KD, kd = d % s.KD;
    for (std::int64_t h = 0; h < s.H; ++h) {
      const std::int64_t oh = h / s.KH, kh = h % s.KH;
      float* __restrict to = grad_in + (d * s.H + h) * s.W;
      std::int64_t w = 0;
      if (od < s.OD && oh < s.OH) {
        const float* __restrict g = grad_out + (od * s.OH + oh) * s.OW;
        const std::uint8_t* __restrict arg = argmax + (od * s.OH + oh) * s.OW;
        const auto code = static_cast<std::uint8_t>((kd * s.KH + kh) * KW);
        if constexpr (FixedKW == 2) {  // written out, as in pool_plane
          const auto code1 = static_cast<std::uint8_t>(code + 1);
          for (std::int64_t ow = 0; ow < s.OW; ++ow) {
            to[2 * ow] = arg[ow] == code ? g[ow] : 0.0f;
            to[2 * ow + 1] = arg[ow] == code1 ? g[ow] : 0.0f;
          }
        } else {
          for (std::int64_t ow = 0; ow < s.OW; ++ow) {
            for (std::int64_t kw = 0; kw < KW; ++kw)
              to[ow * KW + kw] = arg[ow] == code + kw ? g[ow] : 0.0f;
          }
        }
        w = s.OW * KW;
      }
      for (; w < s.W; ++w)
        to[w] = 0.0f;
    }
  }
}

}  // namespace

WindowMaxPool window_max_pool3d(const at::Tensor& input, const std::array<std::int64_t, 3>& window,
                                bool relu) {
  TORCH_CHECK(input.dim() == 5 && input.scalar_type() == at::kFloat && input.device().is_cpu(),
              "window_max_pool3d takes a float32 (N, C, D, H, W) CPU tensor");
  TORCH_CHECK(window[0] * window[1] * window[2] < no_gradient && window[0] > 0 && window[1] > 0 &&
                  window[2] > 0,
              "window_max_pool3d: window volume must be 1..254");
  const auto x = input.contiguous();
  const auto s = pool_shape(x.sizes(), window);
  TORCH_CHECK(s.OD > 0 && s.OH > 0 && s.OW > 0, "window_max_pool3d: window larger than the input");
  const std::int64_t planes = x.size(0) * x.size(1);
  WindowMaxPool result{
      at::empty({x.size(0), x.size(1), s.OD, s.OH, s.OW}, x.options()),
      at::empty({x.size(0), x.size(1), s.OD, s.OH, s.OW}, x.options().dtype(at::kByte))};
  const float* in = x.data_ptr<float>();
  float* out = result.output.data_ptr<float>();
  std::uint8_t* arg = result.argmax.data_ptr<std::uint8_t>();
  const std::int64_t in_plane = s.D * s.H * s.W, out_plane = s.OD * s.OH * s.OW;
  at::parallel_for(0, planes, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> column_max(s.OW * s.KW);
    std::vector<std::int32_t> column_code(s.OW * s.KW);
    const auto plane = s.KW == 2 ? pool_plane<2> : s.KW == 1 ? pool_plane<1> : pool_plane<0>;
    for (std::int64_t p = begin; p < end; ++p)
      plane(in + p * in_plane, out + p * out_plane, arg + p * out_plane, s, relu, column_max.data(),
            column_code.data());
  });
  return result;
}

at::Tensor window_max_pool3d_backward(const at::Tensor& grad_output, const at::Tensor& argmax,
                                      at::IntArrayRef input_sizes,
                                      const std::array<std::int64_t, 3>& window) {
  const auto g = grad_output.contiguous();
  const auto s = pool_shape(input_sizes, window);
  auto grad_input = at::empty(input_sizes, g.options());
  const std::int64_t planes = input_sizes[0] * input_sizes[1];
  const std::int64_t in_plane = s.D * s.H * s.W, out_plane = s.OD * s.OH * s.OW;
  const float* go = g.data_ptr<float>();
  const std::uint8_t* arg = argmax.data_ptr<std::uint8_t>();
  float* gi = grad_input.data_ptr<float>();
  const auto plane = s.KW == 2 ? unpool_plane<2> : unpool_plane<0>;
  at::parallel_for(0, planes, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p)
      plane(go + p * out_plane, arg + p * out_plane, gi + p * in_plane, s);
  });
  return grad_input;
}

}  // namespace inkgen
