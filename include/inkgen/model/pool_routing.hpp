#pragma once

#include <torch/csrc/jit/api/module.h>

namespace inkgen {

// Sends each max pool of a frozen module whose windows tile its input (stride = kernel, no
// padding, dilation 1, floor mode) through inkgen's own kernel (window_max_pool.hpp), with the
// ReLU before it folded in where the pool is that ReLU's only reader. Rewrites every method's
// graph in place and returns how many of forward's pools it rerouted (features runs the same
// layers). Anything else (overlapping windows, padding, ceil mode) is left as it was; at run
// time anything but a float32 CPU tensor goes to LibTorch.
int route_window_max_pools(torch::jit::Module& module);

}  // namespace inkgen
