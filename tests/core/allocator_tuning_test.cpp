#include "inkgen/allocator_tuning.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

namespace inkgen {
namespace {

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// What a step does to memory: large activations made, used and freed, again and again.
long faults_of_steps() {
  const long before = minor_faults();
  for (int i = 0; i < 8; ++i) {
    const auto x = at::ones({4 << 20});  // 16 MiB
    const auto y = x * 2;
    const auto z = y + 1;
  }
  return minor_faults() - before;
}

// After reuse_freed_memory the memory of one step is reused by the next instead of being given
// back and faulted in again page by page. (This suite runs in a process of its own: the setting
// is process-wide.)
TEST(AllocatorTuning, StepsReuseMemoryInsteadOfFaultingItInAgain) {
  faults_of_steps();
  const long untuned = faults_of_steps();
  if (untuned < 1000)
    GTEST_SKIP() << "this C library already keeps freed memory (" << untuned << " faults)";
  reuse_freed_memory();
  faults_of_steps();
  const long tuned = faults_of_steps();
  EXPECT_LT(tuned, untuned / 10) << "untuned " << untuned << " faults, tuned " << tuned;
}

}  // namespace
}  // namespace inkgen
