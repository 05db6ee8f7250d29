// Scoring rollouts, and the wire format of scored groups.
#include "trainer/scored.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "tokenizer/tokenizer.h"

void scored_groups_free(struct scored_groups *s) {
    rollout_result_free(&s->ro);
    free(s->reward);
    free(s->r_m);
    free(s->r_overlong);
    free(s->flags);
    free(s->version);
    memset(s, 0, sizeof *s);
}

int scored_groups_score(struct scored_groups *s, const struct tokenizer *tok,
                        struct reward_verifier *v, const struct reward_shaping_opts *shaping,
                        const char *const *gold, const float *r_m, struct err *e) {
    const struct rollout_result *ro = &s->ro;
    size_t ns = (size_t)ro->n_samples + 1;
    s->reward = xrealloc(s->reward, ns * sizeof(float));
    s->r_m = xrealloc(s->r_m, ns * sizeof(float));
    s->r_overlong = xrealloc(s->r_overlong, ns * sizeof(float));
    s->flags = xrealloc(s->flags, ns);
    struct text_buf text = {0};
    int rc = 0;
    for (int i = 0; i < ro->n_samples; i++) {
        int64_t a = ro->resp_off[i], b = ro->resp_off[i + 1];
        text.n = 0;
        TRY_FAIL(rc, tokenizer_decode(tok, ro->resp_ids + a, (size_t)(b - a), 1, &text, e));
        const char *g = gold[i / ro->G];
        struct reward_request req = {.query_id = (uint64_t)ro->query_id[i / ro->G],
                                     .sample_index = (uint32_t)(i % ro->G),
                                     .response = text.n ? text.s : "",
                                     .n_response = text.n,
                                     .gold = g,
                                     .n_gold = strlen(g),
                                     .n_tokens = (int)(b - a)};
        struct reward_verdict verdict;
        struct reward_components comp;
        double rm = r_m ? r_m[i] : 0.0;
        reward_score(v, shaping, &req, r_m ? &rm : NULL, &verdict, &comp);
        s->reward[i] = (float)comp.r;
        s->r_m[i] = (float)comp.r_m;
        s->r_overlong[i] = (float)comp.r_overlong;
        s->flags[i] = (uint8_t)((verdict.is_correct ? SCORED_CORRECT : 0) |
                                (verdict.is_no_answer ? SCORED_NO_ANSWER : 0) |
                                (verdict.is_budget_exceeded ? SCORED_BUDGET : 0) |
                                (comp.has_rm ? SCORED_HAS_RM : 0));
    }
fail:
    text_buf_free(&text);
    return rc;
}

// Wire format: int64 header (magic, wire version, n_queries, G, n_samples, n_prompt_ids,
// n_resp_ids), then the arrays in a fixed order, then the two worker timings. Ranks of one
// job share the ABI, so the arrays travel as they are in memory.
#define N_HEADER   7
#define WIRE_MAGIC INT64_C(0x445243534f505247) // the bytes "GRPOSCRD" on little-endian ranks

struct field {
    void *p;
    size_t n_bytes;
};

#define N_FIELDS 13

static void fields_of(struct scored_groups *s, const int64_t *h, struct field f[N_FIELDS]) {
    struct rollout_result *ro = &s->ro;
    int64_t nq = h[2], ns = h[4], np = h[5], nr = h[6];
    const struct field list[N_FIELDS] = {
        {&ro->query_id, (size_t)nq * sizeof(int64_t)},
        {&s->version, (size_t)nq * sizeof(int64_t)},
        {&ro->prompt_off, (size_t)(nq + 1) * sizeof(int64_t)},
        {&ro->prompt_ids, (size_t)np * sizeof(int32_t)},
        {&ro->resp_off, (size_t)(ns + 1) * sizeof(int64_t)},
        {&ro->resp_ids, (size_t)nr * sizeof(int32_t)},
        {&ro->logprob, (size_t)nr * sizeof(float)},
        {&ro->logprob_model, (size_t)nr * sizeof(float)},
        {&ro->finish, (size_t)ns},
        {&s->reward, (size_t)ns * sizeof(float)},
        {&s->r_m, (size_t)ns * sizeof(float)},
        {&s->r_overlong, (size_t)ns * sizeof(float)},
        {&s->flags, (size_t)ns},
    };
    memcpy(f, list, sizeof list);
}

void *scored_groups_pack(const struct scored_groups *s, size_t *n_bytes) {
    const struct rollout_result *ro = &s->ro;
    int64_t h[N_HEADER] = {WIRE_MAGIC,
                           SCORED_WIRE_VERSION,
                           ro->n_queries,
                           ro->G,
                           ro->n_samples,
                           ro->prompt_off[ro->n_queries],
                           ro->resp_off[ro->n_samples]};
    struct field f[N_FIELDS];
    fields_of((struct scored_groups *)s, h, f);
    const int n = N_FIELDS;
    double trailer[2] = {s->seconds_rollout, s->seconds_reward};
    size_t total = sizeof h + sizeof trailer;
    for (int i = 0; i < n; i++) total += f[i].n_bytes;
    char *buf = xmalloc(total), *p = buf;
    memcpy(p, h, sizeof h);
    p += sizeof h;
    for (int i = 0; i < n; i++) {
        // Groups not scored yet (rollout -> reward) travel with zero rewards.
        void *src = *(void **)f[i].p;
        if (f[i].n_bytes && src)
            memcpy(p, src, f[i].n_bytes);
        else if (f[i].n_bytes)
            memset(p, 0, f[i].n_bytes);
        p += f[i].n_bytes;
    }
    memcpy(p, trailer, sizeof trailer);
    *n_bytes = total;
    return buf;
}

int scored_groups_unpack(struct scored_groups *s, const void *buf, size_t n_bytes, struct err *e) {
    memset(s, 0, sizeof *s);
    int64_t h[N_HEADER];
    if (n_bytes < sizeof h) return err_internal(e, "scored groups message of %zu bytes", n_bytes);
    memcpy(h, buf, sizeof h);
    if (h[0] != WIRE_MAGIC) return err_internal(e, "scored groups message without its magic");
    if (h[1] != SCORED_WIRE_VERSION)
        return err_internal(e,
                            "scored groups message of wire version %lld; this build reads "
                            "version %d (every rank must run the same grpo)",
                            (long long)h[1], SCORED_WIRE_VERSION);
    if (h[2] < 0 || h[3] < 1 || h[4] != h[2] * h[3] || h[5] < 0 || h[6] < 0)
        return err_internal(e, "scored groups message with a bad header");
    struct field f[N_FIELDS];
    fields_of(s, h, f);
    const int n = N_FIELDS;
    double trailer[2];
    size_t total = sizeof h + sizeof trailer;
    for (int i = 0; i < n; i++) total += f[i].n_bytes;
    if (total != n_bytes)
        return err_internal(e, "scored groups message: %zu bytes, expected %zu", n_bytes, total);
    const char *p = (const char *)buf + sizeof h;
    for (int i = 0; i < n; i++) {
        void *dst = xmalloc(f[i].n_bytes ? f[i].n_bytes : 1);
        memcpy(dst, p, f[i].n_bytes);
        *(void **)f[i].p = dst;
        p += f[i].n_bytes;
    }
    memcpy(trailer, p, sizeof trailer);
    s->seconds_rollout = trailer[0];
    s->seconds_reward = trailer[1];
    s->ro.n_queries = (int)h[2];
    s->ro.G = (int)h[3];
    s->ro.n_samples = (int)h[4];
    s->ro.cap = h[6];
    return 0;
}

static void *dup_bytes(const void *p, size_t n) {
    void *d = xmalloc(n ? n : 1);
    if (n) memcpy(d, p, n);
    return d;
}

void scored_groups_slice(struct scored_groups *dst, const struct scored_groups *src, int q0,
                         int q1) {
    const struct rollout_result *s = &src->ro;
    struct rollout_result *d = &dst->ro;
    memset(dst, 0, sizeof *dst);
    int G = s->G, nq = q1 - q0, i0 = q0 * G, i1 = q1 * G;
    d->n_queries = nq;
    d->G = G;
    d->n_samples = nq * G;
    d->query_id = dup_bytes(s->query_id + q0, (size_t)nq * sizeof(int64_t));
    dst->version = dup_bytes(src->version + q0, (size_t)nq * sizeof(int64_t));
    int64_t p0 = s->prompt_off[q0], p1 = s->prompt_off[q1];
    d->prompt_off = xmalloc((size_t)(nq + 1) * sizeof(int64_t));
    for (int q = 0; q <= nq; q++) d->prompt_off[q] = s->prompt_off[q0 + q] - p0;
    d->prompt_ids = dup_bytes(s->prompt_ids + p0, (size_t)(p1 - p0) * sizeof(int32_t));
    int64_t r0 = s->resp_off[i0], r1 = s->resp_off[i1];
    d->resp_off = xmalloc((size_t)(d->n_samples + 1) * sizeof(int64_t));
    for (int i = 0; i <= d->n_samples; i++) d->resp_off[i] = s->resp_off[i0 + i] - r0;
    d->resp_ids = dup_bytes(s->resp_ids + r0, (size_t)(r1 - r0) * sizeof(int32_t));
    d->logprob = dup_bytes(s->logprob + r0, (size_t)(r1 - r0) * sizeof(float));
    d->logprob_model = dup_bytes(s->logprob_model + r0, (size_t)(r1 - r0) * sizeof(float));
    d->finish = dup_bytes(s->finish + i0, (size_t)(i1 - i0));
    d->cap = r1 - r0;
    dst->reward = dup_bytes(src->reward + i0, (size_t)(i1 - i0) * sizeof(float));
    dst->r_m = dup_bytes(src->r_m + i0, (size_t)(i1 - i0) * sizeof(float));
    dst->r_overlong = dup_bytes(src->r_overlong + i0, (size_t)(i1 - i0) * sizeof(float));
    dst->flags = dup_bytes(src->flags + i0, (size_t)(i1 - i0));
    // Each learner gets a share of the work; the times are per worker, not per slice.
    dst->seconds_rollout = src->seconds_rollout;
    dst->seconds_reward = src->seconds_reward;
}

// dst_field (n_old elements) grows by n_add elements copied from `from`.
#define APPEND(dst_field, type, n_old, n_add, from)                                                \
    do {                                                                                           \
        dst_field = xrealloc(dst_field, ((size_t)(n_old) + (size_t)(n_add)) * sizeof(type) + 1);   \
        if (n_add) memcpy(dst_field + (n_old), (from), (size_t)(n_add) * sizeof(type));            \
    } while (0)

void scored_groups_append(struct scored_groups *dst, const struct scored_groups *src) {
    struct rollout_result *d = &dst->ro;
    const struct rollout_result *s = &src->ro;
    if (d->n_queries == 0 && !d->prompt_off) {
        d->G = s->G;
        d->prompt_off = xcalloc(1, sizeof(int64_t));
        d->resp_off = xcalloc(1, sizeof(int64_t));
    }
    CHECK(d->G == s->G, "appending groups of %d to groups of %d", s->G, d->G);
    int nq = d->n_queries, ns = d->n_samples;
    int64_t np = d->prompt_off[nq], nr = d->resp_off[ns];
    int64_t sp = s->prompt_off[s->n_queries], sr = s->resp_off[s->n_samples];
    APPEND(d->query_id, int64_t, nq, s->n_queries, s->query_id);
    APPEND(dst->version, int64_t, nq, s->n_queries, src->version);
    APPEND(d->prompt_ids, int32_t, np, sp, s->prompt_ids);
    APPEND(d->resp_ids, int32_t, nr, sr, s->resp_ids);
    APPEND(d->logprob, float, nr, sr, s->logprob);
    APPEND(d->logprob_model, float, nr, sr, s->logprob_model);
    APPEND(d->finish, uint8_t, ns, s->n_samples, s->finish);
    d->prompt_off = xrealloc(d->prompt_off, (size_t)(nq + s->n_queries + 1) * sizeof(int64_t));
    for (int q = 1; q <= s->n_queries; q++) d->prompt_off[nq + q] = np + s->prompt_off[q];
    d->resp_off = xrealloc(d->resp_off, (size_t)(ns + s->n_samples + 1) * sizeof(int64_t));
    for (int i = 1; i <= s->n_samples; i++) d->resp_off[ns + i] = nr + s->resp_off[i];
    APPEND(dst->reward, float, ns, s->n_samples, src->reward);
    APPEND(dst->r_m, float, ns, s->n_samples, src->r_m);
    APPEND(dst->r_overlong, float, ns, s->n_samples, src->r_overlong);
    APPEND(dst->flags, uint8_t, ns, s->n_samples, src->flags);
    d->n_queries += s->n_queries;
    d->n_samples += s->n_samples;
    d->cap = nr + sr;
    if (src->seconds_rollout > dst->seconds_rollout) dst->seconds_rollout = src->seconds_rollout;
    if (src->seconds_reward > dst->seconds_reward) dst->seconds_reward = src->seconds_reward;
}
