// Unrecoverable failures: a library call that must not fail (CUDA, NCCL, MPI,
// HDF5 internals) or out of memory at start-up. These abort the process with
// file:line and the library's message, exit status 2. Never use them for
// anything reachable from user input: that is a struct err (core/err.h).
#pragma once

#include <stddef.h>

_Noreturn void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) check_fail(__FILE__, __LINE__, __VA_ARGS__);                                  \
    } while (0)

// malloc/calloc that abort on failure; for start-up allocations and small
// bookkeeping only (the step and decode loops never allocate).
void *xmalloc(size_t n_bytes);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n_bytes);
char *xstrdup(const char *s);
