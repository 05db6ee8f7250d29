// Private to rollout/: the engine's state, shared by engine.c (set-up) and generate.c (the
// scheduling loop).
#pragma once

#include "model/kv_cache.h"
#include "rollout/invariant.h"
#include "rollout/rollout.h"

// One decode slot: a live sample, or a free one.
struct rollout_slot {
    bool is_live;
    int seq;      // KV sequence, -1 until prefilled or forked
    int q, j;     // query index in the call, sample index
    int len;      // response ids so far
    int max_new;  // this sample's length limit
    int32_t next; // the last sampled id, fed by the next decode step
    int n_tail;   // bytes in tail: the end of the response text, for stop strings
    char tail[ROLLOUT_MAX_STOP_BYTES];
};

struct rollout_engine {
    struct model *m;                  // borrowed
    struct model view;                // *m with the batch-invariant backend, per generate call
    struct invariant_backend *inv;    // NULL unless cfg.is_batch_invariant
    const struct tokenizer *tok;      // borrowed, may be NULL
    const struct chat_template *chat; // borrowed, may be NULL
    struct mem_ledger *ledger;        // borrowed, may be NULL
    struct rollout_cfg cfg;           // stop strings point to stop_text
    char *stop_text[ROLLOUT_MAX_STOP];
    int stop_len[ROLLOUT_MAX_STOP];
    int32_t *stop_ids;
    int n_stop_ids;
    struct rollout_plan plan;
    int V, n_allowed, max_new_cap, n_threads;
    struct kv_cache *kv;
    struct model_acts *acts;
    float *buf; // one MEM_ROLLOUT block carved below
    size_t buf_bytes;
    float *logits;              // (max_batch_seqs, V)
    float *held;                // (V) first-token logits of a partly started group
    float *slot_lp, *slot_lpm;  // (max_batch_seqs, max_new_cap)
    int32_t *slot_ids;          // (max_batch_seqs, max_new_cap)
    float *scr_w;               // (n_threads, V) sampler scratch
    int32_t *scr_ids;           // (n_threads, V)
    struct rollout_slot *slots; // (max_batch_seqs)
    int *call_seqs, *call_slot; // (max_batch_seqs)
    int32_t *call_tokens;       // (n_tokens_max)
    int32_t *call_cu;           // (max_batch_seqs + 1)
    struct text_buf text;       // decoded bytes of one id
    struct rollout_stats stats;
};
