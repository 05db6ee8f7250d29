// Private to the CPU attention kernels.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "model/backend.h"

// Zeroes, in dqkv (N,Q), the gradient rows that the backward unit (sequence at t0 of T
// tokens, KV head hk) owns: dq of its rep query heads, dk and dv of hk.
static inline void attention_zero_unit(float *dqkv, int t0, int T, int hk, int H, int Hkv, int D) {
    int Q = (H + 2 * Hkv) * D, rep = H / Hkv;
    for (int t = t0; t < t0 + T; t++) {
        float *row = dqkv + (size_t)t * Q;
        memset(row + (size_t)hk * rep * D, 0, sizeof(float) * rep * D);
        memset(row + (size_t)(H + hk) * D, 0, sizeof(float) * D);
        memset(row + (size_t)(H + Hkv + hk) * D, 0, sizeof(float) * D);
    }
}

// Where position pos of sequence b (its row of the call's block table) keeps K (which 0) or
// V (which 1) of KV head hk in layer `layer`.
static inline float *kv_ptr(const struct kv_view *kv, int b, int layer, int which, int hk,
                            int pos) {
    int blk = kv->block_table[(size_t)b * kv->max_blocks_per_seq + pos / kv->block_size];
    size_t base = (((size_t)blk * kv->L + layer) * 2 + which) * kv->Hkv * kv->block_size * kv->D;
    return kv->pool + base + ((size_t)hk * kv->block_size + pos % kv->block_size) * kv->D;
}

// Prefetches the block after the one at j0 (its keys and values, 64 bytes a line) when the
// sequence reaches it by pos.
static inline void kv_prefetch_next_block(const struct kv_view *kv, int b, int layer, int hk,
                                          int j0, int pos) {
    if (j0 + kv->block_size > pos) return;
    const char *kn = (const char *)kv_ptr(kv, b, layer, 0, hk, j0 + kv->block_size);
    const char *vn = (const char *)kv_ptr(kv, b, layer, 1, hk, j0 + kv->block_size);
    for (size_t o = 0; o < sizeof(float) * kv->block_size * (size_t)kv->D; o += 64) {
        __builtin_prefetch(kn + o);
        __builtin_prefetch(vn + o);
    }
}

// KV-cache attention of the rep (<= GROUP_MAX) query heads of KV head hk at one position
// over cache positions 0 .. pos, in GROUP_KEYS-key chunks of online softmax.
enum { GROUP_MAX = 16, GROUP_MAX_D = 256, GROUP_KEYS = 64 };

// The AVX-512 version (attention_cache_avx512.c): true when the CPU has it and D is a
// multiple of 16 (<= GROUP_MAX_D).
bool attention_cache_group_avx512_ok(int D);
void attention_cache_group_avx512(float *out, const float *q, const struct kv_view *kv, int b,
                                  int layer, int hk, int pos, int rep, float scale);
