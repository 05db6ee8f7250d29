// Aligned, zero-filled, tagged allocation.
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static size_t round_up(size_t n) {
    return (n + ALLOC_ALIGN - 1) / ALLOC_ALIGN * ALLOC_ALIGN;
}

void *alloc_aligned(struct mem_ledger *ledger, enum mem_tag tag, size_t n_bytes) {
    size_t n = round_up(n_bytes ? n_bytes : 1);
    if (n < n_bytes) return NULL; // overflow
    void *p = aligned_alloc(ALLOC_ALIGN, n);
    if (!p) return NULL;
    memset(p, 0, n);
    if (ledger) {
        ledger->n_bytes[tag] += n_bytes;
        size_t total = mem_ledger_total(ledger);
        if (total > ledger->peak_bytes) ledger->peak_bytes = total;
    }
    return p;
}

void alloc_free(struct mem_ledger *ledger, enum mem_tag tag, size_t n_bytes, void **p) {
    if (!p || !*p) return;
    free(*p);
    *p = NULL;
    if (ledger) ledger->n_bytes[tag] -= n_bytes;
}

size_t mem_ledger_total(const struct mem_ledger *ledger) {
    size_t s = 0;
    for (int i = 0; i < MEM_TAG_COUNT; i++) s += ledger->n_bytes[i];
    return s;
}

const char *mem_tag_name(enum mem_tag tag) {
    static const char *const names[MEM_TAG_COUNT] = {"params",   "grads",   "moments", "acts",
                                                     "kv_cache", "rollout", "comm",    "other"};
    return (unsigned)tag < MEM_TAG_COUNT ? names[tag] : "?";
}
