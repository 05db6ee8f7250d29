// KV-cache inference: prefill and decode are one function that appends tokens to sequences
// and returns the last position's logits (or reward score).
#include <stdlib.h>
#include <string.h>

#include "core/check.h"

#include "model/kv_cache.h"
#include "model/model_internal.h"

#define P(off) (m->params + (off))

// Runs the blocks and final norm over the new tokens; a->hn holds the normed stream.
static int infer_body(struct model *m, struct model_acts *a, struct kv_cache *c, const int *seqs,
                      const int32_t *tokens, const int32_t *cu_new, int B, int32_t *start,
                      struct err *e) {
    const struct model_shape *s = &m->shape;
    if (!a->cfg.is_inference) return err_internal(e, "model_infer needs an inference workspace");
    if (backend_is_device(m->be) != (c->dev_table != NULL))
        return err_internal(e, "kv cache and model in different memories (kv_cache_create_on)");
    if (B <= 0 || B > c->max_seqs || cu_new[0] != 0)
        return err_user(e, "inference batch of '%d' sequences out of range 1..%d", B, c->max_seqs);
    int N = cu_new[B];
    if (N > a->cfg.n_tokens_max)
        return err_user(e, "'%d' new tokens exceed the workspace capacity %d", N,
                        a->cfg.n_tokens_max);
    for (int t = 0; t < N; t++)
        if (tokens[t] < 0 || tokens[t] >= s->V)
            return err_user(e, "token id '%d' out of range 0..%d", tokens[t], s->V - 1);
    for (int b = 0; b < B; b++) {
        int id = seqs[b], n = cu_new[b + 1] - cu_new[b];
        if (id < 0 || id >= c->max_seqs || !c->seqs[id].is_used)
            return err_user(e, "sequence id '%d' is not live in the kv cache", id);
        if (n <= 0) return err_user(e, "sequence %d has no new tokens", b);
        for (int b2 = 0; b2 < b; b2++)
            if (seqs[b2] == id) return err_user(e, "sequence id '%d' appears twice", id);
        TRY(kv_seq_reserve(c, id, n, e));
        start[b] = c->seqs[id].len;
        for (int t = cu_new[b]; t < cu_new[b + 1]; t++) a->h_pos[t] = start[b] + (t - cu_new[b]);
        memcpy(c->call_table + (size_t)b * c->max_blocks_per_seq, c->seqs[id].blocks,
               sizeof(int32_t) * (size_t)c->seqs[id].n_blocks);
    }
    memcpy(a->h_tokens, tokens, sizeof(int32_t) * (size_t)N);
    memcpy(a->h_cu, cu_new, sizeof(int32_t) * (size_t)(B + 1));
    model_upload_idx(m, a); // start is h_targets: uploaded with them
    if (c->dev_table)
        backend_copy_h2d(m->be, c->dev_table, c->call_table,
                         sizeof(int32_t) * (size_t)B * c->max_blocks_per_seq);
    a->N = N;
    a->B = B;
    struct kv_view kv = {.pool = c->pool,
                         .L = c->L,
                         .Hkv = c->Hkv,
                         .D = c->D,
                         .block_size = c->block_size,
                         .max_blocks_per_seq = c->max_blocks_per_seq,
                         .block_table = c->dev_table ? c->dev_table : c->call_table};
    struct infer_args inf = {.kv = &kv, .cu_new = a->cu, .start = a->targets};
    float *x = a->resid, *y = a->resid + (size_t)N * s->C;
    m->be->ops->embedding_forward(m->be->ctx, x, P(m->embed), a->tokens, N, s->C);
    for (int l = 0; l < s->L; l++) {
        model_block_forward(m, a, &a->sets[0], l, x, y, &inf);
        float *tmp = x;
        x = y;
        y = tmp;
    }
    model_final_norm(m, a, x);
    for (int b = 0; b < B; b++) c->seqs[seqs[b]].len += cu_new[b + 1] - cu_new[b];
    // Gather each sequence's last row to the front of hn (rows b <= last row of b: in order).
    for (int b = 0; b < B; b++) // distinct rows, or the same one (no copy)
        backend_copy_d2d(m->be, a->hn + (size_t)b * s->C,
                         a->hn + (size_t)(cu_new[b + 1] - 1) * s->C, sizeof(float) * s->C);
    return 0;
}

int model_infer(struct model *m, struct model_acts *a, struct kv_cache *c, const int *seqs,
                const int32_t *tokens, const int32_t *cu_new, int B, float *logits, struct err *e) {
    if (m->shape.head != MODEL_HEAD_LM) return err_user(e, "model has no language-model head");
    int32_t *start = a->h_targets; // (B <= N) scratch for the start positions
    TRY(infer_body(m, a, c, seqs, tokens, cu_new, B, start, e));
    const struct model_shape *s = &m->shape;
    if (!backend_is_device(m->be)) {
        m->be->ops->gemm(m->be->ctx, false, true, B, s->V, s->C, 1.0f, a->hn, s->C, P(m->lm_head),
                         s->C, 0.0f, logits, s->V);
        return 0;
    }
    for (int b0 = 0; b0 < B; b0 += a->lm_chunk) { // through the logits buffer, chunk by chunk
        int n = B - b0 < a->lm_chunk ? B - b0 : a->lm_chunk;
        m->be->ops->gemm(m->be->ctx, false, true, n, s->V, s->C, 1.0f, a->hn + (size_t)b0 * s->C,
                         s->C, P(m->lm_head), s->C, 0.0f, a->logits, s->V);
        backend_copy_d2h(m->be, logits + (size_t)b0 * s->V, a->logits,
                         sizeof(float) * (size_t)n * s->V);
    }
    return 0;
}

int model_infer_score(struct model *m, struct model_acts *a, struct kv_cache *c, const int *seqs,
                      const int32_t *tokens, const int32_t *cu_new, int B, float *score,
                      struct err *e) {
    const struct model_shape *s = &m->shape;
    const struct backend_ops *op = m->be->ops;
    if (s->head == MODEL_HEAD_LM) return err_user(e, "model has no reward head");
    int32_t *start = a->h_targets;
    TRY(infer_body(m, a, c, seqs, tokens, cu_new, B, start, e));
    const struct backend *be = m->be;
    bool is_dev = backend_is_device(be);
    const float *h = a->hn;
    if (s->head == MODEL_HEAD_RM) { // score.2(relu(score.0(h)))
        float *z = a->sets[0].xn1;  // (B <= N, C) scratch
        op->gemm(m->be->ctx, false, true, B, s->C, s->C, 1.0f, a->hn, s->C, P(m->score0_w), s->C,
                 0.0f, z, s->C);
        op->bias_forward(m->be->ctx, z, P(m->score0_b), B, s->C, s->C);
        size_t nz = (size_t)B * s->C; // ReLU on the host (no kernel for it): staged on a device
        float *hz = is_dev ? xmalloc(nz * sizeof(float)) : z;
        backend_copy_d2h(be, hz, z, nz * sizeof(float));
        for (size_t i = 0; i < nz; i++) hz[i] = hz[i] > 0 ? hz[i] : 0;
        backend_copy_h2d(be, z, hz, nz * sizeof(float));
        if (is_dev) free(hz);
        h = z;
    }
    float *sc = is_dev ? a->io : score; // (B) on the device, downloaded
    op->gemm(m->be->ctx, false, true, B, 1, s->C, 1.0f, h, s->C, P(m->score2_w), s->C, 0.0f, sc, 1);
    backend_copy_d2h(be, score, sc, sizeof(float) * (size_t)B);
    if (s->head == MODEL_HEAD_RM) {
        float b2;
        backend_copy_d2h(be, &b2, P(m->score2_b), sizeof b2);
        for (int b = 0; b < B; b++) score[b] += b2;
    }
    return 0;
}
