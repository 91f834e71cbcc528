#include "inkgen/model/process_memory.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && defined(INKGEN_WITH_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#define INKGEN_CUDA_MEMORY 1
#endif

namespace inkgen {

double resident_mib() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) /
         (1024.0 * 1024.0);
}

double peak_resident_mib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

double peak_device_mib(const c10::Device& device) {
#ifdef INKGEN_CUDA_MEMORY
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);
  }
#endif
  (void)device;
  return 0.0;
}

void reset_peak_device_memory(const c10::Device& device) {
#ifdef INKGEN_CUDA_MEMORY
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#endif
  (void)device;
}

}  // namespace inkgen
