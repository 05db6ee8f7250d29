// The CUDA backend table and context (cuBLAS handle, stream, scratch), device memory helpers,
// and the kernels too small for a file of their own: sgemm through cuBLAS, y += x, the sum of
// squares (double, fixed reduction tree), AdamW.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

extern "C" {
#include "core/err.h"
}
#include "model/cuda/cuda.h"
#include "model/cuda/cuda_internal.cuh"

extern "C" int cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); // no device / no driver: a normal state, clear the sticky error
        return 0;
    }
    return n;
}

void *cuda_scratch(struct cuda_ctx *c, size_t n_bytes) {
    if (n_bytes > c->scratch_bytes) {
        CHECK_CUDA(cudaStreamSynchronize(c->stream));
        CHECK_CUDA(cudaFree(c->scratch));
        size_t n = n_bytes < ((size_t)1 << 20) ? (size_t)1 << 20 : n_bytes;
        CHECK_CUDA(cudaMalloc(&c->scratch, n));
        c->scratch_bytes = n;
    }
    return c->scratch;
}

// Row-major C(M,N) = op(A) op(B) is column-major C^T(N,M) = op(B)^T op(A)^T, and a row-major
// matrix with row stride ld is the column-major transpose with leading dimension ld: so swap
// the operands and keep the transposition flags. Default math mode: true fp32 (no TF32).
static void cuda_gemm(void *ctx, bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                      const float *A, int lda, const float *B, int ldb, float beta, float *Cm,
                      int ldc) {
    if (M == 0 || N == 0) return;
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    CHECK_CUBLAS(cublasSgemm(c->blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                             trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, ldb, A, lda,
                             &beta, Cm, ldc));
    if (c->is_sync) CHECK_CUDA(cudaStreamSynchronize(c->stream));
}

__global__ void add_kernel(float *y, const float *x, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        y[i] += x[i];
}

static void cuda_add(void *ctx, float *y, const float *x, size_t n) {
    if (n == 0) return;
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    unsigned nb = cuda_grid(n);
    add_kernel<<<nb, 256, 0, c->stream>>>(y, x, n);
    CHECK_LAUNCH(c);
}

enum { SUMSQ_BLOCKS = 256, SUMSQ_THREADS = 256 };

// Fixed grid, grid-stride loop, double per thread, block tree, then one block sums the
// SUMSQ_BLOCKS partials in a fixed tree: the same bits on every run for a given n.
__global__ void sumsq_partial_kernel(double *part, const float *x, size_t n) {
    __shared__ double sh[32];
    double s = 0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        s += (double)x[i] * x[i];
    s = block_sum(s, sh);
    if (threadIdx.x == 0) part[blockIdx.x] = s;
}

__global__ void sumsq_final_kernel(double *out, const double *part, int n) {
    __shared__ double sh[32];
    double s = (int)threadIdx.x < n ? part[threadIdx.x] : 0.0;
    s = block_sum(s, sh);
    if (threadIdx.x == 0) *out = s;
}

static double cuda_sumsq(void *ctx, const float *x, size_t n) {
    if (n == 0) return 0;
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    double *part = (double *)cuda_scratch(c, (SUMSQ_BLOCKS + 1) * sizeof(double));
    sumsq_partial_kernel<<<SUMSQ_BLOCKS, SUMSQ_THREADS, 0, c->stream>>>(part, x, n);
    CHECK_LAUNCH(c);
    sumsq_final_kernel<<<1, SUMSQ_BLOCKS, 0, c->stream>>>(part + SUMSQ_BLOCKS, part, SUMSQ_BLOCKS);
    CHECK_LAUNCH(c);
    double s = 0;
    CHECK_CUDA(
        cudaMemcpyAsync(&s, part + SUMSQ_BLOCKS, sizeof s, cudaMemcpyDeviceToHost, c->stream));
    CHECK_CUDA(cudaStreamSynchronize(c->stream));
    return s;
}

// torch.optim.AdamW, the same expression as cpu_adamw.
__global__ void adamw_kernel(float *p, float *m, float *v, const float *g, size_t n, float decay,
                             float step, float rbc2, float b1, float b2, float eps,
                             float grad_scale) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float gi = g[i] * grad_scale;
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - step * mi / (sqrtf(vi) * rbc2 + eps);
    }
}

static void cuda_adamw(void *ctx, float *p, float *m, float *v, const float *g, size_t n, float lr,
                       float b1, float b2, float eps, float wd, float bc1, float bc2,
                       float grad_scale) {
    if (n == 0) return;
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    unsigned nb = cuda_grid(n);
    adamw_kernel<<<nb, 256, 0, c->stream>>>(p, m, v, g, n, 1.0f - lr * wd, lr / bc1,
                                            1.0f / sqrtf(bc2), b1, b2, eps, grad_scale);
    CHECK_LAUNCH(c);
}

// ---- memory hooks (model/backend.h): device memory, copies on the backend's stream ----

static void *cuda_alloc_hook(void *ctx, size_t n_bytes) {
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    void *p = NULL;
    cudaError_t rc = cudaMalloc(&p, n_bytes ? n_bytes : 1); // 256-byte aligned
    if (rc == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        return NULL;
    }
    CHECK_CUDA(rc);
    CHECK_CUDA(cudaMemsetAsync(p, 0, n_bytes, c->stream));
    return p;
}

static void cuda_free_hook(void *ctx, void *p) {
    if (!p) return;
    CHECK_CUDA(cudaStreamSynchronize(cuda_ctx_of(ctx)->stream)); // no kernel still uses it
    CHECK_CUDA(cudaFree(p));
}

// Host memory is pageable: wait, so the caller may reuse (h2d) or read (d2h) it at once.
static void cuda_copy_h2d_hook(void *ctx, void *dst, const void *src, size_t n_bytes) {
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    CHECK_CUDA(cudaMemcpyAsync(dst, src, n_bytes, cudaMemcpyHostToDevice, c->stream));
    CHECK_CUDA(cudaStreamSynchronize(c->stream));
}

static void cuda_copy_d2h_hook(void *ctx, void *dst, const void *src, size_t n_bytes) {
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    CHECK_CUDA(cudaMemcpyAsync(dst, src, n_bytes, cudaMemcpyDeviceToHost, c->stream));
    CHECK_CUDA(cudaStreamSynchronize(c->stream));
}

static void cuda_copy_d2d_hook(void *ctx, void *dst, const void *src, size_t n_bytes) {
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    CHECK_CUDA(cudaMemcpyAsync(dst, src, n_bytes, cudaMemcpyDeviceToDevice, c->stream));
    CHECK_LAUNCH(c);
}

static void cuda_memset_hook(void *ctx, void *dst, int byte, size_t n_bytes) {
    struct cuda_ctx *c = cuda_ctx_of(ctx);
    CHECK_CUDA(cudaMemsetAsync(dst, byte, n_bytes, c->stream));
    CHECK_LAUNCH(c);
}

static const struct backend_ops cuda_ops = {
    .name = "cuda",
    .is_device = true,
    .alloc = cuda_alloc_hook,
    .free = cuda_free_hook,
    .copy_h2d = cuda_copy_h2d_hook,
    .copy_d2h = cuda_copy_d2h_hook,
    .copy_d2d = cuda_copy_d2d_hook,
    .memset = cuda_memset_hook,
    .gemm = cuda_gemm,
    .embedding_forward = cuda_embedding_forward,
    .embedding_backward = cuda_embedding_backward,
    .rmsnorm_forward = cuda_rmsnorm_forward,
    .rmsnorm_backward = cuda_rmsnorm_backward,
    .bias_forward = cuda_bias_forward,
    .bias_backward = cuda_bias_backward,
    .rope_forward = cuda_rope_forward,
    .rope_backward = cuda_rope_backward,
    .attention_forward = cuda_attention_forward,
    .attention_backward = cuda_attention_backward,
    .attention_cache = cuda_attention_cache,
    .swiglu_forward = cuda_swiglu_forward,
    .swiglu_backward = cuda_swiglu_backward,
    .add = cuda_add,
    .logsoftmax_stats = cuda_logsoftmax_stats,
    .logsoftmax_backward = cuda_logsoftmax_backward,
    .sumsq = cuda_sumsq,
    .adamw = cuda_adamw,
};

extern "C" int backend_cuda_create(int device, struct backend **out, struct err *e) {
    *out = NULL;
    int n = cuda_device_count();
    if (device < 0 || device >= n)
        return err_user(e, "cuda device '%d' not available (%d visible)", device, n);
    cudaError_t rc = cudaSetDevice(device);
    if (rc != cudaSuccess)
        return err_internal(e, "cudaSetDevice(%d): %s", device, cudaGetErrorString(rc));
    struct cuda_ctx *c = (struct cuda_ctx *)calloc(1, sizeof *c);
    struct backend *b = (struct backend *)calloc(1, sizeof *b);
    if (!c || !b) check_fail(__FILE__, __LINE__, "out of memory");
    c->device = device;
    CHECK_CUDA(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    CHECK_CUBLAS(cublasCreate(&c->blas));
    CHECK_CUBLAS(cublasSetStream(c->blas, c->stream));
    // fp32 products stay fp32 (TF32 would cost ~3e-4 relative error against the CPU backend)
    CHECK_CUBLAS(cublasSetMathMode(c->blas, CUBLAS_PEDANTIC_MATH));
    cuda_attention_init();
    b->ops = &cuda_ops;
    b->ctx = c;
    b->n_threads = 1;
    *out = b;
    return 0;
}

extern "C" void backend_cuda_destroy(struct backend **b) {
    if (!b || !*b) return;
    struct cuda_ctx *c = cuda_ctx_of((*b)->ctx);
    if (c) {
        CHECK_CUDA(cudaStreamSynchronize(c->stream));
        CHECK_CUBLAS(cublasDestroy(c->blas));
        CHECK_CUDA(cudaStreamDestroy(c->stream));
        CHECK_CUDA(cudaFree(c->scratch));
        free(c);
    }
    free(*b);
    *b = NULL;
}

extern "C" void backend_cuda_sync(const struct backend *b) {
    CHECK_CUDA(cudaStreamSynchronize(cuda_ctx_of(b->ctx)->stream));
}

extern "C" void *backend_cuda_stream(const struct backend *b) {
    return (void *)cuda_ctx_of(b->ctx)->stream;
}

extern "C" void backend_cuda_set_sync(struct backend *b, bool is_sync) {
    backend_cuda_sync(b);
    cuda_ctx_of(b->ctx)->is_sync = is_sync;
}

// Registers the whole pages that cover [p, p + n_bytes). A neighbouring buffer may already have
// registered the first or the last page (then that page is accessible already): those are left
// out and the rest registered.
extern "C" int cuda_host_register(void *p, size_t n_bytes, void **handle, struct err *e) {
    *handle = NULL;
    if (n_bytes == 0) return 0;
    const uintptr_t pg = 4096;
    uintptr_t lo = (uintptr_t)p / pg * pg, hi = ((uintptr_t)p + n_bytes + pg - 1) / pg * pg;
    cudaError_t rc = cudaErrorHostMemoryAlreadyRegistered;
    for (int k = 0; k < 4 && rc == cudaErrorHostMemoryAlreadyRegistered; k++) {
        uintptr_t a = lo + (k & 1 ? pg : 0), z = hi - (k & 2 ? pg : 0);
        if (a >= z) {
            rc = cudaSuccess; // every page is registered already
            break;
        }
        rc = cudaHostRegister((void *)a, z - a, cudaHostRegisterMapped | cudaHostRegisterPortable);
        if (rc == cudaSuccess)
            *handle = (void *)a;
        else if (rc == cudaErrorHostMemoryAlreadyRegistered)
            cudaGetLastError();
    }
    if (rc != cudaSuccess)
        return err_internal(e, "cudaHostRegister(%zu bytes): %s", n_bytes, cudaGetErrorString(rc));
    void *dp = NULL;
    rc = cudaHostGetDevicePointer(&dp, p, 0);
    if (rc != cudaSuccess || dp != p) {
        cuda_host_unregister(*handle);
        *handle = NULL;
        return err_internal(e, "registered host memory has another address on the device (%s)",
                            rc == cudaSuccess ? "no unified addressing" : cudaGetErrorString(rc));
    }
    return 0;
}

extern "C" void cuda_host_unregister(void *handle) {
    if (handle) CHECK_CUDA(cudaHostUnregister(handle));
}

extern "C" int cuda_malloc(void **p, size_t n_bytes, struct err *e) {
    *p = NULL;
    cudaError_t rc = cudaMalloc(p, n_bytes ? n_bytes : 1);
    if (rc == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        return err_user(e, "cuda: out of device memory allocating '%zu' bytes", n_bytes);
    }
    if (rc != cudaSuccess)
        return err_internal(e, "cudaMalloc(%zu): %s", n_bytes, cudaGetErrorString(rc));
    return 0;
}

extern "C" void cuda_free(void *p) {
    if (p) CHECK_CUDA(cudaFree(p));
}

static void copy(const struct backend *b, void *dst, const void *src, size_t n) {
    if (n == 0) return;
    cudaStream_t s = b ? cuda_ctx_of(b->ctx)->stream : 0;
    CHECK_CUDA(cudaMemcpyAsync(dst, src, n, cudaMemcpyDefault, s)); // direction from the pointers
    CHECK_CUDA(cudaStreamSynchronize(s));
}

extern "C" void cuda_copy_to_device(const struct backend *b, void *dst, const void *src,
                                    size_t n_bytes) {
    copy(b, dst, src, n_bytes);
}

extern "C" void cuda_copy_to_host(const struct backend *b, void *dst, const void *src,
                                  size_t n_bytes) {
    copy(b, dst, src, n_bytes);
}

extern "C" void cuda_copy(const struct backend *b, void *dst, const void *src, size_t n_bytes) {
    copy(b, dst, src, n_bytes);
}

extern "C" void cuda_fill_bytes(const struct backend *b, void *dst, int byte, size_t n_bytes) {
    if (n_bytes == 0) return;
    cudaStream_t s = b ? cuda_ctx_of(b->ctx)->stream : 0;
    CHECK_CUDA(cudaMemsetAsync(dst, byte, n_bytes, s));
    CHECK_CUDA(cudaStreamSynchronize(s));
}
