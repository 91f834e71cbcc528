#pragma once

#include <torch/csrc/jit/api/module.h>

namespace inkgen {

// Sends each 3D convolution of a frozen module that reads a one-channel volume (the CT input of
// every ink model, usually its first layer) through inkgen's own input gradient
// (single_channel_conv.hpp) instead of oneDNN's; the forward pass is unchanged. Rewrites the
// graphs of the module's methods (forward, and features where there is one) in place and returns
// how many of forward's convolutions it rerouted (features runs the same layers).
// Only convolutions whose weight is a float32 CPU constant (a frozen module), with one group,
// dilation 1 and numeric padding qualify; everything else is left as it was.
int route_single_channel_convolutions(torch::jit::Module& module);

}  // namespace inkgen
