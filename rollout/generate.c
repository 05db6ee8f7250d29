// The scheduling loop of rollout_generate: admit samples in (query, sample index) order while
// slots and the KV reservation allow, prefill each new prompt once (chunked, several prompts
// per call), fork it for its samples, then decode all live samples one token per step.
//
// KV reservation, in blocks of bs positions, for a prompt of P ids and responses of at most n:
// the prompt holds ceil(P / bs) blocks, shared; each sample may add ceil((P + n - 1) / bs) -
// floor(P / bs) private ones (its last id is never fed; a partly filled last prompt block is
// copied on its first write). A sample is admitted only when its worst case fits, so
// kv_seq_reserve can never fail during decoding.
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "core/timer.h"
#include "rollout/engine_internal.h"

struct query_state {
    int P, max_new, prompt_blocks, priv_blocks;
    int n_started, n_unfinished;
    int parent; // KV sequence holding the prompt while samples remain to fork, else -1
};

// A prefill unit: a prompt going into one KV sequence; its first-token logits serve the
// admitted samples adm[a0 .. a1) (slot indices).
struct unit {
    int q, seq, done, a0, a1;
};

// Per-call state of rollout_generate.
struct run {
    struct rollout_engine *g;
    const struct rollout_query *qs;
    int n, G;
    int64_t step;
    uint64_t seed;
    struct query_state *qi;
    struct rollout_result *out;
    int64_t *samp_start; // (n G) where a finished sample sits in the staging arrays
    int32_t *samp_len;
    int64_t n_staged;
    int next_q;       // next query to prefill
    int cur_q;        // query whose samples are being started, or -1
    int64_t reserved; // KV blocks reserved
    int n_live, n_done;
    // Scratch of max_batch_seqs entries each.
    int *adm;           // slots admitted in this round
    struct unit *units; // prompts to prefill in this round
    const float **rows; // logits row of each draw
    int *slot_of;       // slot of each draw
};

static bool is_shared(const struct run *r) {
    return !r->g->cfg.is_prefix_unshared;
}

static int64_t sample_blocks(const struct run *r, int q) {
    const struct query_state *s = &r->qi[q];
    return s->priv_blocks + (is_shared(r) ? 0 : s->prompt_blocks);
}

static void staging_reserve(struct rollout_result *o, int64_t need) {
    if (need <= o->cap) return;
    int64_t cap = o->cap ? o->cap : 1024;
    while (cap < need) cap *= 2;
    o->resp_ids = xrealloc(o->resp_ids, sizeof(int32_t) * (size_t)cap);
    o->logprob = xrealloc(o->logprob, sizeof(float) * (size_t)cap);
    o->logprob_model = xrealloc(o->logprob_model, sizeof(float) * (size_t)cap);
    o->cap = cap;
}

static void slot_finish(struct run *r, int si, int finish) {
    struct rollout_engine *g = r->g;
    struct rollout_slot *sl = &g->slots[si];
    int s = sl->q * r->G + sl->j;
    size_t T = (size_t)g->max_new_cap, off = (size_t)si * T;
    staging_reserve(r->out, r->n_staged + sl->len);
    memcpy(r->out->resp_ids + r->n_staged, g->slot_ids + off, sizeof(int32_t) * sl->len);
    memcpy(r->out->logprob + r->n_staged, g->slot_lp + off, sizeof(float) * sl->len);
    memcpy(r->out->logprob_model + r->n_staged, g->slot_lpm + off, sizeof(float) * sl->len);
    r->samp_start[s] = r->n_staged;
    r->samp_len[s] = sl->len;
    r->out->finish[s] = (uint8_t)finish;
    r->n_staged += sl->len;
    r->reserved -= sample_blocks(r, sl->q);
    if (--r->qi[sl->q].n_unfinished == 0 && is_shared(r)) r->reserved -= r->qi[sl->q].prompt_blocks;
    if (sl->seq >= 0) kv_seq_destroy(g->kv, sl->seq);
    sl->is_live = false;
    sl->seq = -1;
    r->n_live--;
    r->n_done++;
    g->stats.n_samples++;
}

// True when the response text now ends a stop string (within the last token's bytes).
static bool hits_stop_string(struct rollout_engine *g, struct rollout_slot *sl, int32_t id) {
    if (g->cfg.n_stop == 0) return false;
    struct err e;
    g->text.n = 0;
    if (tokenizer_decode(g->tok, &id, 1, 1, &g->text, &e) < 0) return false;
    char win[2 * ROLLOUT_MAX_STOP_BYTES];
    bool hit = false;
    for (size_t k = 0; k < g->text.n && !hit; k++) {
        // Append one byte at a time so the window stays bounded; test each stop at the end.
        if (sl->n_tail == ROLLOUT_MAX_STOP_BYTES) {
            memmove(sl->tail, sl->tail + 1, ROLLOUT_MAX_STOP_BYTES - 1);
            sl->n_tail--;
        }
        sl->tail[sl->n_tail++] = g->text.s[k];
        memcpy(win, sl->tail, (size_t)sl->n_tail);
        for (int i = 0; i < g->cfg.n_stop && !hit; i++) {
            int L = g->stop_len[i];
            hit = L <= sl->n_tail && !memcmp(win + sl->n_tail - L, g->stop_text[i], (size_t)L);
        }
    }
    return hit;
}

// Draws the next id of each slot in sl_idx from rows[i] (in parallel; each draw is a pure
// function of its logits and its key), then records them and finishes samples that end.
static void sample_rows(struct run *r, const float *const *rows, const int *sl_idx, int count) {
    struct rollout_engine *g = r->g;
    double t0 = time_now_s();
    size_t T = (size_t)g->max_new_cap;
#pragma omp parallel for schedule(dynamic, 1) num_threads(g->n_threads)
    for (int i = 0; i < count; i++) {
        struct rollout_slot *sl = &g->slots[sl_idx[i]];
        int tid = omp_get_thread_num();
        struct sampler_scratch sc = {g->scr_w + (size_t)tid * g->V,
                                     g->scr_ids + (size_t)tid * g->V};
        uint64_t stream = rng_stream_id(RNG_SAMPLE, (uint64_t)r->step, (uint64_t)r->qs[sl->q].id,
                                        (uint64_t)sl->j);
        uint32_t w[4];
        rng(w, r->seed, stream, (uint64_t)sl->len);
        struct sampler_out o;
        sampler_sample(&g->cfg.sampling, rows[i], g->V, g->n_allowed,
                       rng_u64_to_unit_f64(w[0], w[1]), &sc, &o);
        size_t at = (size_t)sl_idx[i] * T + (size_t)sl->len;
        g->slot_ids[at] = o.token;
        g->slot_lp[at] = o.logprob;
        g->slot_lpm[at] = o.logprob_model;
    }
    g->stats.sample_s += time_now_s() - t0;
    for (int i = 0; i < count; i++) {
        struct rollout_slot *sl = &g->slots[sl_idx[i]];
        int32_t id = g->slot_ids[(size_t)sl_idx[i] * T + (size_t)sl->len];
        sl->len++;
        sl->next = id;
        bool is_stop = false;
        for (int k = 0; k < g->n_stop_ids && !is_stop; k++) is_stop = id == g->stop_ids[k];
        if (is_stop || hits_stop_string(g, sl, id))
            slot_finish(r, sl_idx[i], ROLLOUT_FINISH_STOP);
        else if (sl->len >= sl->max_new)
            slot_finish(r, sl_idx[i], ROLLOUT_FINISH_LENGTH);
    }
}

static int infer(struct run *r, int B, bool is_prefill, double *stat_s, struct err *e) {
    struct rollout_engine *g = r->g;
    if (g->inv) g->inv->rows = is_prefill ? INVARIANT_ROWS_PREFILL : INVARIANT_ROWS_DECODE;
    double t0 = time_now_s();
    int rc = model_infer(&g->view, g->acts, g->kv, g->call_seqs, g->call_tokens, g->call_cu, B,
                         g->logits, e);
    *stat_s += time_now_s() - t0;
    int used = g->kv->n_blocks - g->kv->n_free;
    if (used > g->stats.peak_blocks) g->stats.peak_blocks = used;
    return rc < 0 ? err_prefix(e, "rollout: ") : 0;
}

// Forks (shared mode) the admitted samples of unit u from its prompt and draws their first
// ids from row; releases the prompt's sequence when all G samples have started.
static int start_samples(struct run *r, const struct unit *u, const int *adm, const float *row,
                         struct err *e) {
    struct rollout_engine *g = r->g;
    struct query_state *qs = &r->qi[u->q];
    const float **rows = r->rows;
    for (int a = u->a0; a < u->a1; a++) {
        struct rollout_slot *sl = &g->slots[adm[a]];
        if (is_shared(r)) TRY(kv_seq_fork(g->kv, u->seq, &sl->seq, e));
        rows[a - u->a0] = row;
    }
    if (is_shared(r) && qs->n_started == r->G) {
        kv_seq_destroy(g->kv, qs->parent);
        qs->parent = -1;
    } else if (is_shared(r) && row != g->held) {
        memcpy(g->held, row, sizeof(float) * (size_t)g->V);
    }
    sample_rows(r, rows, adm + u->a0, u->a1 - u->a0);
    return 0;
}

// Prefills units[0 .. n_units) in calls of at most n_tokens_max ids and max_batch_seqs
// pieces, starting each unit's samples as soon as its prompt is complete.
static int prefill(struct run *r, struct unit *units, int n_units, const int *adm, struct err *e) {
    struct rollout_engine *g = r->g;
    int k = 0, max_rows = g->cfg.max_batch_seqs;
    int *piece = g->call_slot; // unit of each piece
    while (k < n_units) {
        int B = 0, N = 0;
        g->call_cu[0] = 0;
        for (int u = k; u < n_units && B < max_rows && N < g->plan.n_tokens_max; u++) {
            const struct rollout_query *q = &r->qs[units[u].q];
            int take = q->n_ids - units[u].done;
            if (take > g->plan.n_tokens_max - N) take = g->plan.n_tokens_max - N;
            memcpy(g->call_tokens + N, q->ids + units[u].done, sizeof(int32_t) * (size_t)take);
            units[u].done += take;
            N += take;
            g->call_seqs[B] = units[u].seq;
            piece[B++] = u;
            g->call_cu[B] = N;
        }
        TRY(infer(r, B, true, &g->stats.prefill_s, e));
        g->stats.n_prefill_tokens += N;
        // Rows of the logits buffer are read before the next call overwrites them.
        for (int b = 0; b < B; b++) {
            struct unit *u = &units[piece[b]];
            if (u->done == r->qs[u->q].n_ids)
                TRY(start_samples(r, u, adm, g->logits + (size_t)b * g->V, e));
        }
        while (k < n_units && units[k].done == r->qs[units[k].q].n_ids) k++;
    }
    return 0;
}

static int free_slot(const struct rollout_engine *g) {
    for (int i = 0; i < g->cfg.max_batch_seqs; i++)
        if (!g->slots[i].is_live) return i;
    CHECK(0, "no free rollout slot");
    return -1;
}

// Fills free slots from the queue, as far as the KV reservation allows.
static int admit(struct run *r, struct err *e) {
    struct rollout_engine *g = r->g;
    int B = g->cfg.max_batch_seqs, n_adm = 0, n_units = 0, *adm = r->adm;
    struct unit *units = r->units;
    struct unit carried = {.q = -1}; // samples of a group started in an earlier round
    while (r->n_live < B) {
        bool is_new = r->cur_q < 0 || r->qi[r->cur_q].n_started == r->G;
        if (is_new && r->next_q >= r->n) break;
        int q = is_new ? r->next_q : r->cur_q;
        struct query_state *qs = &r->qi[q];
        int64_t need = sample_blocks(r, q) + (is_new && is_shared(r) ? qs->prompt_blocks : 0);
        if (r->reserved + need > g->plan.n_blocks) break;
        r->reserved += need;
        int si = free_slot(g);
        struct rollout_slot *sl = &g->slots[si];
        *sl = (struct rollout_slot){
            .is_live = true, .seq = -1, .q = q, .j = qs->n_started, .max_new = qs->max_new};
        r->n_live++;
        adm[n_adm] = si;
        if (is_new) {
            r->cur_q = q;
            r->next_q++;
        }
        qs->n_started++;
        if (!is_shared(r)) { // one unit per sample, prefilled into its own sequence
            TRY(kv_seq_create(g->kv, &sl->seq, e));
            units[n_units++] = (struct unit){.q = q, .seq = sl->seq, .a0 = n_adm, .a1 = n_adm + 1};
        } else if (is_new) {
            TRY(kv_seq_create(g->kv, &qs->parent, e));
            units[n_units++] =
                (struct unit){.q = q, .seq = qs->parent, .a0 = n_adm, .a1 = n_adm + 1};
        } else if (n_units > 0 && units[n_units - 1].q == q) {
            units[n_units - 1].a1 = n_adm + 1;
        } else {
            if (carried.q < 0) carried = (struct unit){.q = q, .seq = qs->parent, .a0 = n_adm};
            carried.a1 = n_adm + 1;
        }
        n_adm++;
    }
    if (carried.q >= 0) TRY(start_samples(r, &carried, adm, g->held, e));
    if (n_units > 0) TRY(prefill(r, units, n_units, adm, e));
    if (r->n_live > g->stats.peak_seqs) g->stats.peak_seqs = r->n_live;
    if (r->reserved > g->stats.peak_reserved) g->stats.peak_reserved = (int)r->reserved;
    return 0;
}

// One batched decode step over all live samples.
static int decode(struct run *r, struct err *e) {
    struct rollout_engine *g = r->g;
    int B = 0;
    g->call_cu[0] = 0;
    for (int i = 0; i < g->cfg.max_batch_seqs; i++) {
        const struct rollout_slot *sl = &g->slots[i];
        if (!sl->is_live) continue;
        g->call_seqs[B] = sl->seq;
        g->call_tokens[B] = sl->next;
        g->call_slot[B] = i;
        B++;
        g->call_cu[B] = B;
    }
    TRY(infer(r, B, false, &g->stats.decode_s, e));
    g->stats.n_decode_tokens += B;
    g->stats.n_decode_steps++;
    for (int b = 0; b < B; b++) {
        r->rows[b] = g->logits + (size_t)b * g->V;
        r->slot_of[b] = g->call_slot[b];
    }
    sample_rows(r, r->rows, r->slot_of, B);
    return 0;
}

// Validates the queries and fills their reservation figures.
static int plan_queries(struct run *r, struct err *e) {
    struct rollout_engine *g = r->g;
    int bs = g->plan.block_size, max_pos = g->m->shape.max_pos;
    for (int q = 0; q < r->n; q++) {
        const struct rollout_query *x = &r->qs[q];
        long long id = (long long)x->id;
        if (x->n_ids < 1) return err_user(e, "query '%lld': empty prompt", id);
        if (x->n_ids >= max_pos)
            return err_user(e,
                            "query '%lld': prompt of %d ids leaves no room for a response "
                            "(max_position_embeddings %d)",
                            id, x->n_ids, max_pos);
        for (int t = 0; t < x->n_ids; t++)
            if (x->ids[t] < 0 || x->ids[t] >= g->V)
                return err_user(e, "query '%lld': prompt id '%d' out of range 0..%d", id, x->ids[t],
                                g->V - 1);
        struct query_state *s = &r->qi[q];
        int P = x->n_ids;
        s->P = P;
        s->max_new = g->max_new_cap < max_pos - P ? g->max_new_cap : max_pos - P;
        s->prompt_blocks = (P + bs - 1) / bs;
        s->priv_blocks = (P + s->max_new - 1 + bs - 1) / bs - P / bs;
        s->n_unfinished = r->G;
        s->parent = -1;
        if (s->prompt_blocks + s->priv_blocks > g->plan.n_blocks)
            return err_user(e,
                            "query '%lld': a prompt of %d ids and a response of %d need %d KV "
                            "blocks, the pool has %d (raise rollout.kv_cache_mb)",
                            id, P, s->max_new, s->prompt_blocks + s->priv_blocks, g->plan.n_blocks);
    }
    return 0;
}

// Copies the staged samples into (query, sample index) order.
static void result_order(struct run *r) {
    struct rollout_result *o = r->out;
    int S = o->n_samples;
    o->resp_off = xcalloc((size_t)S + 1, sizeof(int64_t));
    for (int s = 0; s < S; s++) o->resp_off[s + 1] = o->resp_off[s] + r->samp_len[s];
    int64_t N = o->resp_off[S];
    int32_t *ids = xcalloc((size_t)N + 1, sizeof(int32_t));
    float *lp = xcalloc((size_t)N + 1, sizeof(float)), *lpm = xcalloc((size_t)N + 1, sizeof(float));
    for (int s = 0; s < S; s++) {
        size_t n = (size_t)r->samp_len[s], from = (size_t)r->samp_start[s], to = o->resp_off[s];
        memcpy(ids + to, o->resp_ids + from, sizeof(int32_t) * n);
        memcpy(lp + to, o->logprob + from, sizeof(float) * n);
        memcpy(lpm + to, o->logprob_model + from, sizeof(float) * n);
    }
    free(o->resp_ids);
    free(o->logprob);
    free(o->logprob_model);
    o->resp_ids = ids;
    o->logprob = lp;
    o->logprob_model = lpm;
    o->cap = N;
}

static void result_init(struct run *r) {
    struct rollout_result *o = r->out;
    memset(o, 0, sizeof *o);
    o->n_queries = r->n;
    o->G = r->G;
    o->n_samples = r->n * r->G;
    o->query_id = xcalloc((size_t)r->n + 1, sizeof(int64_t));
    o->prompt_off = xcalloc((size_t)r->n + 1, sizeof(int64_t));
    for (int q = 0; q < r->n; q++) {
        o->query_id[q] = r->qs[q].id;
        o->prompt_off[q + 1] = o->prompt_off[q] + (r->qs[q].n_ids > 0 ? r->qs[q].n_ids : 0);
    }
    o->prompt_ids = xcalloc((size_t)o->prompt_off[r->n] + 1, sizeof(int32_t));
    for (int q = 0; q < r->n; q++)
        if (r->qs[q].n_ids > 0)
            memcpy(o->prompt_ids + o->prompt_off[q], r->qs[q].ids,
                   sizeof(int32_t) * (size_t)r->qs[q].n_ids);
    o->finish = xcalloc((size_t)o->n_samples + 1, 1);
}

int rollout_generate(struct rollout_engine *g, const struct rollout_query *queries, int n, int G,
                     int64_t step, uint64_t seed, struct rollout_result *out, struct err *e) {
    if (n < 0 || G < 1 || (int64_t)n * G > INT32_MAX)
        return err_user(e, "rollout: '%d' queries of '%d' samples out of range", n, G);
    double t0 = time_now_s();
    g->view = *g->m; // the weights as they are now, through the invariant backend if any
    if (g->inv) g->view.be = &g->inv->be;
    struct run r = {
        .g = g, .qs = queries, .n = n, .G = G, .step = step, .seed = seed, .out = out, .cur_q = -1};
    r.qi = xcalloc((size_t)n + 1, sizeof *r.qi);
    r.samp_start = xcalloc((size_t)n * G + 1, sizeof *r.samp_start);
    r.samp_len = xcalloc((size_t)n * G + 1, sizeof *r.samp_len);
    size_t B = (size_t)g->cfg.max_batch_seqs;
    r.adm = xcalloc(B, sizeof *r.adm);
    r.units = xcalloc(B, sizeof *r.units);
    r.rows = xcalloc(B, sizeof *r.rows);
    r.slot_of = xcalloc(B, sizeof *r.slot_of);
    result_init(&r);
    int rc = 0;
    TRY_FAIL(rc, plan_queries(&r, e));
    while (r.n_done < n * G) {
        TRY_FAIL(rc, admit(&r, e));
        if (r.n_live > 0)
            TRY_FAIL(rc, decode(&r, e));
        else if (r.n_done < n * G) {
            rc = err_internal(e, "rollout: no sample could be admitted");
            goto fail;
        }
    }
    result_order(&r);
fail:
    if (rc < 0) { // leave the engine reusable
        for (int i = 0; i < g->kv->max_seqs; i++) kv_seq_destroy(g->kv, i);
        for (int i = 0; i < g->cfg.max_batch_seqs; i++) g->slots[i].is_live = false;
        rollout_result_free(out);
    }
    g->stats.total_s += time_now_s() - t0;
    free(r.qi);
    free(r.samp_start);
    free(r.samp_len);
    free(r.adm);
    free(r.units);
    free(r.rows);
    free(r.slot_of);
    return rc;
}
