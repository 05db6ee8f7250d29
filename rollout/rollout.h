// The rollout engine: G responses per query from one prefill of its prompt, whose KV cache is
// forked G ways (shared blocks, copy on write); all live sequences decode together in one
// batched model_infer step, and a finished sequence's slot is refilled from the queue
// (continuous batching) within a KV-cache budget that is reserved for the worst case, so the
// cache never runs out mid-decode.
//
// Determinism: token t of sample j of query q is drawn with
//   u = rng(seed, rng_stream_id(RNG_SAMPLE, step, q.id, j), counter = t)
// so a sample depends on (seed, step, query id, sample index) and the model only, never on
// batch composition, the number of engines/workers or the order of completion (up to the fp32
// rounding of batched GEMMs, see docs/rollout.md).
//
// Used in-process by the trainer (colocated) and by a rollout-worker loop (disaggregated):
// rollout_generate takes (query id, prompt ids) pairs and fills a flat rollout_result.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/alloc.h"
#include "core/err.h"
#include "model/model.h"
#include "rollout/sampler.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"

struct rollout_section; // core/config.h

enum rollout_finish {
    ROLLOUT_FINISH_STOP = 1,   // a stop token (kept as the last id) or a stop string
    ROLLOUT_FINISH_LENGTH = 2, // max_new_tokens, or the model's max_position_embeddings
};
// "stop" | "length"
const char *rollout_finish_name(int finish);

#define ROLLOUT_MAX_STOP       16  // stop strings
#define ROLLOUT_MAX_STOP_BYTES 128 // longest stop string

struct rollout_cfg {
    int max_new_tokens;
    struct sampler_cfg sampling;
    int n_stop; // stop strings (need a tokenizer); borrowed, copied by create
    const char *const *stop;
    int n_stop_ids; // extra stop token ids, beside the template's and the eos
    const int32_t *stop_ids;
    int64_t kv_cache_mb;     // KV-cache pool, MiB
    int max_batch_seqs;      // most sequences decoded in one step
    int block_size;          // KV positions per block (0: 16)
    int prefill_tokens;      // most prompt tokens per prefill call (0: 2048)
    bool is_prefix_unshared; // baseline/test: prefill the prompt once per sample, no fork
    bool is_batch_invariant; // GEMMs in fixed 16-row chunks: bitwise the same logits
                             // whatever the batch (default true; see docs/rollout.md)
    int plan_prompt_tokens;  // prompt length the printed plan assumes (0: 512)
    int plan_group_size;     // group size the printed plan assumes (0: 1)
};

// Defaults, then the rollout section of a config (stop strings borrowed from it; the plan's
// group size is rollout.group_size; callers may set plan_prompt_tokens from
// data.max_prompt_tokens).
void rollout_cfg_defaults(struct rollout_cfg *c);
void rollout_cfg_from_config(struct rollout_cfg *c, const struct rollout_section *r);

// What the engine allocates (bytes) and how many sequences fit in the KV pool in the worst
// case (prompts of prompt_tokens, responses of max_new_tokens, no sharing counted).
struct rollout_plan {
    int block_size, n_blocks, max_seqs_slots, n_tokens_max;
    size_t kv_bytes, acts_bytes, buffers_bytes, total_bytes;
    int seqs_fit_worst;  // min(max_batch_seqs, sequences whose worst case fits the pool)
    int seqs_fit_shared; // the same with the prompt shared by a group of G
};
int rollout_plan_compute(const struct model_shape *s, const struct rollout_cfg *c,
                         int prompt_tokens, int G, struct rollout_plan *out, struct err *e);
// One line per figure, for logs and `grpo generate --plan`.
void rollout_plan_print(const struct rollout_plan *p, const struct rollout_cfg *c, FILE *f);

struct rollout_engine;

// model, tok and chat are borrowed and must outlive the engine; tok and chat may be NULL
// (queries of token ids only; no stop strings then). ledger may be NULL. The stop ids are
// the template's stop token, the tokenizer's eos and cfg->stop_ids. A user error when the KV
// pool cannot hold one sequence of plan_prompt_tokens + max_new_tokens.
int rollout_engine_create(struct model *m, const struct tokenizer *tok,
                          const struct chat_template *chat, const struct rollout_cfg *cfg,
                          struct mem_ledger *ledger, struct rollout_engine **out, struct err *e);
void rollout_engine_destroy(struct rollout_engine **eng);
const struct rollout_plan *rollout_engine_plan(const struct rollout_engine *eng);

// A query: its id (keys the random streams) and its prompt ids (chat template applied).
struct rollout_query {
    int64_t id;
    const int32_t *ids;
    int n_ids;
};

// Appends the ids of a question rendered with the engine's chat template to out.
int rollout_encode_prompt(const struct rollout_engine *eng, const char *question,
                          struct token_ids *out, struct err *e);

// The results of one rollout_generate call as flat arrays (serialisable as they are).
// Sample s = g * G + j is sample j of query g, in the order of the queries given.
struct rollout_result {
    int n_queries, G, n_samples;
    int64_t *query_id;    // (n_queries)
    int64_t *prompt_off;  // (n_queries + 1) into prompt_ids
    int32_t *prompt_ids;  // (prompt_off[n_queries])
    int64_t *resp_off;    // (n_samples + 1) into the response arrays
    int32_t *resp_ids;    // (resp_off[n_samples]) sampled ids, stop token included
    float *logprob;       // (same) log p of each id under the distribution sampled from
    float *logprob_model; // (same) log p under the model at temperature 1 (log pi_old)
    uint8_t *finish;      // (n_samples) enum rollout_finish
    int64_t cap;          // capacity of the response arrays
};
void rollout_result_free(struct rollout_result *r);

// Counters of the engine since creation (the benchmark reads them).
struct rollout_stats {
    int64_t n_prefill_tokens, n_decode_tokens, n_decode_steps, n_samples;
    int peak_seqs;     // most sequences alive at once
    int peak_blocks;   // most KV blocks in use at once
    int peak_reserved; // most KV blocks reserved (<= n_blocks)
    double prefill_s, decode_s, sample_s, total_s;
};
const struct rollout_stats *rollout_engine_stats(const struct rollout_engine *eng);

// G samples of each of the n queries for GRPO step `step`, keyed by seed. out is filled
// (and owned by the caller: rollout_result_free). Errors: a prompt that is empty, has an id
// out of range, leaves no room before max_position_embeddings, or does not fit the KV pool
// with one response (ERR_USER, naming the query id).
int rollout_generate(struct rollout_engine *eng, const struct rollout_query *queries, int n, int G,
                     int64_t step, uint64_t seed, struct rollout_result *out, struct err *e);
