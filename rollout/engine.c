// The rollout engine's set-up: configuration, the memory plan, one allocation for all its
// buffers, and the flat result's release.
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/config.h"
#include "core/log.h"
#include "rollout/engine_internal.h"

#define DEFAULT_BLOCK_SIZE     16
#define DEFAULT_PREFILL_TOKENS 2048

const char *rollout_finish_name(int finish) {
    return finish == ROLLOUT_FINISH_STOP     ? "stop"
           : finish == ROLLOUT_FINISH_LENGTH ? "length"
                                             : "?";
}

void rollout_cfg_defaults(struct rollout_cfg *c) {
    *c = (struct rollout_cfg){.max_new_tokens = 1024,
                              .sampling = {.temperature = 1, .top_p = 1, .min_p = 0, .top_k = 0},
                              .kv_cache_mb = 1024,
                              .max_batch_seqs = 256,
                              .is_batch_invariant = true};
}

void rollout_cfg_from_config(struct rollout_cfg *c, const struct rollout_section *r) {
    rollout_cfg_defaults(c);
    c->max_new_tokens = (int)r->max_new_tokens;
    c->sampling = (struct sampler_cfg){.temperature = (float)r->temperature,
                                       .top_p = (float)r->top_p,
                                       .min_p = (float)r->min_p,
                                       .top_k = (int)r->top_k};
    c->n_stop = r->stop.n;
    c->stop = (const char *const *)r->stop.items;
    c->kv_cache_mb = r->kv_cache_mb;
    c->max_batch_seqs = (int)r->max_batch_seqs;
    c->plan_group_size = (int)r->group_size;
}

static int ceil_div(int64_t a, int64_t b) {
    return (int)((a + b - 1) / b);
}

static size_t buffers_bytes(const struct model_shape *s, int max_batch_seqs, int max_new_cap,
                            int n_threads) {
    size_t V = (size_t)s->V, B = (size_t)max_batch_seqs;
    return sizeof(float) * (B * V + V + 3 * B * (size_t)max_new_cap + 2 * (size_t)n_threads * V);
}

static int plan_compute(const struct model_shape *s, const struct rollout_cfg *c, int prompt_tokens,
                        int G, int n_threads, struct rollout_plan *p, struct err *e) {
    memset(p, 0, sizeof *p);
    TRY(sampler_cfg_check(&c->sampling, e));
    if (c->max_new_tokens < 1)
        return err_user(e, "rollout max_new_tokens '%d' must be >= 1", c->max_new_tokens);
    if (c->max_batch_seqs < 1 || c->max_batch_seqs > (1 << 20))
        return err_user(e, "rollout max_batch_seqs '%d' out of range 1..%d", c->max_batch_seqs,
                        1 << 20);
    if (c->kv_cache_mb < 1)
        return err_user(e, "rollout kv_cache_mb '%lld' must be >= 1", (long long)c->kv_cache_mb);
    if (c->block_size < 0 || c->prefill_tokens < 0)
        return err_user(e, "rollout block_size and prefill_tokens must be >= 0");
    p->block_size = c->block_size ? c->block_size : DEFAULT_BLOCK_SIZE;
    struct kv_cache_cfg one = {.n_blocks = 1, .block_size = p->block_size};
    size_t block_bytes = kv_cache_bytes(s, &one);
    int64_t n_blocks = (c->kv_cache_mb << 20) / (int64_t)block_bytes;
    if (n_blocks < 1)
        return err_user(e, "rollout kv_cache_mb '%lld' holds no KV block of %zu bytes",
                        (long long)c->kv_cache_mb, block_bytes);
    if (n_blocks > INT32_MAX) n_blocks = INT32_MAX;
    p->n_blocks = (int)n_blocks;
    p->kv_bytes = (size_t)n_blocks * block_bytes;
    p->max_seqs_slots = 2 * c->max_batch_seqs + 1; // samples, their parents, one held parent
    int prefill = c->prefill_tokens ? c->prefill_tokens : DEFAULT_PREFILL_TOKENS;
    p->n_tokens_max = prefill > c->max_batch_seqs ? prefill : c->max_batch_seqs;
    struct model_acts_cfg ac = {.n_tokens_max = p->n_tokens_max, .is_inference = true};
    p->acts_bytes = model_acts_bytes(s, &ac);
    int max_new = c->max_new_tokens < s->max_pos ? c->max_new_tokens : s->max_pos;
    p->buffers_bytes = buffers_bytes(s, c->max_batch_seqs, max_new, n_threads);
    if (c->is_batch_invariant) p->buffers_bytes += invariant_backend_bytes(s, n_threads);
    p->total_bytes = p->kv_bytes + p->acts_bytes + p->buffers_bytes;
    // Worst case of one sequence: its prompt and all but its last id in the cache.
    if (prompt_tokens < 1) prompt_tokens = 1;
    if (prompt_tokens > s->max_pos - 1) prompt_tokens = s->max_pos - 1;
    if (G < 1) G = 1;
    int bs = p->block_size, len = prompt_tokens + max_new - 1;
    if (len > s->max_pos) len = s->max_pos;
    int64_t worst = ceil_div(len, bs);
    int64_t fit = n_blocks / worst;
    p->seqs_fit_worst = (int)(fit < c->max_batch_seqs ? fit : c->max_batch_seqs);
    int64_t pb = ceil_div(prompt_tokens, bs), priv = worst - prompt_tokens / bs;
    int64_t group = pb + (int64_t)G * priv, groups = n_blocks / group;
    int64_t rem = n_blocks - groups * group, extra = 0;
    if (rem > pb && priv > 0) extra = (rem - pb) / priv < G ? (rem - pb) / priv : G;
    int64_t shared = groups * G + extra;
    if (priv == 0) shared = c->max_batch_seqs;
    p->seqs_fit_shared = (int)(shared < c->max_batch_seqs ? shared : c->max_batch_seqs);
    return 0;
}

int rollout_plan_compute(const struct model_shape *s, const struct rollout_cfg *c,
                         int prompt_tokens, int G, struct rollout_plan *out, struct err *e) {
    return plan_compute(s, c, prompt_tokens, G, omp_get_max_threads(), out, e);
}

void rollout_plan_print(const struct rollout_plan *p, const struct rollout_cfg *c, FILE *f) {
    const double mib = 1 << 20;
    fprintf(f, "rollout plan: kv cache %d blocks of %d positions, %.1f MiB\n", p->n_blocks,
            p->block_size, p->kv_bytes / mib);
    fprintf(f, "rollout plan: workspace %d tokens, %.1f MiB; buffers %.1f MiB; total %.1f MiB\n",
            p->n_tokens_max, p->acts_bytes / mib, p->buffers_bytes / mib, p->total_bytes / mib);
    fprintf(f,
            "rollout plan: sequences decoded at once: at most %d (max_batch_seqs %d); worst "
            "case fits %d unshared, %d with shared prompts\n",
            c->max_batch_seqs, c->max_batch_seqs, p->seqs_fit_worst, p->seqs_fit_shared);
}

static int engine_stops(struct rollout_engine *g, const struct rollout_cfg *c, struct err *e) {
    if (c->n_stop < 0 || c->n_stop > ROLLOUT_MAX_STOP)
        return err_user(e, "rollout stop: '%d' stop strings, at most %d", c->n_stop,
                        ROLLOUT_MAX_STOP);
    if (c->n_stop > 0 && !g->tok) return err_user(e, "rollout stop strings need a tokenizer");
    for (int i = 0; i < c->n_stop; i++) {
        size_t n = strlen(c->stop[i]);
        if (n == 0 || n > ROLLOUT_MAX_STOP_BYTES)
            return err_user(e, "rollout stop string '%s' must have 1..%d bytes", c->stop[i],
                            ROLLOUT_MAX_STOP_BYTES);
        g->stop_text[i] = xstrdup(c->stop[i]);
        g->stop_len[i] = (int)n;
    }
    g->cfg.stop = (const char *const *)g->stop_text;
    g->stop_ids = xcalloc((size_t)c->n_stop_ids + 2, sizeof(int32_t));
    int32_t cand[2] = {g->chat ? g->chat->stop_id : -1,
                       g->tok ? tokenizer_specials(g->tok).eos : -1};
    for (int i = 0; i < c->n_stop_ids + 2; i++) {
        int32_t id = i < 2 ? cand[i] : c->stop_ids[i - 2];
        if (i >= 2 && (id < 0 || id >= g->V))
            return err_user(e, "rollout stop id '%d' out of range 0..%d", id, g->V - 1);
        if (id >= 0) g->stop_ids[g->n_stop_ids++] = id;
    }
    g->cfg.stop_ids = g->stop_ids;
    g->cfg.n_stop_ids = g->n_stop_ids;
    return 0;
}

int rollout_engine_create(struct model *m, const struct tokenizer *tok,
                          const struct chat_template *chat, const struct rollout_cfg *cfg,
                          struct mem_ledger *ledger, struct rollout_engine **out, struct err *e) {
    *out = NULL;
    if (m->shape.head != MODEL_HEAD_LM) return err_user(e, "rollout needs a language model");
    struct rollout_engine *g = xcalloc(1, sizeof *g);
    int rc = 0;
    *g = (struct rollout_engine){.m = m,
                                 .tok = tok,
                                 .chat = chat,
                                 .ledger = ledger,
                                 .cfg = *cfg,
                                 .V = m->shape.V,
                                 .n_allowed = m->shape.V,
                                 .n_threads = omp_get_max_threads()};
    if (tok && tokenizer_vocab_size(tok) < g->V) g->n_allowed = tokenizer_vocab_size(tok);
    TRY_FAIL(rc, engine_stops(g, cfg, e));
    TRY_FAIL(rc,
             plan_compute(&m->shape, cfg, cfg->plan_prompt_tokens ? cfg->plan_prompt_tokens : 512,
                          cfg->plan_group_size, g->n_threads, &g->plan, e));
    if (g->plan.seqs_fit_worst < 1) {
        rc = err_user(e,
                      "rollout kv_cache_mb '%lld' cannot hold one sequence of %d prompt and %d "
                      "new tokens (%d blocks of %d positions)",
                      (long long)cfg->kv_cache_mb,
                      cfg->plan_prompt_tokens ? cfg->plan_prompt_tokens : 512, cfg->max_new_tokens,
                      g->plan.n_blocks, g->plan.block_size);
        goto fail;
    }
    g->max_new_cap =
        cfg->max_new_tokens < m->shape.max_pos ? cfg->max_new_tokens : m->shape.max_pos;
    struct kv_cache_cfg kc = {.n_blocks = g->plan.n_blocks,
                              .block_size = g->plan.block_size,
                              .max_seqs = g->plan.max_seqs_slots,
                              .max_len = m->shape.max_pos};
    TRY_FAIL(rc, kv_cache_create_on(m->be, &m->shape, &kc, ledger, &g->kv, e)); // be's memory
    struct model_acts_cfg ac = {.n_tokens_max = g->plan.n_tokens_max, .is_inference = true};
    TRY_FAIL(rc, model_acts_create(m, &ac, &g->acts, e));
    // (the batch-invariant wrapper pads on the host: CPU only for now, docs/cuda.md)
    if (cfg->is_batch_invariant && !backend_is_device(m->be))
        g->inv = invariant_backend_create(m->be, &m->shape);
    g->buf_bytes =
        g->plan.buffers_bytes - (g->inv ? invariant_backend_bytes(&m->shape, g->n_threads) : 0);
    g->buf = alloc_aligned(ledger, MEM_ROLLOUT, g->buf_bytes);
    if (!g->buf) {
        rc = err_user(e, "out of memory for %zu bytes of rollout buffers", g->buf_bytes);
        goto fail;
    }
    size_t V = (size_t)g->V, B = (size_t)cfg->max_batch_seqs, T = (size_t)g->max_new_cap;
    float *p = g->buf;
    g->logits = p, p += B * V;
    g->held = p, p += V;
    g->slot_lp = p, p += B * T;
    g->slot_lpm = p, p += B * T;
    g->slot_ids = (int32_t *)p, p += B * T;
    g->scr_w = p, p += (size_t)g->n_threads * V;
    g->scr_ids = (int32_t *)p, p += (size_t)g->n_threads * V;
    CHECK((size_t)((char *)p - (char *)g->buf) == g->buf_bytes, "rollout buffer carving");
    g->slots = xcalloc(B, sizeof *g->slots);
    g->call_seqs = xcalloc(B, sizeof *g->call_seqs);
    g->call_slot = xcalloc(B, sizeof *g->call_slot);
    g->call_tokens = xcalloc((size_t)g->plan.n_tokens_max, sizeof *g->call_tokens);
    g->call_cu = xcalloc(B + 1, sizeof *g->call_cu);
    *out = g;
    return 0;
fail:
    rollout_engine_destroy(&g);
    return rc;
}

void rollout_engine_destroy(struct rollout_engine **pg) {
    if (!pg || !*pg) return;
    struct rollout_engine *g = *pg;
    kv_cache_destroy(&g->kv);
    model_acts_destroy(g->m, &g->acts);
    if (g->buf) alloc_free(g->ledger, MEM_ROLLOUT, g->buf_bytes, (void **)&g->buf);
    for (int i = 0; i < ROLLOUT_MAX_STOP; i++) free(g->stop_text[i]);
    invariant_backend_destroy(&g->inv);
    free(g->stop_ids);
    free(g->slots);
    free(g->call_seqs);
    free(g->call_slot);
    free(g->call_tokens);
    free(g->call_cu);
    text_buf_free(&g->text);
    free(g);
    *pg = NULL;
}

const struct rollout_plan *rollout_engine_plan(const struct rollout_engine *g) {
    return &g->plan;
}

const struct rollout_stats *rollout_engine_stats(const struct rollout_engine *g) {
    return &g->stats;
}

int rollout_encode_prompt(const struct rollout_engine *g, const char *question,
                          struct token_ids *out, struct err *e) {
    if (!g->tok || !g->chat)
        return err_user(e, "a text prompt needs a tokenizer and a chat template");
    return chat_encode_prompt(g->chat, g->tok, question, out, e);
}

void rollout_result_free(struct rollout_result *r) {
    free(r->query_id);
    free(r->prompt_off);
    free(r->prompt_ids);
    free(r->resp_off);
    free(r->resp_ids);
    free(r->logprob);
    free(r->logprob_model);
    free(r->finish);
    memset(r, 0, sizeof *r);
}
