// Batch-invariant GEMM for inference (see invariant.h), and forwarders of the other
// inference kernels to the wrapped backend with its own context.
#include "rollout/invariant.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "model/cpu/kernels.h"

static int max3(int a, int b, int c) {
    return a > b ? (a > c ? a : c) : (b > c ? b : c);
}

static void dims(const struct model_shape *s, int *max_k, int *max_n) {
    int Q = (s->H + 2 * s->Hkv) * s->D;
    *max_k = max3(s->C, s->H * s->D, s->F);
    *max_n = max3(Q, 2 * s->F, s->V > s->C ? s->V : s->C);
}

// The CPU kernel's per-thread panels (host memory), else the chunked path's padding.
static bool is_host(const struct backend *inner) {
    return !strcmp(inner->ops->name, "cpu");
}

size_t invariant_backend_bytes(const struct model_shape *s, int n_threads) {
    int k, n;
    dims(s, &k, &n);
    size_t host = cpu_gemm_fixed_scratch(n_threads, k);
    size_t pad = INVARIANT_ROWS_MAX * ((size_t)k + (size_t)n);
    return sizeof(float) * (host > pad ? host : pad);
}

#define INNER(ctx) (((const struct invariant_backend *)(ctx))->inner)

// C (M,N) = alpha A (M,K) B^T + beta C: on the CPU one fixed-order kernel for any M
// (cpu_gemm_fixed); elsewhere in chunks of x->rows rows of A and C, the last one zero-padded.
static void inv_gemm(void *ctx, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                     const float *A, int lda, const float *B, int ldb, float beta, float *Cm,
                     int ldc) {
    struct invariant_backend *x = ctx;
    const struct backend *in = x->inner;
    CHECK(!trans_a && K <= x->max_k && N <= x->max_n && x->rows <= INVARIANT_ROWS_MAX,
          "invariant gemm: unexpected shape");
    if (x->scratch && trans_b) {
        cpu_gemm_fixed(Cm, ldc, A, lda, B, ldb, M, N, K, alpha, beta, x->scratch, in->n_threads);
        return;
    }
    CHECK(x->a_pad, "invariant gemm: no padding buffers");
    const int R = x->rows;
    int full = M / R * R, m = M - full;
    for (int r0 = 0; r0 < full; r0 += R)
        in->ops->gemm(in->ctx, false, trans_b, R, N, K, alpha, A + (size_t)r0 * lda, lda, B, ldb,
                      beta, Cm + (size_t)r0 * ldc, ldc);
    if (m == 0) return;
    memset(x->a_pad, 0, sizeof(float) * R * (size_t)K);
    for (int i = 0; i < m; i++)
        memcpy(x->a_pad + (size_t)i * K, A + (size_t)(full + i) * lda, sizeof(float) * K);
    if (beta != 0)
        for (int i = 0; i < m; i++)
            memcpy(x->c_pad + (size_t)i * N, Cm + (size_t)(full + i) * ldc, sizeof(float) * N);
    in->ops->gemm(in->ctx, false, trans_b, R, N, K, alpha, x->a_pad, K, B, ldb, beta, x->c_pad, N);
    for (int i = 0; i < m; i++)
        memcpy(Cm + (size_t)(full + i) * ldc, x->c_pad + (size_t)i * N, sizeof(float) * N);
}

static void inv_embedding(void *ctx, float *out, const float *table, const int32_t *tokens, int N,
                          int C) {
    INNER(ctx)->ops->embedding_forward(INNER(ctx)->ctx, out, table, tokens, N, C);
}

static void inv_rmsnorm(void *ctx, float *out, float *rstd, const float *x, const float *w, int N,
                        int C, float eps) {
    INNER(ctx)->ops->rmsnorm_forward(INNER(ctx)->ctx, out, rstd, x, w, N, C, eps);
}

static void inv_bias(void *ctx, float *out, const float *bias, int N, int M, int ld) {
    INNER(ctx)->ops->bias_forward(INNER(ctx)->ctx, out, bias, N, M, ld);
}

static void inv_rope(void *ctx, float *x, const int32_t *pos, int N, int n_heads, int D, int ld,
                     float theta) {
    INNER(ctx)->ops->rope_forward(INNER(ctx)->ctx, x, pos, N, n_heads, D, ld, theta);
}

static void inv_attention_cache(void *ctx, float *out, const float *qkv, const struct kv_view *kv,
                                int layer, const int32_t *cu_new, const int32_t *start, int B,
                                int H) {
    INNER(ctx)->ops->attention_cache(INNER(ctx)->ctx, out, qkv, kv, layer, cu_new, start, B, H);
}

static void inv_swiglu(void *ctx, float *out, const float *gu, int N, int F) {
    INNER(ctx)->ops->swiglu_forward(INNER(ctx)->ctx, out, gu, N, F);
}

static void inv_add(void *ctx, float *y, const float *x, size_t n) {
    INNER(ctx)->ops->add(INNER(ctx)->ctx, y, x, n);
}

// The inference kernels only: training entries stay NULL (model_infer never calls them).
static const struct backend_ops inv_ops = {
    .name = "batch-invariant",
    .gemm = inv_gemm,
    .embedding_forward = inv_embedding,
    .rmsnorm_forward = inv_rmsnorm,
    .bias_forward = inv_bias,
    .rope_forward = inv_rope,
    .attention_cache = inv_attention_cache,
    .swiglu_forward = inv_swiglu,
    .add = inv_add,
};

struct invariant_backend *invariant_backend_create(const struct backend *inner,
                                                   const struct model_shape *s) {
    struct invariant_backend *x = xcalloc(1, sizeof *x);
    x->inner = inner;
    x->rows = INVARIANT_ROWS_DECODE;
    dims(s, &x->max_k, &x->max_n);
    if (is_host(inner)) {
        x->scratch = xcalloc(cpu_gemm_fixed_scratch(inner->n_threads, x->max_k), sizeof(float));
    } else {
        x->a_pad = xcalloc((size_t)INVARIANT_ROWS_MAX * x->max_k, sizeof(float));
        x->c_pad = xcalloc((size_t)INVARIANT_ROWS_MAX * x->max_n, sizeof(float));
    }
    x->be = (struct backend){.ops = &inv_ops, .ctx = x, .n_threads = inner->n_threads};
    return x;
}

void invariant_backend_destroy(struct invariant_backend **b) {
    if (!b || !*b) return;
    free((*b)->scratch);
    free((*b)->a_pad);
    free((*b)->c_pad);
    free(*b);
    *b = NULL;
}
