#pragma once

#include <optional>

namespace inkgen {

// The CPUs this process may run on: its affinity mask (what taskset, cgroups' cpusets and
// Slurm's --cpus-per-task leave it), at least 1. Not hardware_concurrency(): on a shared node that
// counts CPUs the process may not use.
int usable_cpus();

// The most threads worth asking for: beyond 4 per CPU LibTorch only adds contention, and 100,000
// threads took minutes to start and ignored SIGTERM meanwhile.
int max_threads(int cpus);

// The thread count for LibTorch. `requested` > 0 is checked against max_threads and used;
// 0 means every usable CPU, unless OMP_NUM_THREADS is set (`omp_env`), which LibTorch honours
// itself, so the answer is then nullopt: leave LibTorch's choice. Throws Error(usage) above
// max_threads.
std::optional<int> thread_count(int requested, int cpus, bool omp_env);

}  // namespace inkgen
