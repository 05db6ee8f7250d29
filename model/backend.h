// The kernel interface between model code and a device (ggml-backend style): one table of
// function pointers with an opaque context. model/cpu/ fills one; a CUDA backend fills
// another. Kernels take raw pointers and sizes, outputs first; parameter gradients
// accumulate (+=), activation gradients overwrite. Matrices are row-major.
// Shape letters: see model/model.h.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"

// A paged KV cache as kernels see it (model/kv_cache.h owns it). Block b holds, for every
// layer l, K then V of block_size positions: k(l, hk, j) is at
// pool + ((b * L + l) * 2 + 0) * Hkv * block_size * D + (hk * block_size + j % block_size) * D.
struct kv_view {
    float *pool;
    int L, Hkv, D, block_size;
    int max_blocks_per_seq;
    const int32_t *block_table; // (n_seqs, max_blocks_per_seq) of the sequences in the call
};

struct backend_ops {
    const char *name;
    // ---- memory ----
    // is_device: the buffers the kernels take live in device memory, which host code reaches
    // only through the copy hooks below. false (host memory: the CPU backend, and tables that
    // leave the hooks NULL): host code reads and writes the buffers in place, and the model's
    // own host arrays (the caller's log-probabilities, logits) go to the kernels directly.
    bool is_device;
    // n_bytes of zeroed memory aligned to ALLOC_ALIGN (at least); NULL when out of memory.
    void *(*alloc)(void *ctx, size_t n_bytes);
    void (*free)(void *ctx, void *p); // p from alloc, or NULL
    // Copies: h2d returns when src may be reused, d2h when dst holds the data (both wait for
    // the kernels queued before them); d2d and memset are ordered with the kernels.
    void (*copy_h2d)(void *ctx, void *dst, const void *src, size_t n_bytes);
    void (*copy_d2h)(void *ctx, void *dst, const void *src, size_t n_bytes);
    void (*copy_d2d)(void *ctx, void *dst, const void *src, size_t n_bytes);
    void (*memset)(void *ctx, void *dst, int byte, size_t n_bytes);
    // ---- kernels ----
    // C(M,N) = alpha op(A) op(B) + beta C; op(X) = X or X^T; lda/ldb/ldc row strides.
    void (*gemm)(void *ctx, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *Cm, int ldc);
    // out(N,C) = table[tokens]; dtable[tokens] += dout
    void (*embedding_forward)(void *ctx, float *out, const float *table, const int32_t *tokens,
                              int N, int C);
    void (*embedding_backward)(void *ctx, float *dtable, const float *dout, const int32_t *tokens,
                               int N, int C);
    // out = x / sqrt(mean(x^2) + eps) * w; rstd(N) = 1 / sqrt(mean(x^2) + eps)
    void (*rmsnorm_forward)(void *ctx, float *out, float *rstd, const float *x, const float *w,
                            int N, int C, float eps);
    // dx = (overwrite); dw += ...
    void (*rmsnorm_backward)(void *ctx, float *dx, float *dw, const float *dout, const float *x,
                             const float *w, const float *rstd, int N, int C);
    // out(N,M) += bias(M) on each row; dbias += column sums of dout (rows of stride ld)
    void (*bias_forward)(void *ctx, float *out, const float *bias, int N, int M, int ld);
    void (*bias_backward)(void *ctx, float *dbias, const float *dout, int N, int M, int ld);
    // In place on the first n_heads heads of each row (stride ld) of x: rotate pairs (i, i+D/2)
    // by pos[t] * theta^(-2i/D); backward rotates by the opposite angle.
    void (*rope_forward)(void *ctx, float *x, const int32_t *pos, int N, int n_heads, int D, int ld,
                         float theta);
    void (*rope_backward)(void *ctx, float *dx, const int32_t *pos, int N, int n_heads, int D,
                          int ld, float theta);
    // Causal self-attention within packed sequences. qkv (N,Q) = q|k|v; out (N,H*D);
    // lse (N,H) the log-sum-exp of each score row (kept for backward).
    void (*attention_forward)(void *ctx, float *out, float *lse, const float *qkv,
                              const int32_t *cu_seqlens, int B, int H, int Hkv, int D);
    // dqkv (N,Q) overwrite
    void (*attention_backward)(void *ctx, float *dqkv, const float *dout, const float *out,
                               const float *qkv, const float *lse, const int32_t *cu_seqlens, int B,
                               int H, int Hkv, int D);
    // Writes k, v of the new tokens into the cache, then attends: sequence b has n_new[b] new
    // tokens (packed, cu_new offsets) at positions start[b] .. start[b]+n_new[b]-1 and attends
    // to cache positions 0 .. its own. out (N,H*D).
    void (*attention_cache)(void *ctx, float *out, const float *qkv, const struct kv_view *kv,
                            int layer, const int32_t *cu_new, const int32_t *start, int B, int H);
    // gu (N,2F) = gate|up; out (N,F) = silu(gate) * up; dgu overwrite
    void (*swiglu_forward)(void *ctx, float *out, const float *gu, int N, int F);
    void (*swiglu_backward)(void *ctx, float *dgu, const float *dout, const float *gu, int N,
                            int F);
    // y += x (n)
    void (*add)(void *ctx, float *y, const float *x, size_t n);
    // Per row of logits (n,V): lse, entropy, logprob of target (0 when target < 0).
    void (*logsoftmax_stats)(void *ctx, float *logprob, float *entropy, float *lse,
                             const float *logits, const int32_t *targets, int n, int V);
    // In place, logits (n,V) -> dlogits = g_lp (onehot - p) - g_ent p (log p + entropy).
    void (*logsoftmax_backward)(void *ctx, float *logits, const int32_t *targets,
                                const float *g_logprob, const float *g_entropy, const float *lse,
                                const float *entropy, int n, int V);
    // sum of squares in double
    double (*sumsq)(void *ctx, const float *x, size_t n);
    // AdamW on n floats (decoupled decay: p -= lr wd p first); bc1 = 1 - b1^t, bc2 = 1 - b2^t;
    // grad_scale multiplies g (clipping).
    void (*adamw)(void *ctx, float *p, float *m, float *v, const float *g, size_t n, float lr,
                  float b1, float b2, float eps, float wd, float bc1, float bc2, float grad_scale);
};

struct backend {
    const struct backend_ops *ops;
    void *ctx;
    int n_threads;
};

// Memory through a backend (model/backend.c), what model code calls: on a host backend
// (!ops->is_device) alloc_aligned / alloc_free and memcpy, exactly as before the hooks
// existed; on a device backend its hooks, with the bytes counted in the ledger under tag all
// the same. A copy whose dst == src does nothing.
bool backend_is_device(const struct backend *be);
void *backend_alloc(const struct backend *be, struct mem_ledger *ledger, enum mem_tag tag,
                    size_t n_bytes);
void backend_free(const struct backend *be, struct mem_ledger *ledger, enum mem_tag tag,
                  size_t n_bytes, void **p);
void backend_copy_h2d(const struct backend *be, void *dst, const void *src, size_t n_bytes);
void backend_copy_d2h(const struct backend *be, void *dst, const void *src, size_t n_bytes);
void backend_copy_d2d(const struct backend *be, void *dst, const void *src, size_t n_bytes);
void backend_memset(const struct backend *be, void *dst, int byte, size_t n_bytes);
