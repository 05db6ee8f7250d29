// A paged KV cache (vLLM's block table): a pool of fixed-size blocks, each holding K and V of
// block_size positions for every layer; a sequence is a list of block ids. Blocks are
// reference-counted, so kv_seq_fork shares a prefilled prompt among G samples without
// copying; the first append into a shared, partly filled block copies that block only
// (copy on write). The cache is per-rollout state, apart from the immutable weights.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/alloc.h"
#include "core/err.h"
#include "model/backend.h"
#include "model/model.h"

struct kv_seq {
    bool is_used;
    int len; // positions filled
    int n_blocks;
    int32_t *blocks; // (max_blocks_per_seq)
};

struct kv_cache {
    int L, Hkv, D, block_size, n_blocks, max_seqs, max_blocks_per_seq;
    size_t block_floats; // L * 2 * Hkv * block_size * D
    float *pool;         // (n_blocks, block_floats), tagged MEM_KV_CACHE
    int32_t *refcount;   // (n_blocks)
    int32_t *free_list;  // (n_blocks) stack of free block ids
    int n_free;
    struct kv_seq *seqs; // (max_seqs)
    int32_t *call_table; // (max_seqs, max_blocks_per_seq) rows of the current call
    struct mem_ledger *ledger;
    const struct backend *be; // kv_cache_create_on a device backend (borrowed), else NULL
    int32_t *dev_table;       // device copy of call_table (uploaded per call), else NULL
};

struct kv_cache_cfg {
    int n_blocks;   // pool size
    int block_size; // positions per block (16 is typical)
    int max_seqs;   // live sequences at once
    int max_len;    // positions per sequence (<= max_position_embeddings)
};

size_t kv_cache_bytes(const struct model_shape *s, const struct kv_cache_cfg *cfg);
int kv_cache_create(const struct model_shape *s, const struct kv_cache_cfg *cfg,
                    struct mem_ledger *ledger, struct kv_cache **out, struct err *e);
// The same with the pool (and a copy of the block table) in be's memory: what model_infer
// needs on a device backend; on a host backend the same as kv_cache_create.
int kv_cache_create_on(const struct backend *be, const struct model_shape *s,
                       const struct kv_cache_cfg *cfg, struct mem_ledger *ledger,
                       struct kv_cache **out, struct err *e);
void kv_cache_destroy(struct kv_cache **c);

// A new empty sequence; an error when all max_seqs slots are used.
int kv_seq_create(struct kv_cache *c, int *id, struct err *e);
// A new sequence sharing all of src's blocks (no copy).
int kv_seq_fork(struct kv_cache *c, int src, int *id, struct err *e);
void kv_seq_destroy(struct kv_cache *c, int id);
// Makes room for n_new more positions (allocating blocks, copying a shared last block).
int kv_seq_reserve(struct kv_cache *c, int id, int n_new, struct err *e);

// ---------------------------------------------------------------------------------------------
// Inference. Appends n_new tokens to each of B sequences (packed: tokens cu_new[b] ..
// cu_new[b+1]-1 belong to seqs[b]) and writes the logits of each sequence's last new token to
// logits (B, V). Prefill is a call with the whole prompt, decode a call with one token per
// sequence; both are the same code. a must be an inference workspace (is_inference) with
// capacity for cu_new[B] tokens.
int model_infer(struct model *m, struct model_acts *a, struct kv_cache *c, const int *seqs,
                const int32_t *tokens, const int32_t *cu_new, int B, float *logits, struct err *e);
// Reward-model score of each sequence's last new token (head RM or SCORE); like model_infer.
int model_infer_score(struct model *m, struct model_acts *a, struct kv_cache *c, const int *seqs,
                      const int32_t *tokens, const int32_t *cu_new, int B, float *score,
                      struct err *e);
