#pragma once

#include <c10/core/Device.h>

namespace inkgen {

// Memory of this process, for benchmarks: resident set now and at its peak (MiB), and the peak
// of LibTorch's caching allocator on a GPU (0 on the CPU or without CUDA).
double resident_mib();
double peak_resident_mib();
double peak_device_mib(const c10::Device& device);
void reset_peak_device_memory(const c10::Device& device);

}  // namespace inkgen
