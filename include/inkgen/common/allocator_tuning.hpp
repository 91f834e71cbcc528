#pragma once

namespace inkgen {

// Makes glibc keep freed memory for reuse instead of returning it to the system. An
// optimization step allocates and frees the same large activations every time (tens of MB each
// at batch 16); glibc maps such blocks fresh and unmaps them on free, and each fresh page then
// faults when first touched, which made steps about 3x slower on our CPU machines. The cost:
// the process keeps its peak heap until it exits. Call once, early in main().
void reuse_freed_memory();

}  // namespace inkgen
