#pragma once

// The build targets any x86-64; inkgen's own inner loops are worth AVX2 + FMA where the CPU has
// them, so they get a clone for that level, picked at load time.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define INKGEN_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define INKGEN_VECTOR_CLONES
#endif
