// Training forward and backward over packed sequences, the activation workspace and the
// memory plan. The LM head is applied in chunks of lm_chunk tokens, so no (N,V) logits
// tensor exists; backward recomputes each chunk's logits.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/log.h"
#include "model/model_internal.h"

#define P(off) (m->params + (off))
#define G(off) (m->grads + (off))

// ---- workspace carving: the same walk counts bytes (base NULL) and assigns pointers ----

struct carve {
    char *base;
    size_t off;
};

static void *carve(struct carve *c, size_t n_elems, size_t elem_size) {
    void *p = c->base ? c->base + c->off : NULL;
    c->off += (n_elems * elem_size + 63) / 64 * 64;
    return p;
}
#define CF(c, n) ((float *)carve((c), (n), sizeof(float)))

static int lm_chunk_of(const struct model_shape *s, const struct model_acts_cfg *cfg) {
    // automatic: about 128 MiB of logits, so that a micro-batch of about 1,000 tokens over a
    // 32k vocabulary is one chunk (its logits computed once: backward recomputes all chunks
    // but the last one)
    int ch = cfg->lm_chunk > 0 ? cfg->lm_chunk : (int)((128u << 20) / sizeof(float) / (size_t)s->V);
    if (ch < 1) ch = 1;
    if (ch > cfg->n_tokens_max) ch = cfg->n_tokens_max;
    return ch;
}

static void acts_layout(const struct model_shape *s, const struct model_acts_cfg *cfg,
                        struct model_acts *a, struct carve *c) {
    size_t N = (size_t)cfg->n_tokens_max, C = s->C, Q = (size_t)(s->H + 2 * s->Hkv) * s->D;
    size_t HD = (size_t)s->H * s->D, F = s->F;
    bool is_train = !cfg->is_inference;
    a->n_sets = cfg->is_recompute || cfg->is_inference ? 1 : s->L;
    a->n_resid = is_train ? s->L + 1 : 2;
    a->lm_chunk = lm_chunk_of(s, cfg);
    a->tokens = carve(c, N, sizeof(int32_t));
    a->targets = carve(c, N, sizeof(int32_t));
    a->pos = carve(c, N, sizeof(int32_t));
    a->cu = carve(c, N + 1, sizeof(int32_t));
    a->resid = CF(c, (size_t)a->n_resid * N * C);
    for (int i = 0; i < a->n_sets; i++) {
        struct block_acts ba = {.xn1 = CF(c, N * C),
                                .rstd1 = CF(c, N),
                                .qkv = CF(c, N * Q),
                                .att = CF(c, N * HD),
                                .lse = CF(c, N * s->H),
                                .hmid = CF(c, N * C),
                                .xn2 = CF(c, N * C),
                                .rstd2 = CF(c, N),
                                .gu = CF(c, N * 2 * F)};
        if (a->sets) a->sets[i] = ba;
    }
    a->rstdf = CF(c, N);
    a->hn = CF(c, N * C);
    a->lse_out = CF(c, N);
    a->ent_out = CF(c, N);
    a->act = CF(c, N * F);
    if (is_train) {
        a->dres = CF(c, N * C);
        a->dx = CF(c, N * C);
        a->dxn = CF(c, N * C);
        a->dqkv = CF(c, N * Q);
        a->datt = CF(c, N * HD);
        a->dgu = CF(c, N * 2 * F);
        a->dact = CF(c, N * F);
    }
    a->logits = CF(c, (size_t)a->lm_chunk * s->V);
}

size_t model_acts_bytes(const struct model_shape *s, const struct model_acts_cfg *cfg) {
    struct model_acts a = {0};
    struct carve c = {0};
    acts_layout(s, cfg, &a, &c);
    return c.off;
}

int model_acts_create(const struct model *m, const struct model_acts_cfg *cfg,
                      struct model_acts **out, struct err *e) {
    *out = NULL;
    if (cfg->n_tokens_max <= 0)
        return err_user(e, "token capacity '%d' must be positive", cfg->n_tokens_max);
    if (!(cfg->temperature >= 0) || (cfg->temperature > 0 && cfg->temperature < 1e-3f))
        return err_user(e, "temperature '%g' must be 0 (none) or at least 0.001", cfg->temperature);
    struct model_acts *a = xcalloc(1, sizeof *a);
    a->cfg = *cfg;
    a->inv_temperature = cfg->temperature > 0 ? 1.0f / cfg->temperature : 1.0f;
    a->sets =
        xcalloc((size_t)(cfg->is_recompute || cfg->is_inference ? 1 : m->shape.L), sizeof *a->sets);
    a->n_bytes = model_acts_bytes(&m->shape, cfg);
    a->buf = backend_alloc(m->be, m->ledger, MEM_ACTS, a->n_bytes);
    bool is_dev = backend_is_device(m->be);
    size_t n_io = 3 * (size_t)cfg->n_tokens_max * sizeof(float);
    if (a->buf && is_dev) a->io = backend_alloc(m->be, m->ledger, MEM_OTHER, n_io);
    if (!a->buf || (is_dev && !a->io)) {
        size_t n = a->n_bytes;
        model_acts_destroy(m, &a);
        return err_user(e, "out of memory for %zu bytes of activations", n);
    }
    struct carve c = {.base = a->buf};
    acts_layout(&m->shape, cfg, a, &c);
    CHECK(c.off == a->n_bytes, "activation layout changed");
    a->idx_bytes = (size_t)((char *)a->resid - (char *)a->buf);
    a->h_tokens = a->tokens, a->h_targets = a->targets, a->h_pos = a->pos, a->h_cu = a->cu;
    if (is_dev) { // the host copy of the index arrays, carved alike
        struct model_acts h = {0};
        a->hidx = alloc_aligned(NULL, MEM_OTHER, a->idx_bytes); // only the index arrays
        if (!a->hidx) {
            model_acts_destroy(m, &a);
            return err_user(e, "out of memory for the host copy of the batch's index arrays");
        }
        struct carve hc = {.base = a->hidx};
        h.sets = xcalloc((size_t)a->n_sets, sizeof *h.sets);
        acts_layout(&m->shape, cfg, &h, &hc);
        free(h.sets);
        a->h_tokens = h.tokens, a->h_targets = h.targets, a->h_pos = h.pos, a->h_cu = h.cu;
    }
    *out = a;
    return 0;
}

void model_upload_idx(const struct model *m, struct model_acts *a) {
    backend_copy_h2d(m->be, a->tokens, a->h_tokens, a->idx_bytes);
}

void model_acts_destroy(const struct model *m, struct model_acts **pa) {
    if (!pa || !*pa) return;
    struct model_acts *a = *pa;
    backend_free(m->be, m->ledger, MEM_ACTS, a->n_bytes, &a->buf);
    backend_free(m->be, m->ledger, MEM_OTHER, 3 * (size_t)a->cfg.n_tokens_max * sizeof(float),
                 (void **)&a->io);
    free(a->hidx);
    free(a->sets);
    free(a);
    *pa = NULL;
}

void model_mem_plan(const struct model_shape *s, const struct model_acts_cfg *cfg, bool has_optim,
                    struct model_mem_plan *out) {
    out->params = model_params_bytes(s);
    out->grads = cfg && !cfg->is_inference ? out->params : 0;
    out->moments = has_optim ? 2 * out->params : 0;
    out->acts = cfg ? model_acts_bytes(s, cfg) : 0;
}

void model_mem_plan_log(const struct model_mem_plan *p) {
    const double mib = 1024.0 * 1024.0;
    LOG_INFO("memory plan: params %.1f MiB, grads %.1f MiB, adamw moments %.1f MiB, "
             "activations %.1f MiB, total %.1f MiB",
             p->params / mib, p->grads / mib, p->moments / mib, p->acts / mib,
             (p->params + p->grads + p->moments + p->acts) / mib);
}

// ---- forward ----

// y (N,M) = x (N,K) W^T, W (M,K)
static void linear(struct model *m, float *y, const float *x, const float *w, int N, int M, int K,
                   float beta) {
    m->be->ops->gemm(m->be->ctx, false, true, N, M, K, 1.0f, x, K, w, K, beta, y, M);
}

void model_block_forward(struct model *m, struct model_acts *a, struct block_acts *ba, int l,
                         const float *in, float *out, const struct infer_args *inf) {
    const struct backend_ops *op = m->be->ops;
    void *cx = m->be->ctx;
    const struct model_shape *s = &m->shape;
    const struct model_layer_off *lo = &m->layer[l];
    int N = a->N, C = s->C, Q = (s->H + 2 * s->Hkv) * s->D, HD = s->H * s->D;
    op->rmsnorm_forward(cx, ba->xn1, ba->rstd1, in, P(lo->ln1), N, C, s->rms_eps);
    linear(m, ba->qkv, ba->xn1, P(lo->wqkv), N, Q, C, 0.0f);
    op->bias_forward(cx, ba->qkv, P(lo->bqkv), N, Q, Q);
    op->rope_forward(cx, ba->qkv, a->pos, N, s->H + s->Hkv, s->D, Q, s->rope_theta);
    if (inf)
        op->attention_cache(cx, ba->att, ba->qkv, inf->kv, l, inf->cu_new, inf->start, a->B, s->H);
    else
        op->attention_forward(cx, ba->att, ba->lse, ba->qkv, a->cu, a->B, s->H, s->Hkv, s->D);
    backend_copy_d2d(m->be, ba->hmid, in, sizeof(float) * (size_t)N * C);
    linear(m, ba->hmid, ba->att, P(lo->wo), N, C, HD, 1.0f);
    op->rmsnorm_forward(cx, ba->xn2, ba->rstd2, ba->hmid, P(lo->ln2), N, C, s->rms_eps);
    linear(m, ba->gu, ba->xn2, P(lo->wgu), N, 2 * s->F, C, 0.0f);
    op->swiglu_forward(cx, a->act, ba->gu, N, s->F);
    backend_copy_d2d(m->be, out, ba->hmid, sizeof(float) * (size_t)N * C);
    linear(m, out, a->act, P(lo->wd), N, C, s->F, 1.0f);
}

void model_final_norm(struct model *m, struct model_acts *a, const float *in) {
    m->be->ops->rmsnorm_forward(m->be->ctx, a->hn, a->rstdf, in, P(m->norm), a->N, m->shape.C,
                                m->shape.rms_eps);
}

static float *resid_at(struct model_acts *a, const struct model_shape *s, int i) {
    return a->resid + (size_t)i * a->N * s->C;
}

// Copies and checks a packed batch into a.
static int load_batch(struct model *m, struct model_acts *a, const int32_t *tokens,
                      const int32_t *targets, const int32_t *cu_seqlens, int B, struct err *e) {
    const struct model_shape *s = &m->shape;
    if (B <= 0 || cu_seqlens[0] != 0) return err_user(e, "batch must start at token 0");
    int N = cu_seqlens[B];
    if (N <= 0 || N > a->cfg.n_tokens_max)
        return err_user(e, "batch of '%d' tokens exceeds the capacity of %d", N,
                        a->cfg.n_tokens_max);
    for (int b = 0; b < B; b++) {
        int T = cu_seqlens[b + 1] - cu_seqlens[b];
        if (T <= 0) return err_user(e, "sequence %d of the batch is empty", b);
        if (T > s->max_pos)
            return err_user(e, "sequence %d has '%d' tokens, more than max_position_embeddings %d",
                            b, T, s->max_pos);
        for (int t = 0; t < T; t++) a->h_pos[cu_seqlens[b] + t] = t;
    }
    for (int t = 0; t < N; t++) {
        if (tokens[t] < 0 || tokens[t] >= s->V)
            return err_user(e, "token id '%d' at %d out of range 0..%d", tokens[t], t, s->V - 1);
        if (targets && targets[t] >= s->V)
            return err_user(e, "target id '%d' at %d out of range 0..%d", targets[t], t, s->V - 1);
        a->h_targets[t] = targets ? targets[t] : -1;
    }
    memcpy(a->h_tokens, tokens, sizeof(int32_t) * (size_t)N);
    memcpy(a->h_cu, cu_seqlens, sizeof(int32_t) * (size_t)(B + 1));
    model_upload_idx(m, a);
    a->N = N;
    a->B = B;
    return 0;
}

static void lm_logits(struct model *m, struct model_acts *a, const float *hn, int n);

int model_forward(struct model *m, struct model_acts *a, const int32_t *tokens,
                  const int32_t *targets, const int32_t *cu_seqlens, int B, float *logprob,
                  float *entropy, struct err *e) {
    const struct backend_ops *op = m->be->ops;
    void *cx = m->be->ctx;
    const struct model_shape *s = &m->shape;
    if (a->cfg.is_inference) return err_internal(e, "model_forward on an inference workspace");
    if (s->head != MODEL_HEAD_LM) return err_user(e, "model has no language-model head");
    TRY(load_batch(m, a, tokens, targets, cu_seqlens, B, e));
    int N = a->N;
    op->embedding_forward(cx, resid_at(a, s, 0), P(m->embed), a->tokens, N, s->C);
    for (int l = 0; l < s->L; l++)
        model_block_forward(m, a, &a->sets[a->n_sets == 1 ? 0 : l], l, resid_at(a, s, l),
                            resid_at(a, s, l + 1), NULL);
    model_final_norm(m, a, resid_at(a, s, s->L));
    float *lp = a->io ? a->io : logprob; // device backends: staged, downloaded below
    for (int t0 = 0; t0 < N; t0 += a->lm_chunk) {
        int n = N - t0 < a->lm_chunk ? N - t0 : a->lm_chunk;
        lm_logits(m, a, a->hn + (size_t)t0 * s->C, n);
        op->logsoftmax_stats(cx, lp + t0, a->ent_out + t0, a->lse_out + t0, a->logits,
                             a->targets + t0, n, s->V);
    }
    a->has_last_logits = true;
    backend_copy_d2h(m->be, logprob, lp, sizeof(float) * (size_t)N);
    backend_copy_d2h(m->be, entropy, a->ent_out, sizeof(float) * (size_t)N);
    return 0;
}

// ---- backward ----

// dW (M,K) += dy^T x; dx (N,K) = dy W  (dy (N,M), x (N,K))
// (alpha scales dy: the LM head's 1 / temperature)
static void linear_backward_scaled(struct model *m, float *dx, float *dw, const float *dy,
                                   const float *x, const float *w, int N, int M, int K,
                                   float alpha) {
    const struct backend_ops *op = m->be->ops;
    op->gemm(m->be->ctx, true, false, M, K, N, alpha, dy, M, x, K, 1.0f, dw, K);
    op->gemm(m->be->ctx, false, false, N, K, M, alpha, dy, M, w, K, 0.0f, dx, K);
}

static void linear_backward(struct model *m, float *dx, float *dw, const float *dy, const float *x,
                            const float *w, int N, int M, int K) {
    linear_backward_scaled(m, dx, dw, dy, x, w, N, M, K, 1.0f);
}

// logits (n,V) = hn Wlm^T / temperature
static void lm_logits(struct model *m, struct model_acts *a, const float *hn, int n) {
    const struct model_shape *s = &m->shape;
    m->be->ops->gemm(m->be->ctx, false, true, n, s->V, s->C, a->inv_temperature, hn, s->C,
                     P(m->lm_head), s->C, 0.0f, a->logits, s->V);
}

// On entry a->dres = dLoss/d(block output); on exit dLoss/d(block input).
static void block_backward(struct model *m, struct model_acts *a, struct block_acts *ba, int l,
                           const float *in) {
    const struct backend_ops *op = m->be->ops;
    void *cx = m->be->ctx;
    const struct model_shape *s = &m->shape;
    const struct model_layer_off *lo = &m->layer[l];
    int N = a->N, C = s->C, Q = (s->H + 2 * s->Hkv) * s->D, HD = s->H * s->D, F = s->F;
    // MLP
    op->swiglu_forward(cx, a->act, ba->gu, N, F); // recomputed: cheaper than storing (N,F)
    linear_backward(m, a->dact, G(lo->wd), a->dres, a->act, P(lo->wd), N, C, F);
    op->swiglu_backward(cx, a->dgu, a->dact, ba->gu, N, F);
    linear_backward(m, a->dxn, G(lo->wgu), a->dgu, ba->xn2, P(lo->wgu), N, 2 * F, C);
    op->rmsnorm_backward(cx, a->dx, G(lo->ln2), a->dxn, ba->hmid, P(lo->ln2), ba->rstd2, N, C);
    op->add(cx, a->dres, a->dx, (size_t)N * C);
    // attention
    linear_backward(m, a->datt, G(lo->wo), a->dres, ba->att, P(lo->wo), N, C, HD);
    op->attention_backward(cx, a->dqkv, a->datt, ba->att, ba->qkv, ba->lse, a->cu, a->B, s->H,
                           s->Hkv, s->D);
    op->rope_backward(cx, a->dqkv, a->pos, N, s->H + s->Hkv, s->D, Q, s->rope_theta);
    op->bias_backward(cx, G(lo->bqkv), a->dqkv, N, Q, Q);
    linear_backward(m, a->dxn, G(lo->wqkv), a->dqkv, ba->xn1, P(lo->wqkv), N, Q, C);
    op->rmsnorm_backward(cx, a->dx, G(lo->ln1), a->dxn, in, P(lo->ln1), ba->rstd1, N, C);
    op->add(cx, a->dres, a->dx, (size_t)N * C);
}

int model_backward(struct model *m, struct model_acts *a, const float *d_logprob,
                   const float *d_entropy, struct err *e) {
    const struct backend_ops *op = m->be->ops;
    void *cx = m->be->ctx;
    const struct model_shape *s = &m->shape;
    if (!m->grads) return err_internal(e, "model_backward without gradients (model_alloc_grads)");
    if (a->N <= 0 || a->cfg.is_inference) return err_internal(e, "model_backward without forward");
    int N = a->N, C = s->C;
    if (a->io) { // device backends: the caller's gradients into device memory
        if (d_logprob) backend_copy_h2d(m->be, a->io + N, d_logprob, sizeof(float) * (size_t)N);
        if (d_entropy) backend_copy_h2d(m->be, a->io + 2 * N, d_entropy, sizeof(float) * (size_t)N);
        d_logprob = d_logprob ? a->io + N : NULL;
        d_entropy = d_entropy ? a->io + 2 * N : NULL;
    }
    // LM head, chunk by chunk from the last one, whose logits forward left in the buffer (so a
    // batch of one chunk computes its logits once): dlogits -> dhn (into dxn), dWlm.
    int last = (N - 1) / a->lm_chunk * a->lm_chunk;
    for (int t0 = last; t0 >= 0; t0 -= a->lm_chunk) {
        int n = N - t0 < a->lm_chunk ? N - t0 : a->lm_chunk;
        const float *hn = a->hn + (size_t)t0 * C;
        if (!(t0 == last && a->has_last_logits)) lm_logits(m, a, hn, n);
        op->logsoftmax_backward(cx, a->logits, a->targets + t0, d_logprob ? d_logprob + t0 : NULL,
                                d_entropy ? d_entropy + t0 : NULL, a->lse_out + t0, a->ent_out + t0,
                                n, s->V);
        linear_backward_scaled(m, a->dxn + (size_t)t0 * C, G(m->lm_head), a->logits, hn,
                               P(m->lm_head), n, s->V, C, a->inv_temperature);
    }
    a->has_last_logits = false; // overwritten by the gradient
    op->rmsnorm_backward(cx, a->dres, G(m->norm), a->dxn, resid_at(a, s, s->L), P(m->norm),
                         a->rstdf, N, C);
    for (int l = s->L - 1; l >= 0; l--) {
        struct block_acts *ba = &a->sets[a->n_sets == 1 ? 0 : l];
        if (a->cfg.is_recompute) // recompute this block's activations from its stored input
            model_block_forward(m, a, ba, l, resid_at(a, s, l), a->dx, NULL);
        block_backward(m, a, ba, l, resid_at(a, s, l));
    }
    op->embedding_backward(cx, G(m->embed), a->dres, a->tokens, N, C);
    return 0;
}
