// The CPU backend's memory hooks (model/backend.h): host memory, memcpy.
#pragma once

#include <stddef.h>

void *cpu_alloc(void *ctx, size_t n_bytes);
void cpu_free(void *ctx, void *p);
void cpu_copy(void *ctx, void *dst, const void *src, size_t n_bytes);
void cpu_memset(void *ctx, void *dst, int byte, size_t n_bytes);
