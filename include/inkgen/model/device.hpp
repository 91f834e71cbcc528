#pragma once

#include <c10/core/Device.h>
#include <string>

namespace inkgen {

// "auto" (the GPU when LibTorch sees one, else the CPU), "cpu", "cuda" or "cuda:N".
// Throws Error(usage) for an unknown spelling or a GPU that is not there.
c10::Device resolve_device(const std::string& spec);
std::string describe_device(const c10::Device& device);

}  // namespace inkgen
