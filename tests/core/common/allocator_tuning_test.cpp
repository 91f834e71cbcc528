#include "inkgen/common/allocator_tuning.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

namespace inkgen {
namespace {

#if defined(__GLIBC__)
// What the C library holds: its heap and the blocks it mapped on their own. Page-fault counts
// would say the same more directly, but they depend on the kernel and sandbox (a CI machine
// reported the same 4096 faults with and without the tuning), while these are glibc's own books.
struct HeapUse {
  std::size_t heap = 0;
  std::size_t mapped = 0;
};

HeapUse heap_use() {
  const auto info = mallinfo2();
  return {info.arena, info.hblkhd};
}

// What a step does to memory: large activations made, used and freed.
void one_step() {
  const auto x = at::ones({4 << 20});  // 16 MiB
  const auto y = x * 2;
  const auto z = y + 1;
}

// After reuse_freed_memory large blocks come from the heap, the heap keeps them when they are
// freed (instead of unmapping them, so that the next step faults fresh pages in one by one), and
// later steps reuse them: twenty steps of 48 MiB leave a heap of a few steps, not of twenty.
// (This suite runs in a process of its own: the setting is process-wide.)
TEST(AllocatorTuning, StepsReuseTheHeapInsteadOfMappingFreshMemory) {
  reuse_freed_memory();
  const HeapUse before = heap_use();
  {
    const auto x = at::ones({4 << 20});
    const HeapUse during = heap_use();
    EXPECT_EQ(during.mapped, before.mapped) << "a 16 MiB block was mapped on its own";
    EXPECT_GE(during.heap, before.heap + (16u << 20)) << "the block did not come from the heap";
  }
  constexpr std::size_t step_bytes = 3 * (16u << 20);
  HeapUse last = heap_use();
  for (int i = 0; i < 20; ++i) {
    one_step();
    const HeapUse now = heap_use();
    EXPECT_GE(now.heap, last.heap) << "step " << i << " gave heap memory back";
    EXPECT_EQ(now.mapped, before.mapped) << "step " << i << " mapped a block on its own";
    last = now;
  }
  EXPECT_GE(last.heap, step_bytes);
  EXPECT_LT(last.heap, 8 * step_bytes) << "the steps did not reuse the heap's freed blocks";
}
#else
TEST(AllocatorTuning, StepsReuseTheHeapInsteadOfMappingFreshMemory) {
  GTEST_SKIP() << "reuse_freed_memory tunes glibc only; this C library is not glibc";
}
#endif

}  // namespace
}  // namespace inkgen
