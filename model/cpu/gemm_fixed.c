// A GEMM C = alpha A W^T + beta C whose every element is one fixed chain of multiply-adds over
// k = 0 .. K-1 (c = c + a_k w_k, then alpha c + beta C), whatever M, N, the row's place in A or
// the thread count: the result of a row does not depend on the other rows of the call (batch
// invariance) without padding calls to a fixed row count.
//
// W (N,K) is read in place, 16 rows at a time; A is packed once per call (per MC rows) into
// k-major panels of 16 rows, zero-padded. The micro-kernel holds a 16 x 16 block of C
// transposed: accumulator n is C[i0 .. i0+15][n0 + n], updated with one broadcast of W[n0+n][k]
// times the panel's column k. AVX-512 (fused multiply-add) where the CPU has it, else plain C
// (multiply, then add); a machine always takes the same path.
#include <omp.h>
#include <string.h>

#include "model/cpu/kernels.h"

enum { MP = 16, NW = 16, MC = 256 };

// Ap[k * MP + i] = A[i0 + i][k] for i < mr, 0 for mr <= i < MP.
static void pack_panel(float *Ap, const float *A, int lda, int mr, int K) {
    if (mr < MP) memset(Ap, 0, sizeof(float) * MP * (size_t)K);
    for (int i = 0; i < mr; i++) {
        const float *a = A + (size_t)i * lda;
        for (int k = 0; k < K; k++) Ap[(size_t)k * MP + i] = a[k];
    }
}

// acc (NW x MP, accumulator n = row n) -> C rows i < mr, columns n < nr.
static void store_block(float *Cm, int ldc, const float *acc, int mr, int nr, float alpha,
                        float beta) {
    for (int i = 0; i < mr; i++) {
        float *c = Cm + (size_t)i * ldc;
        if (beta != 0)
            for (int n = 0; n < nr; n++) c[n] = alpha * acc[n * MP + i] + beta * c[n];
        else
            for (int n = 0; n < nr; n++) c[n] = alpha * acc[n * MP + i];
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(GEMM_FIXED_PLAIN_ONLY)
#include <immintrin.h>
#define HAS_AVX512_PATH 1

// One panel (16 rows of A) times NW rows of W (w[n] at W + n * ldw).
__attribute__((target("avx512f"))) static void kern_avx512(float *acc, const float *Ap,
                                                           const float *W, int ldw, int K) {
    __m512 c[NW];
    const float *w[NW];
#pragma GCC unroll 16
    for (int n = 0; n < NW; n++) c[n] = _mm512_setzero_ps(), w[n] = W + (size_t)n * ldw;
    for (int k = 0; k < K; k++) {
        __m512 a = _mm512_loadu_ps(Ap + (size_t)k * MP);
#pragma GCC unroll 16
        for (int n = 0; n < NW; n++) c[n] = _mm512_fmadd_ps(_mm512_set1_ps(w[n][k]), a, c[n]);
    }
#pragma GCC unroll 16
    for (int n = 0; n < NW; n++) _mm512_storeu_ps(acc + n * MP, c[n]);
}
#else
#define HAS_AVX512_PATH 0
#endif

static void kern_plain(float *acc, const float *Ap, const float *W, int ldw, int K) {
    memset(acc, 0, sizeof(float) * NW * MP);
    for (int k = 0; k < K; k++) {
        const float *a = Ap + (size_t)k * MP;
        for (int n = 0; n < NW; n++) {
            float wk = W[(size_t)n * ldw + k];
            for (int i = 0; i < MP; i++) acc[n * MP + i] += wk * a[i];
        }
    }
}

bool cpu_gemm_fixed_is_vectorised(void) {
#if HAS_AVX512_PATH
    return __builtin_cpu_supports("avx512f");
#else
    return false;
#endif
}

size_t cpu_gemm_fixed_scratch(int n_threads, int max_k) {
    // packed A (MC rows) + per thread a zero-padded copy of the last W rows
    return (size_t)MC * max_k + (size_t)n_threads * NW * max_k;
}

void cpu_gemm_fixed(float *Cm, int ldc, const float *A, int lda, const float *W, int ldw, int M,
                    int N, int K, float alpha, float beta, float *scratch, int n_threads) {
    if (M <= 0 || N <= 0) return;
#if HAS_AVX512_PATH
    const bool is_avx512 = __builtin_cpu_supports("avx512f");
#else
    const bool is_avx512 = false;
#endif
    float *Ap = scratch, *wpad = scratch + (size_t)MC * K;
    int n_blocks = (N + NW - 1) / NW;
    for (int m0 = 0; m0 < M; m0 += MC) {
        int mc = M - m0 < MC ? M - m0 : MC, n_panels = (mc + MP - 1) / MP;
        int nt = (double)mc * N * K < 1e6 || omp_in_parallel() ? 1 : n_threads;
#pragma omp parallel num_threads(nt)
        {
#pragma omp for schedule(static)
            for (int p = 0; p < n_panels; p++) {
                int i0 = p * MP, mr = mc - i0 < MP ? mc - i0 : MP;
                pack_panel(Ap + (size_t)p * MP * K, A + (size_t)(m0 + i0) * lda, lda, mr, K);
            }
#pragma omp for schedule(static)
            for (int nb = 0; nb < n_blocks; nb++) {
                int n0 = nb * NW, nr = N - n0 < NW ? N - n0 : NW;
                const float *w = W + (size_t)n0 * ldw;
                int lw = ldw;
                if (nr < NW) { // the last rows, zero-padded to a full block
                    float *wp = wpad + (size_t)omp_get_thread_num() * NW * K;
                    memset(wp, 0, sizeof(float) * NW * (size_t)K);
                    for (int n = 0; n < nr; n++)
                        memcpy(wp + (size_t)n * K, w + (size_t)n * ldw, sizeof(float) * K);
                    w = wp;
                    lw = K;
                }
                float acc[NW * MP];
                for (int p = 0; p < n_panels; p++) {
                    int i0 = p * MP, mr = mc - i0 < MP ? mc - i0 : MP;
                    const float *ap = Ap + (size_t)p * MP * K;
#if HAS_AVX512_PATH
                    if (is_avx512)
                        kern_avx512(acc, ap, w, lw, K);
                    else
#endif
                        kern_plain(acc, ap, w, lw, K);
                    store_block(Cm + (size_t)(m0 + i0) * ldc + n0, ldc, acc, mr, nr, alpha, beta);
                }
            }
        }
    }
}
