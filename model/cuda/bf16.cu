// bf16 building blocks of the mixed-precision path (issue 9): fp32 <-> bf16 conversion and a
// matrix product of bf16 operands with fp32 accumulation and an fp32 result (cuBLAS GemmEx),
// the shape of the bf16 forward GEMMs with fp32 master weights. Not in the backend table yet.
//   bf16(x) = the upper 16 bits of x rounded to nearest, ties to even; NaN stays NaN.
#include <stdint.h>

#include "model/cuda/cuda.h"
#include "model/cuda/cuda_internal.cuh"

__device__ __forceinline__ uint16_t f32_to_bf16(float x) {
    uint32_t u = __float_as_uint(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

__global__ void f32_to_bf16_kernel(uint16_t *dst, const float *src, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        dst[i] = f32_to_bf16(src[i]);
}

__global__ void bf16_to_f32_kernel(float *dst, const uint16_t *src, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        dst[i] = __uint_as_float((uint32_t)src[i] << 16);
}

extern "C" void cuda_f32_to_bf16(const struct backend *b, uint16_t *dst, const float *src,
                                 size_t n) {
    if (n == 0) return;
    struct cuda_ctx *c = cuda_ctx_of(b->ctx);
    f32_to_bf16_kernel<<<cuda_grid(n), 256, 0, c->stream>>>(dst, src, n);
    CHECK_LAUNCH(c);
}

extern "C" void cuda_bf16_to_f32(const struct backend *b, float *dst, const uint16_t *src,
                                 size_t n) {
    if (n == 0) return;
    struct cuda_ctx *c = cuda_ctx_of(b->ctx);
    bf16_to_f32_kernel<<<cuda_grid(n), 256, 0, c->stream>>>(dst, src, n);
    CHECK_LAUNCH(c);
}

// Row-major through the same operand swap as cuda_gemm (backend_cuda.cu).
extern "C" void cuda_gemm_bf16(const struct backend *b, bool trans_a, bool trans_b, int M, int N,
                               int K, float alpha, const uint16_t *A, int lda, const uint16_t *B,
                               int ldb, float beta, float *Cm, int ldc) {
    if (M == 0 || N == 0) return;
    struct cuda_ctx *c = cuda_ctx_of(b->ctx);
    CHECK_CUBLAS(cublasGemmEx(c->blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                              trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, CUDA_R_16BF,
                              ldb, A, CUDA_R_16BF, lda, &beta, Cm, CUDA_R_32F, ldc,
                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    if (c->is_sync) CHECK_CUDA(cudaStreamSynchronize(c->stream));
}
