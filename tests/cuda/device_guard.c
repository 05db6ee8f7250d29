// Checking wrapper around the emulated CUDA backend (device_guard.h).
#include "tests/cuda/device_guard.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/check.h"
#include "tests/cuda/emu/device_mem.h"

#define IN(ctx)      ((const struct backend *)(ctx))
#define FWD(op, ...) IN(ctx)->ops->op(IN(ctx)->ctx, __VA_ARGS__)

// p (n_bytes from p) must be device memory; NULL is allowed where the op allows it.
static void dev(const char *op, const void *p, size_t n_bytes) {
    if (!p) return;
    if (!emu_device_owns(p, n_bytes ? n_bytes : 1))
        check_fail(__FILE__, __LINE__, "%s: argument %p (%zu bytes) is not device memory", op, p,
                   n_bytes);
}
#define F(n) ((size_t)(n) * sizeof(float))
#define I(n) ((size_t)(n) * sizeof(int32_t))

static void *g_alloc(void *ctx, size_t n) {
    return FWD(alloc, n);
}
static void g_free(void *ctx, void *p) {
    dev("free", p, 0);
    FWD(free, p);
}
static void g_h2d(void *ctx, void *d, const void *s, size_t n) {
    dev("copy_h2d", d, n);
    FWD(copy_h2d, d, s, n);
}
static void g_d2h(void *ctx, void *d, const void *s, size_t n) {
    dev("copy_d2h", s, n);
    FWD(copy_d2h, d, s, n);
}
static void g_d2d(void *ctx, void *d, const void *s, size_t n) {
    dev("copy_d2d", d, n);
    dev("copy_d2d", s, n);
    FWD(copy_d2d, d, s, n);
}
static void g_memset(void *ctx, void *d, int byte, size_t n) {
    dev("memset", d, n);
    FWD(memset, d, byte, n);
}

static void g_gemm(void *ctx, bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                   int lda, const float *B, int ldb, float beta, float *Cm, int ldc) {
    dev("gemm A", A, 0), dev("gemm B", B, 0), dev("gemm C", Cm, F((size_t)(M - 1) * ldc + N));
    FWD(gemm, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, Cm, ldc);
}
static void g_emb_f(void *ctx, float *out, const float *table, const int32_t *tokens, int N,
                    int C) {
    dev("embedding_forward", out, F((size_t)N * C)), dev("embedding_forward", table, 0);
    dev("embedding_forward tokens", tokens, I(N));
    FWD(embedding_forward, out, table, tokens, N, C);
}
static void g_emb_b(void *ctx, float *dtable, const float *dout, const int32_t *tokens, int N,
                    int C) {
    dev("embedding_backward", dtable, 0), dev("embedding_backward", dout, F((size_t)N * C));
    dev("embedding_backward tokens", tokens, I(N));
    FWD(embedding_backward, dtable, dout, tokens, N, C);
}
static void g_rms_f(void *ctx, float *out, float *rstd, const float *x, const float *w, int N,
                    int C, float eps) {
    dev("rmsnorm_forward", out, F((size_t)N * C)), dev("rmsnorm_forward", rstd, F(N));
    dev("rmsnorm_forward", x, F((size_t)N * C)), dev("rmsnorm_forward", w, F(C));
    FWD(rmsnorm_forward, out, rstd, x, w, N, C, eps);
}
static void g_rms_b(void *ctx, float *dx, float *dw, const float *dout, const float *x,
                    const float *w, const float *rstd, int N, int C) {
    dev("rmsnorm_backward", dx, F((size_t)N * C)), dev("rmsnorm_backward", dw, F(C));
    dev("rmsnorm_backward", dout, F((size_t)N * C)), dev("rmsnorm_backward", x, 0);
    dev("rmsnorm_backward", w, F(C)), dev("rmsnorm_backward", rstd, F(N));
    FWD(rmsnorm_backward, dx, dw, dout, x, w, rstd, N, C);
}
static void g_bias_f(void *ctx, float *out, const float *bias, int N, int M, int ld) {
    dev("bias_forward", out, 0), dev("bias_forward", bias, F(M));
    FWD(bias_forward, out, bias, N, M, ld);
}
static void g_bias_b(void *ctx, float *dbias, const float *dout, int N, int M, int ld) {
    dev("bias_backward", dbias, F(M)), dev("bias_backward", dout, 0);
    FWD(bias_backward, dbias, dout, N, M, ld);
}
static void g_rope_f(void *ctx, float *x, const int32_t *pos, int N, int nh, int D, int ld,
                     float theta) {
    dev("rope_forward", x, 0), dev("rope_forward pos", pos, I(N));
    FWD(rope_forward, x, pos, N, nh, D, ld, theta);
}
static void g_rope_b(void *ctx, float *dx, const int32_t *pos, int N, int nh, int D, int ld,
                     float theta) {
    dev("rope_backward", dx, 0), dev("rope_backward pos", pos, I(N));
    FWD(rope_backward, dx, pos, N, nh, D, ld, theta);
}
static void g_att_f(void *ctx, float *out, float *lse, const float *qkv, const int32_t *cu, int B,
                    int H, int Hkv, int D) {
    dev("attention_forward", out, 0), dev("attention_forward", lse, 0);
    dev("attention_forward", qkv, 0), dev("attention_forward cu", cu, I(B + 1));
    FWD(attention_forward, out, lse, qkv, cu, B, H, Hkv, D);
}
static void g_att_b(void *ctx, float *dqkv, const float *dout, const float *out, const float *qkv,
                    const float *lse, const int32_t *cu, int B, int H, int Hkv, int D) {
    dev("attention_backward", dqkv, 0), dev("attention_backward", dout, 0);
    dev("attention_backward", out, 0), dev("attention_backward", qkv, 0);
    dev("attention_backward", lse, 0), dev("attention_backward cu", cu, I(B + 1));
    FWD(attention_backward, dqkv, dout, out, qkv, lse, cu, B, H, Hkv, D);
}
static void g_att_c(void *ctx, float *out, const float *qkv, const struct kv_view *kv, int layer,
                    const int32_t *cu_new, const int32_t *start, int B, int H) {
    dev("attention_cache", out, 0), dev("attention_cache", qkv, 0);
    dev("attention_cache pool", kv->pool, 0);
    dev("attention_cache block_table", kv->block_table, I(B * kv->max_blocks_per_seq));
    dev("attention_cache cu_new", cu_new, I(B + 1)), dev("attention_cache start", start, I(B));
    FWD(attention_cache, out, qkv, kv, layer, cu_new, start, B, H);
}
static void g_swi_f(void *ctx, float *out, const float *gu, int N, int Fd) {
    dev("swiglu_forward", out, F((size_t)N * Fd)), dev("swiglu_forward", gu, F(2 * (size_t)N * Fd));
    FWD(swiglu_forward, out, gu, N, Fd);
}
static void g_swi_b(void *ctx, float *dgu, const float *dout, const float *gu, int N, int Fd) {
    dev("swiglu_backward", dgu, F(2 * (size_t)N * Fd)), dev("swiglu_backward", dout, 0);
    dev("swiglu_backward", gu, F(2 * (size_t)N * Fd));
    FWD(swiglu_backward, dgu, dout, gu, N, Fd);
}
static void g_add(void *ctx, float *y, const float *x, size_t n) {
    dev("add", y, F(n)), dev("add", x, F(n));
    FWD(add, y, x, n);
}
static void g_ls_stats(void *ctx, float *lp, float *ent, float *lse, const float *logits,
                       const int32_t *targets, int n, int V) {
    dev("logsoftmax_stats", lp, F(n)), dev("logsoftmax_stats", ent, F(n));
    dev("logsoftmax_stats", lse, F(n)), dev("logsoftmax_stats", logits, F((size_t)n * V));
    dev("logsoftmax_stats targets", targets, I(n));
    FWD(logsoftmax_stats, lp, ent, lse, logits, targets, n, V);
}
static void g_ls_b(void *ctx, float *logits, const int32_t *targets, const float *g_lp,
                   const float *g_ent, const float *lse, const float *ent, int n, int V) {
    dev("logsoftmax_backward", logits, F((size_t)n * V));
    dev("logsoftmax_backward targets", targets, I(n));
    dev("logsoftmax_backward g_logprob", g_lp, F(n));
    dev("logsoftmax_backward g_entropy", g_ent, F(n));
    dev("logsoftmax_backward", lse, F(n)), dev("logsoftmax_backward", ent, F(n));
    FWD(logsoftmax_backward, logits, targets, g_lp, g_ent, lse, ent, n, V);
}
static double g_sumsq(void *ctx, const float *x, size_t n) {
    dev("sumsq", x, F(n));
    return FWD(sumsq, x, n);
}
static void g_adamw(void *ctx, float *p, float *m, float *v, const float *g, size_t n, float lr,
                    float b1, float b2, float eps, float wd, float bc1, float bc2, float scale) {
    dev("adamw p", p, F(n)), dev("adamw m", m, F(n)), dev("adamw v", v, F(n));
    dev("adamw g", g, F(n));
    FWD(adamw, p, m, v, g, n, lr, b1, b2, eps, wd, bc1, bc2, scale);
}

static const struct backend_ops guard_ops = {
    .name = "cuda-emu-guarded",
    .is_device = true,
    .alloc = g_alloc,
    .free = g_free,
    .copy_h2d = g_h2d,
    .copy_d2h = g_d2h,
    .copy_d2d = g_d2d,
    .memset = g_memset,
    .gemm = g_gemm,
    .embedding_forward = g_emb_f,
    .embedding_backward = g_emb_b,
    .rmsnorm_forward = g_rms_f,
    .rmsnorm_backward = g_rms_b,
    .bias_forward = g_bias_f,
    .bias_backward = g_bias_b,
    .rope_forward = g_rope_f,
    .rope_backward = g_rope_b,
    .attention_forward = g_att_f,
    .attention_backward = g_att_b,
    .attention_cache = g_att_c,
    .swiglu_forward = g_swi_f,
    .swiglu_backward = g_swi_b,
    .add = g_add,
    .logsoftmax_stats = g_ls_stats,
    .logsoftmax_backward = g_ls_b,
    .sumsq = g_sumsq,
    .adamw = g_adamw,
};

void device_guard_create(const struct backend *inner, struct backend **out) {
    struct backend *b = xcalloc(1, sizeof *b);
    b->ops = &guard_ops;
    b->ctx = (void *)inner;
    b->n_threads = inner->n_threads;
    *out = b;
}

void device_guard_destroy(struct backend **b) {
    if (!b || !*b) return;
    free(*b);
    *b = NULL;
}
