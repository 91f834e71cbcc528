#include "inkgen/common/allocator_tuning.hpp"

// Any C library header defines __GLIBC__ on glibc; this one also declares mallopt there.
#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

namespace inkgen {

void reuse_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);              // serve large blocks from the heap, not fresh mappings
  mallopt(M_TRIM_THRESHOLD, 1 << 30);  // do not give the heap's top back after each step
  mallopt(M_TOP_PAD, 64 << 20);        // grow the heap in large steps
#endif
}

}  // namespace inkgen
