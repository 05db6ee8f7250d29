// The CPU backend's memory hooks: aligned zeroed host memory (no ledger: backend_alloc counts
// host memory through alloc_aligned itself) and memcpy for every direction.
#include "model/cpu/memory.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void *cpu_alloc(void *ctx, size_t n_bytes) {
    (void)ctx;
    return alloc_aligned(NULL, MEM_OTHER, n_bytes);
}

void cpu_free(void *ctx, void *p) {
    (void)ctx;
    free(p);
}

void cpu_copy(void *ctx, void *dst, const void *src, size_t n_bytes) {
    (void)ctx;
    if (dst != src && n_bytes) memcpy(dst, src, n_bytes);
}

void cpu_memset(void *ctx, void *dst, int byte, size_t n_bytes) {
    (void)ctx;
    memset(dst, byte, n_bytes);
}
