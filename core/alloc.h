// Aligned allocation, tagged by purpose.
//
// Big state (parameters, gradients, AdamW moments, activations, KV cache) is
// allocated once at start-up from a memory plan; a mem_ledger counts the bytes
// of each tag so that the plan can be printed and checked against what was
// really allocated.
#pragma once

#include <stddef.h>

#define ALLOC_ALIGN 64 // a cache line, and the width of an AVX-512 register

enum mem_tag {
    MEM_PARAMS,
    MEM_GRADS,
    MEM_MOMENTS,
    MEM_ACTS,
    MEM_KV_CACHE,
    MEM_ROLLOUT,
    MEM_COMM,
    MEM_OTHER,
    MEM_TAG_COUNT
};

struct mem_ledger {
    size_t n_bytes[MEM_TAG_COUNT]; // live bytes per tag
    size_t peak_bytes;             // peak of the sum over tags
};

// Zero-filled, ALLOC_ALIGN-aligned block of n_bytes (rounded up to the
// alignment); NULL if out of memory. ledger may be NULL.
void *alloc_aligned(struct mem_ledger *ledger, enum mem_tag tag, size_t n_bytes);
// Frees a block from alloc_aligned and sets *p to NULL; n_bytes and tag must
// be those it was allocated with (they keep the ledger right).
void alloc_free(struct mem_ledger *ledger, enum mem_tag tag, size_t n_bytes, void **p);

size_t mem_ledger_total(const struct mem_ledger *ledger);
const char *mem_tag_name(enum mem_tag tag);
