// Memory through a backend: host backends keep alloc_aligned and memcpy, device backends go
// through their hooks (model/backend.h).
#include "model/backend.h"

#include <string.h>

#include "core/check.h"

bool backend_is_device(const struct backend *be) {
    return be->ops->is_device;
}

void *backend_alloc(const struct backend *be, struct mem_ledger *ledger, enum mem_tag tag,
                    size_t n_bytes) {
    if (!be->ops->is_device) return alloc_aligned(ledger, tag, n_bytes);
    void *p = be->ops->alloc(be->ctx, n_bytes);
    if (p && ledger) { // the same accounting as alloc_aligned
        ledger->n_bytes[tag] += n_bytes;
        size_t total = mem_ledger_total(ledger);
        if (total > ledger->peak_bytes) ledger->peak_bytes = total;
    }
    return p;
}

void backend_free(const struct backend *be, struct mem_ledger *ledger, enum mem_tag tag,
                  size_t n_bytes, void **p) {
    if (!p || !*p) return;
    if (!be->ops->is_device) {
        alloc_free(ledger, tag, n_bytes, p);
        return;
    }
    be->ops->free(be->ctx, *p);
    *p = NULL;
    if (ledger) ledger->n_bytes[tag] -= n_bytes;
}

void backend_copy_h2d(const struct backend *be, void *dst, const void *src, size_t n_bytes) {
    if (dst == src || n_bytes == 0) return;
    if (be->ops->copy_h2d)
        be->ops->copy_h2d(be->ctx, dst, src, n_bytes);
    else
        memcpy(dst, src, n_bytes);
}

void backend_copy_d2h(const struct backend *be, void *dst, const void *src, size_t n_bytes) {
    if (dst == src || n_bytes == 0) return;
    if (be->ops->copy_d2h)
        be->ops->copy_d2h(be->ctx, dst, src, n_bytes);
    else
        memcpy(dst, src, n_bytes);
}

void backend_copy_d2d(const struct backend *be, void *dst, const void *src, size_t n_bytes) {
    if (dst == src || n_bytes == 0) return;
    if (be->ops->copy_d2d)
        be->ops->copy_d2d(be->ctx, dst, src, n_bytes);
    else
        memcpy(dst, src, n_bytes);
}

void backend_memset(const struct backend *be, void *dst, int byte, size_t n_bytes) {
    if (n_bytes == 0) return;
    if (be->ops->memset)
        be->ops->memset(be->ctx, dst, byte, n_bytes);
    else
        memset(dst, byte, n_bytes);
}
