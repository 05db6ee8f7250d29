// Private to model/cuda: the backend context, the abort-on-failure macros, the kernel entry
// points of each .cu file, and warp/block reductions shared by the kernels.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#include "model/backend.h"

extern "C" void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define CHECK_CUDA(call)                                                                           \
    do {                                                                                           \
        cudaError_t rc_ = (call);                                                                  \
        if (rc_ != cudaSuccess)                                                                    \
            check_fail(__FILE__, __LINE__, "%s: %s", #call, cudaGetErrorString(rc_));              \
    } while (0)

#define CHECK_CUBLAS(call)                                                                         \
    do {                                                                                           \
        cublasStatus_t rc_ = (call);                                                               \
        if (rc_ != CUBLAS_STATUS_SUCCESS)                                                          \
            check_fail(__FILE__, __LINE__, "%s: cublas status %d", #call, (int)rc_);               \
    } while (0)

// After every launch on context c: a bad configuration shows here, a fault at the next
// synchronisation (at once in synchronous mode, backend_cuda_set_sync).
#define CHECK_LAUNCH(c)                                                                            \
    do {                                                                                           \
        CHECK_CUDA(cudaGetLastError());                                                            \
        if ((c)->is_sync) CHECK_CUDA(cudaStreamSynchronize((c)->stream));                          \
    } while (0)

// Largest head dimension of the attention kernels (lane-strided accumulators of D / 32).
enum { CUDA_ATTN_MAX_D = 256 };

struct cuda_ctx {
    int device;
    cudaStream_t stream;
    cublasHandle_t blas;
    void *scratch; // grown on demand by cuda_scratch (partial sums of the reductions)
    size_t scratch_bytes;
    bool is_sync; // every op waits for its kernels (backend_cuda_set_sync)
};

static inline struct cuda_ctx *cuda_ctx_of(void *ctx) {
    return (struct cuda_ctx *)ctx;
}

// Device scratch of at least n_bytes (valid until the next call; stream-ordered use only).
void *cuda_scratch(struct cuda_ctx *c, size_t n_bytes);
// Sets the dynamic shared-memory limit of the attention kernels (called once at create).
void cuda_attention_init(void);

static inline unsigned cuda_blocks(size_t n, unsigned threads) {
    return (unsigned)((n + threads - 1) / threads);
}

// Blocks of 256 threads for a grid-stride loop over n elements (at most 65535 blocks).
static inline unsigned cuda_grid(size_t n) {
    size_t b = (n + 255) / 256;
    return (unsigned)(b < 65535 ? b : 65535);
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ double warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide sum / max for blockDim.x a multiple of 32 up to 1024; every thread gets the result.
// `sh` holds 32 elements. A fixed tree: the same bits on every run.
template <typename T> __device__ T block_sum(T v, T *sh) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    __syncthreads(); // sh may still be read from a previous call
    if (lane == 0) sh[w] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : (T)0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float block_max(float v, float *sh) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) sh[w] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : -INFINITY;
    return warp_max(v);
}

// Kernels, one group per file, with the signatures of struct backend_ops.
// rowwise.cu
void cuda_embedding_forward(void *ctx, float *out, const float *table, const int32_t *tokens, int N,
                            int C);
void cuda_embedding_backward(void *ctx, float *dtable, const float *dout, const int32_t *tokens,
                             int N, int C);
void cuda_rmsnorm_forward(void *ctx, float *out, float *rstd, const float *x, const float *w, int N,
                          int C, float eps);
void cuda_rmsnorm_backward(void *ctx, float *dx, float *dw, const float *dout, const float *x,
                           const float *w, const float *rstd, int N, int C);
void cuda_bias_forward(void *ctx, float *out, const float *bias, int N, int M, int ld);
void cuda_bias_backward(void *ctx, float *dbias, const float *dout, int N, int M, int ld);
void cuda_rope_forward(void *ctx, float *x, const int32_t *pos, int N, int n_heads, int D, int ld,
                       float theta);
void cuda_rope_backward(void *ctx, float *dx, const int32_t *pos, int N, int n_heads, int D, int ld,
                        float theta);
void cuda_swiglu_forward(void *ctx, float *out, const float *gu, int N, int F);
void cuda_swiglu_backward(void *ctx, float *dgu, const float *dout, const float *gu, int N, int F);
// attention.cu
void cuda_attention_forward(void *ctx, float *out, float *lse, const float *qkv,
                            const int32_t *cu_seqlens, int B, int H, int Hkv, int D);
void cuda_attention_backward(void *ctx, float *dqkv, const float *dout, const float *out,
                             const float *qkv, const float *lse, const int32_t *cu_seqlens, int B,
                             int H, int Hkv, int D);
void cuda_attention_cache(void *ctx, float *out, const float *qkv, const struct kv_view *kv,
                          int layer, const int32_t *cu_new, const int32_t *start, int B, int H);
// logsoftmax.cu
void cuda_logsoftmax_stats(void *ctx, float *logprob, float *entropy, float *lse,
                           const float *logits, const int32_t *targets, int n, int V);
void cuda_logsoftmax_backward(void *ctx, float *logits, const int32_t *targets,
                              const float *g_logprob, const float *g_entropy, const float *lse,
                              const float *entropy, int n, int V);
