// Paged KV cache bookkeeping: block pool, reference counts, fork, copy on write.
#include "model/kv_cache.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"

static size_t block_floats(const struct model_shape *s, int block_size) {
    return (size_t)s->L * 2 * s->Hkv * block_size * s->D;
}

size_t kv_cache_bytes(const struct model_shape *s, const struct kv_cache_cfg *cfg) {
    return (size_t)cfg->n_blocks * block_floats(s, cfg->block_size) * sizeof(float);
}

int kv_cache_create(const struct model_shape *s, const struct kv_cache_cfg *cfg,
                    struct mem_ledger *ledger, struct kv_cache **out, struct err *e) {
    return kv_cache_create_on(NULL, s, cfg, ledger, out, e);
}

int kv_cache_create_on(const struct backend *be, const struct model_shape *s,
                       const struct kv_cache_cfg *cfg, struct mem_ledger *ledger,
                       struct kv_cache **out, struct err *e) {
    *out = NULL;
    if (be && !backend_is_device(be)) be = NULL; // host memory: the plain cache
    if (cfg->n_blocks <= 0 || cfg->block_size <= 0 || cfg->max_seqs <= 0 || cfg->max_len <= 0)
        return err_user(e,
                        "kv cache sizes must be positive (blocks %d, block size %d, seqs %d, "
                        "len %d)",
                        cfg->n_blocks, cfg->block_size, cfg->max_seqs, cfg->max_len);
    if (cfg->max_len > s->max_pos)
        return err_user(e, "kv cache max_len '%d' exceeds max_position_embeddings %d", cfg->max_len,
                        s->max_pos);
    struct kv_cache *c = xcalloc(1, sizeof *c);
    *c = (struct kv_cache){.L = s->L,
                           .Hkv = s->Hkv,
                           .D = s->D,
                           .block_size = cfg->block_size,
                           .n_blocks = cfg->n_blocks,
                           .max_seqs = cfg->max_seqs,
                           .max_blocks_per_seq =
                               (cfg->max_len + cfg->block_size - 1) / cfg->block_size,
                           .block_floats = block_floats(s, cfg->block_size),
                           .ledger = ledger,
                           .be = be};
    size_t n_table = sizeof(int32_t) * (size_t)c->max_seqs * c->max_blocks_per_seq;
    if (be) {
        c->pool = backend_alloc(be, ledger, MEM_KV_CACHE, kv_cache_bytes(s, cfg));
        c->dev_table = backend_alloc(be, ledger, MEM_KV_CACHE, n_table);
    } else {
        c->pool = alloc_aligned(ledger, MEM_KV_CACHE, kv_cache_bytes(s, cfg));
    }
    if (!c->pool || (be && !c->dev_table)) {
        kv_cache_destroy(&c);
        return err_user(e, "out of memory for a kv cache of %zu bytes", kv_cache_bytes(s, cfg));
    }
    c->refcount = xcalloc((size_t)c->n_blocks, sizeof *c->refcount);
    c->free_list = xcalloc((size_t)c->n_blocks, sizeof *c->free_list);
    for (int i = 0; i < c->n_blocks; i++) c->free_list[i] = c->n_blocks - 1 - i;
    c->n_free = c->n_blocks;
    c->seqs = xcalloc((size_t)c->max_seqs, sizeof *c->seqs);
    for (int i = 0; i < c->max_seqs; i++)
        c->seqs[i].blocks = xcalloc((size_t)c->max_blocks_per_seq, sizeof(int32_t));
    c->call_table = xcalloc((size_t)c->max_seqs * c->max_blocks_per_seq, sizeof(int32_t));
    *out = c;
    return 0;
}

void kv_cache_destroy(struct kv_cache **pc) {
    if (!pc || !*pc) return;
    struct kv_cache *c = *pc;
    size_t n_pool = (size_t)c->n_blocks * c->block_floats * sizeof(float);
    if (c->be) {
        backend_free(c->be, c->ledger, MEM_KV_CACHE, n_pool, (void **)&c->pool);
        backend_free(c->be, c->ledger, MEM_KV_CACHE,
                     sizeof(int32_t) * (size_t)c->max_seqs * c->max_blocks_per_seq,
                     (void **)&c->dev_table);
    } else {
        alloc_free(c->ledger, MEM_KV_CACHE, n_pool, (void **)&c->pool);
    }
    for (int i = 0; c->seqs && i < c->max_seqs; i++) free(c->seqs[i].blocks);
    free(c->seqs);
    free(c->refcount);
    free(c->free_list);
    free(c->call_table);
    free(c);
    *pc = NULL;
}

static int seq_slot(struct kv_cache *c, int *id, struct err *e) {
    for (int i = 0; i < c->max_seqs; i++)
        if (!c->seqs[i].is_used) {
            c->seqs[i].is_used = true;
            c->seqs[i].len = 0;
            c->seqs[i].n_blocks = 0;
            *id = i;
            return 0;
        }
    return err_user(e, "kv cache: all %d sequence slots in use", c->max_seqs);
}

int kv_seq_create(struct kv_cache *c, int *id, struct err *e) {
    return seq_slot(c, id, e);
}

int kv_seq_fork(struct kv_cache *c, int src, int *id, struct err *e) {
    CHECK(src >= 0 && src < c->max_seqs && c->seqs[src].is_used, "fork of a free sequence");
    TRY(seq_slot(c, id, e));
    struct kv_seq *d = &c->seqs[*id], *s = &c->seqs[src];
    d->len = s->len;
    d->n_blocks = s->n_blocks;
    for (int i = 0; i < s->n_blocks; i++) {
        d->blocks[i] = s->blocks[i];
        c->refcount[s->blocks[i]]++;
    }
    return 0;
}

static void block_release(struct kv_cache *c, int b) {
    if (--c->refcount[b] == 0) c->free_list[c->n_free++] = b;
}

void kv_seq_destroy(struct kv_cache *c, int id) {
    if (id < 0 || id >= c->max_seqs || !c->seqs[id].is_used) return;
    struct kv_seq *s = &c->seqs[id];
    for (int i = 0; i < s->n_blocks; i++) block_release(c, s->blocks[i]);
    s->is_used = false;
    s->n_blocks = s->len = 0;
}

static int block_take(struct kv_cache *c, struct err *e) {
    if (c->n_free == 0)
        return err_user(e, "kv cache full: all %d blocks of %d positions in use", c->n_blocks,
                        c->block_size);
    int b = c->free_list[--c->n_free];
    c->refcount[b] = 1;
    return b;
}

int kv_seq_reserve(struct kv_cache *c, int id, int n_new, struct err *e) {
    CHECK(id >= 0 && id < c->max_seqs && c->seqs[id].is_used, "reserve on a free sequence");
    struct kv_seq *s = &c->seqs[id];
    int need = (s->len + n_new + c->block_size - 1) / c->block_size;
    if (need > c->max_blocks_per_seq)
        return err_user(e, "sequence of '%d' positions exceeds the kv cache max_len %d",
                        s->len + n_new, c->max_blocks_per_seq * c->block_size);
    // Copy on write: the block that receives the next position is shared.
    if (n_new > 0 && s->len % c->block_size != 0) {
        int last = s->blocks[s->n_blocks - 1];
        if (c->refcount[last] > 1) {
            int b = block_take(c, e);
            if (b < 0) return b;
            float *dst = c->pool + (size_t)b * c->block_floats;
            const float *src = c->pool + (size_t)last * c->block_floats;
            if (c->be)
                backend_copy_d2d(c->be, dst, src, sizeof(float) * c->block_floats);
            else
                memcpy(dst, src, sizeof(float) * c->block_floats);
            block_release(c, last);
            s->blocks[s->n_blocks - 1] = b;
        }
    }
    while (s->n_blocks < need) {
        int b = block_take(c, e);
        if (b < 0) return b;
        s->blocks[s->n_blocks++] = b;
    }
    return 0;
}
