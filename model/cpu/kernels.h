// Plain C CPU kernels (the reference implementation every backend is checked against).
// Signatures match struct backend_ops; see model/backend.h for the math.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/backend.h"

// Loops over fewer elements than this run on one thread: an OpenMP fork/join costs more.
#define CPU_PAR_MIN 65536

void cpu_gemm(void *ctx, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
              const float *A, int lda, const float *B, int ldb, float beta, float *Cm, int ldc);
// Batch-invariant C (M,N) = alpha A (M,K) W^T + beta C, W (N,K) row-major (model/cpu/
// gemm_fixed.c): each element is one fixed multiply-add chain over k, independent of M and of
// the row's place. scratch: cpu_gemm_fixed_scratch(n_threads, K) floats.
size_t cpu_gemm_fixed_scratch(int n_threads, int max_k);
// Whether it runs its AVX-512 kernel here (else plain C, slower than OpenBLAS).
bool cpu_gemm_fixed_is_vectorised(void);
void cpu_gemm_fixed(float *Cm, int ldc, const float *A, int lda, const float *W, int ldw, int M,
                    int N, int K, float alpha, float beta, float *scratch, int n_threads);
// C (M,N) = alpha op(A) op(B) + beta C on AVX-512, BLIS-style packed (model/cpu/
// gemm_packed.c): each element one fixed chain (fused multiply-adds over slices of 384 values
// of k, the slices added in order), independent of M, N, its place and the thread count.
// scratch: cpu_gemm_packed_scratch() floats, 64-byte aligned.
size_t cpu_gemm_packed_scratch(void);
// Whether this machine has its kernel (AVX-512); cpu_gemm_packed must not be called otherwise.
bool cpu_gemm_packed_is_vectorised(void);
void cpu_gemm_packed(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
                     int lda, const float *B, int ldb, float beta, float *Cm, int ldc,
                     float *scratch, int n_threads);
void cpu_embedding_forward(void *ctx, float *out, const float *table, const int32_t *tokens, int N,
                           int C);
void cpu_embedding_backward(void *ctx, float *dtable, const float *dout, const int32_t *tokens,
                            int N, int C);
void cpu_rmsnorm_forward(void *ctx, float *out, float *rstd, const float *x, const float *w, int N,
                         int C, float eps);
void cpu_rmsnorm_backward(void *ctx, float *dx, float *dw, const float *dout, const float *x,
                          const float *w, const float *rstd, int N, int C);
void cpu_bias_forward(void *ctx, float *out, const float *bias, int N, int M, int ld);
void cpu_bias_backward(void *ctx, float *dbias, const float *dout, int N, int M, int ld);
void cpu_rope_forward(void *ctx, float *x, const int32_t *pos, int N, int n_heads, int D, int ld,
                      float theta);
void cpu_rope_backward(void *ctx, float *dx, const int32_t *pos, int N, int n_heads, int D, int ld,
                       float theta);
void cpu_attention_forward(void *ctx, float *out, float *lse, const float *qkv,
                           const int32_t *cu_seqlens, int B, int H, int Hkv, int D);
void cpu_attention_backward(void *ctx, float *dqkv, const float *dout, const float *out,
                            const float *qkv, const float *lse, const int32_t *cu_seqlens, int B,
                            int H, int Hkv, int D);
// Tiled versions (sgemm per 64 x 64 tile); the table uses these, the plain ones above are the
// reference.
void cpu_attention_forward_tiled(void *ctx, float *out, float *lse, const float *qkv,
                                 const int32_t *cu_seqlens, int B, int H, int Hkv, int D);
void cpu_attention_backward_tiled(void *ctx, float *dqkv, const float *dout, const float *out,
                                  const float *qkv, const float *lse, const int32_t *cu_seqlens,
                                  int B, int H, int Hkv, int D);
void cpu_attention_cache(void *ctx, float *out, const float *qkv, const struct kv_view *kv,
                         int layer, const int32_t *cu_new, const int32_t *start, int B, int H);
void cpu_swiglu_forward(void *ctx, float *out, const float *gu, int N, int F);
void cpu_swiglu_backward(void *ctx, float *dgu, const float *dout, const float *gu, int N, int F);
void cpu_add(void *ctx, float *y, const float *x, size_t n);
void cpu_logsoftmax_stats(void *ctx, float *logprob, float *entropy, float *lse,
                          const float *logits, const int32_t *targets, int n, int V);
void cpu_logsoftmax_backward(void *ctx, float *logits, const int32_t *targets,
                             const float *g_logprob, const float *g_entropy, const float *lse,
                             const float *entropy, int n, int V);
double cpu_sumsq(void *ctx, const float *x, size_t n);
void cpu_adamw(void *ctx, float *p, float *m, float *v, const float *g, size_t n, float lr,
               float b1, float b2, float eps, float wd, float bc1, float bc2, float grad_scale);
