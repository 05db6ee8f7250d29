// Timing wrappers around a backend's ops (bench/profile_backend.h).
#include "bench/profile_backend.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/timer.h"

#define CTX ((struct prof_ctx *)ctx)
#define IN  (CTX->inner)
#define TIMED(op, call)                                                                            \
    do {                                                                                           \
        double t0_ = time_now_s();                                                                 \
        call;                                                                                      \
        CTX->seconds[op] += time_now_s() - t0_;                                                    \
    } while (0)

static void p_gemm(void *ctx, bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                   int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    CTX->gemm_flops += 2.0 * M * N * K;
    double t0 = time_now_s();
    IN->ops->gemm(IN->ctx, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    double dt = time_now_s() - t0;
    CTX->seconds[PROF_GEMM] += dt;
    struct prof_gemm_shape key = {ta, tb, M, N, K, beta != 0, 0, 0};
    int i = 0;
    while (i < CTX->n_shapes &&
           memcmp(&CTX->shapes[i], &key, offsetof(struct prof_gemm_shape, calls)))
        i++;
    if (i == CTX->n_shapes && i < PROF_MAX_SHAPES) CTX->shapes[CTX->n_shapes++] = key;
    if (i < PROF_MAX_SHAPES) CTX->shapes[i].calls++, CTX->shapes[i].seconds += dt;
}

void prof_print_gemm_shapes(const struct prof_ctx *p) {
    bool done[PROF_MAX_SHAPES] = {0};
    for (int n = 0; n < p->n_shapes; n++) {
        int b = -1;
        for (int i = 0; i < p->n_shapes; i++)
            if (!done[i] && (b < 0 || p->shapes[i].seconds > p->shapes[b].seconds)) b = i;
        done[b] = true;
        const struct prof_gemm_shape *s = &p->shapes[b];
        printf("      gemm %c%c M %6d N %6d K %6d%s: %5d calls %7.3f s %6.1f GFLOP/s\n",
               s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->M, s->N, s->K, s->beta ? " +C" : "   ",
               s->calls, s->seconds, 2.0 * s->M * s->N * s->K * s->calls / s->seconds / 1e9);
    }
}
static void p_emb_f(void *ctx, float *o, const float *t, const int32_t *k, int N, int C) {
    TIMED(PROF_OTHER, IN->ops->embedding_forward(IN->ctx, o, t, k, N, C));
}
static void p_emb_b(void *ctx, float *d, const float *g, const int32_t *k, int N, int C) {
    TIMED(PROF_OTHER, IN->ops->embedding_backward(IN->ctx, d, g, k, N, C));
}
static void p_rms_f(void *ctx, float *o, float *r, const float *x, const float *w, int N, int C,
                    float eps) {
    TIMED(PROF_NORM, IN->ops->rmsnorm_forward(IN->ctx, o, r, x, w, N, C, eps));
}
static void p_rms_b(void *ctx, float *dx, float *dw, const float *g, const float *x, const float *w,
                    const float *r, int N, int C) {
    TIMED(PROF_NORM, IN->ops->rmsnorm_backward(IN->ctx, dx, dw, g, x, w, r, N, C));
}
static void p_bias_f(void *ctx, float *o, const float *b, int N, int M, int ld) {
    TIMED(PROF_OTHER, IN->ops->bias_forward(IN->ctx, o, b, N, M, ld));
}
static void p_bias_b(void *ctx, float *d, const float *g, int N, int M, int ld) {
    TIMED(PROF_OTHER, IN->ops->bias_backward(IN->ctx, d, g, N, M, ld));
}
static void p_rope_f(void *ctx, float *x, const int32_t *pos, int N, int nh, int D, int ld,
                     float th) {
    TIMED(PROF_ROPE, IN->ops->rope_forward(IN->ctx, x, pos, N, nh, D, ld, th));
}
static void p_rope_b(void *ctx, float *x, const int32_t *pos, int N, int nh, int D, int ld,
                     float th) {
    TIMED(PROF_ROPE, IN->ops->rope_backward(IN->ctx, x, pos, N, nh, D, ld, th));
}
static void p_att_f(void *ctx, float *o, float *lse, const float *qkv, const int32_t *cu, int B,
                    int H, int Hkv, int D) {
    TIMED(PROF_ATT_FWD, IN->ops->attention_forward(IN->ctx, o, lse, qkv, cu, B, H, Hkv, D));
}
static void p_att_b(void *ctx, float *dqkv, const float *g, const float *o, const float *qkv,
                    const float *lse, const int32_t *cu, int B, int H, int Hkv, int D) {
    TIMED(PROF_ATT_BWD,
          IN->ops->attention_backward(IN->ctx, dqkv, g, o, qkv, lse, cu, B, H, Hkv, D));
}
static void p_att_c(void *ctx, float *o, const float *qkv, const struct kv_view *kv, int l,
                    const int32_t *cu, const int32_t *st, int B, int H) {
    TIMED(PROF_ATT_CACHE, IN->ops->attention_cache(IN->ctx, o, qkv, kv, l, cu, st, B, H));
}
static void p_sw_f(void *ctx, float *o, const float *gu, int N, int F) {
    TIMED(PROF_SWIGLU, IN->ops->swiglu_forward(IN->ctx, o, gu, N, F));
}
static void p_sw_b(void *ctx, float *d, const float *g, const float *gu, int N, int F) {
    TIMED(PROF_SWIGLU, IN->ops->swiglu_backward(IN->ctx, d, g, gu, N, F));
}
static void p_add(void *ctx, float *y, const float *x, size_t n) {
    TIMED(PROF_OTHER, IN->ops->add(IN->ctx, y, x, n));
}
static void p_ls_f(void *ctx, float *lp, float *ent, float *lse, const float *z, const int32_t *t,
                   int n, int V) {
    TIMED(PROF_LOGSOFTMAX, IN->ops->logsoftmax_stats(IN->ctx, lp, ent, lse, z, t, n, V));
}
static void p_ls_b(void *ctx, float *z, const int32_t *t, const float *glp, const float *gh,
                   const float *lse, const float *ent, int n, int V) {
    TIMED(PROF_LOGSOFTMAX, IN->ops->logsoftmax_backward(IN->ctx, z, t, glp, gh, lse, ent, n, V));
}
static double p_sumsq(void *ctx, const float *x, size_t n) {
    double t0 = time_now_s(), s = IN->ops->sumsq(IN->ctx, x, n);
    CTX->seconds[PROF_ADAMW] += time_now_s() - t0;
    return s;
}
static void p_adamw(void *ctx, float *p, float *m, float *v, const float *g, size_t n, float lr,
                    float b1, float b2, float eps, float wd, float bc1, float bc2, float gs) {
    TIMED(PROF_ADAMW, IN->ops->adamw(IN->ctx, p, m, v, g, n, lr, b1, b2, eps, wd, bc1, bc2, gs));
}

static const struct backend_ops prof_ops = {
    .name = "profile",
    .gemm = p_gemm,
    .embedding_forward = p_emb_f,
    .embedding_backward = p_emb_b,
    .rmsnorm_forward = p_rms_f,
    .rmsnorm_backward = p_rms_b,
    .bias_forward = p_bias_f,
    .bias_backward = p_bias_b,
    .rope_forward = p_rope_f,
    .rope_backward = p_rope_b,
    .attention_forward = p_att_f,
    .attention_backward = p_att_b,
    .attention_cache = p_att_c,
    .swiglu_forward = p_sw_f,
    .swiglu_backward = p_sw_b,
    .add = p_add,
    .logsoftmax_stats = p_ls_f,
    .logsoftmax_backward = p_ls_b,
    .sumsq = p_sumsq,
    .adamw = p_adamw,
};

void prof_backend_init(struct backend *out, struct prof_ctx *p) {
    p->ops = prof_ops;
    p->ops.name = p->inner->ops->name;
    out->ops = &p->ops;
    out->ctx = p;
    out->n_threads = p->inner->n_threads;
}

const char *prof_op_name(enum prof_op op) {
    static const char *const names[PROF_N] = {
        "gemm", "attention fwd", "attention bwd", "attention kv", "rmsnorm",
        "rope", "swiglu",        "logsoftmax",    "adamw+norm",   "other"};
    return names[op];
}
