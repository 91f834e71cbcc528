#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>

namespace inkgen {

// Stride and padding of a 3D convolution (dilation 1, one group).
struct ConvGeometry {
  std::array<std::int64_t, 3> stride{1, 1, 1};
  std::array<std::int64_t, 3> padding{0, 0, 0};
};

// The gradient of a 3D convolution's output with respect to its one-channel input: input of
// `input_sizes` (N, 1, D, H, W), weight (O, 1, KD, KH, KW), grad_output (N, O, OD, OH, OW); CPU,
// float32. The same values as at::convolution_backward's input gradient (to rounding), computed
// a few output depths at a time as one matrix product (kernel taps x output channels x output
// positions) and a scatter of the taps back onto the input. oneDNN's backward-data spends 3-6
// times its forward pass on this case (it vectorizes over input channels, and there is one).
// Measured (batch 16, two threads, LibTorch 2.15): the bundled model's first layer 31 -> 9-11 ms,
// the Keras model's 56-80 -> 15 ms, the I3D's 7x7x7 Conv3d_1a (batch 2) 28-31 -> 16 ms.
at::Tensor single_channel_conv3d_input_grad(const at::Tensor& grad_output, const at::Tensor& weight,
                                            at::IntArrayRef input_sizes,
                                            const ConvGeometry& geometry);

}  // namespace inkgen
