// The CUDA backend: the backend_ops table (model/backend.h) on one GPU, fp32 throughout,
// with its cuBLAS handle and stream in the context (no global state), and the device memory
// helpers that model and test code call from C. Plain C: no CUDA header is needed to include
// this one. Built only when GRPO_HAVE_CUDA (build/grpo_build.h); the declarations compile
// anywhere.
//
// Every pointer a CUDA kernel receives is a device pointer, index arrays included (tokens, pos,
// targets, cu_seqlens, cu_new, start, kv_view.block_table, kv_view.pool). The struct kv_view
// itself is read on the host. Kernels run asynchronously on the backend's stream (no launch
// reads a length from the device), except sumsq, which returns a value. A CUDA failure aborts
// with file:line (CHECK_CUDA, style.md).
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "model/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

// Number of visible CUDA devices; 0 when there is none or no driver (not an error).
int cuda_device_count(void);

// A backend on device `device` (0-based): cuBLAS handle and a non-blocking stream.
// ERR_USER when the device does not exist (names the count), ERR_INTERNAL on a CUDA failure.
int backend_cuda_create(int device, struct backend **out, struct err *e);
void backend_cuda_destroy(struct backend **b);

// The backend's stream (a cudaStream_t), for work that must be ordered with its kernels
// (NCCL collectives on gradient buffers, comm/nccl.h).
void *backend_cuda_stream(const struct backend *b);
// Waits for every kernel queued on the backend's stream.
void backend_cuda_sync(const struct backend *b);
// Synchronous mode: every op returns after its kernels have finished, so host code may read
// and write the buffers between ops (model/forward.c on host-registered memory; debugging).
void backend_cuda_set_sync(struct backend *b, bool is_sync);

// Device memory (cudaMalloc; 256-byte aligned). cuda_malloc returns ERR_USER naming the size
// when the device is out of memory; cuda_free(NULL) does nothing.
int cuda_malloc(void **p, size_t n_bytes, struct err *e);
void cuda_free(void *p);
// Synchronous copies and fill, ordered after the backend's work when b is set (else on the
// default stream). The direction follows from the pointers (unified addressing); cuda_copy
// takes any two, device to device included.
void cuda_copy_to_device(const struct backend *b, void *dst, const void *src, size_t n_bytes);
void cuda_copy_to_host(const struct backend *b, void *dst, const void *src, size_t n_bytes);
void cuda_copy(const struct backend *b, void *dst, const void *src, size_t n_bytes);
void cuda_fill_bytes(const struct backend *b, void *dst, int byte, size_t n_bytes);

// Page-locks host memory and maps it for the device at the same address, so kernels read and
// write it in place (over PCIe: a correctness harness for host-allocated model buffers, not a
// fast path). *handle is what to pass to cuda_host_unregister (NULL when neighbouring
// registrations already covered every page). ERR_INTERNAL when the device cannot use the host
// address.
int cuda_host_register(void *p, size_t n_bytes, void **handle, struct err *e);
void cuda_host_unregister(void *handle);

// bf16 (the upper half of an fp32, stored as uint16_t), the building blocks of the mixed-precision
// path; device pointers, asynchronous on the backend's stream. Conversion rounds to nearest,
// ties to even (NaN stays NaN). cuda_gemm_bf16 is the table's gemm (row-major, C(M,N) =
// alpha op(A) op(B) + beta C) with bf16 A and B, fp32 accumulation and an fp32 C.
void cuda_f32_to_bf16(const struct backend *b, uint16_t *dst, const float *src, size_t n);
void cuda_bf16_to_f32(const struct backend *b, float *dst, const uint16_t *src, size_t n);
void cuda_gemm_bf16(const struct backend *b, bool trans_a, bool trans_b, int M, int N, int K,
                    float alpha, const uint16_t *A, int lda, const uint16_t *B, int ldb, float beta,
                    float *Cm, int ldc);

#ifdef __cplusplus
}
#endif
