// A GEMM C = alpha A W^T + beta C whose every element is one fixed chain of multiply-adds over
// k = 0 .. K-1 (c = c + a_k w_k, then alpha c + beta C), whatever M, N, the row's place in A or
// the thread count: the result of a row does not depend on the other rows of the call (batch
// invariance) without padding calls to a fixed row count. W is packed 32 columns at a time
// into a per-thread panel (k-major) that every row block of A then reuses, so the packing is
// paid once per call, not once per chunk of rows. The micro-kernel keeps an 8 x 32 block of C
// in registers: AVX-512 (fused multiply-add) where the CPU has it, else plain C (multiply,
// then add); a machine always takes the same path.
#include <omp.h>
#include <string.h>

#include "model/cpu/kernels.h"

enum { NR = 32, MR = 8 };

// P[k * NR + j] = W[n0 + j][k] for j < nr, 0 for nr <= j < NR.
static void pack_panel(float *P, const float *W, int ldw, int n0, int nr, int K) {
    if (nr < NR) memset(P, 0, sizeof(float) * NR * (size_t)K);
    for (int j = 0; j < nr; j++) {
        const float *w = W + (size_t)(n0 + j) * ldw;
        for (int k = 0; k < K; k++) P[(size_t)k * NR + j] = w[k];
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(GEMM_FIXED_PLAIN_ONLY)
#include <immintrin.h>
#define HAS_AVX512_PATH 1

// mr (1..MR) rows of A times the panel into C (nr <= NR columns).
__attribute__((target("avx512f"), always_inline)) static inline void
kern_avx512(int mr, const float *A, int lda, const float *P, int K, float *Cm, int ldc, int nr,
            float alpha, float beta) {
    __m512 c[MR][2];
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) c[r][0] = c[r][1] = _mm512_setzero_ps();
    for (int k = 0; k < K; k++) {
        __m512 w0 = _mm512_loadu_ps(P + (size_t)k * NR),
               w1 = _mm512_loadu_ps(P + (size_t)k * NR + 16);
#pragma GCC unroll 8
        for (int r = 0; r < mr; r++) {
            __m512 a = _mm512_set1_ps(A[(size_t)r * lda + k]);
            c[r][0] = _mm512_fmadd_ps(a, w0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(a, w1, c[r][1]);
        }
    }
    __mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xffff : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
    for (int r = 0; r < mr; r++) {
        float *o = Cm + (size_t)r * ldc;
        __m512 x0 = _mm512_mul_ps(va, c[r][0]), x1 = _mm512_mul_ps(va, c[r][1]);
        if (beta != 0) {
            x0 = _mm512_add_ps(x0, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m0, o)));
            x1 = _mm512_add_ps(x1, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m1, o + 16)));
        }
        _mm512_mask_storeu_ps(o, m0, x0);
        _mm512_mask_storeu_ps(o + 16, m1, x1);
    }
}

__attribute__((target("avx512f"))) static void rows_avx512(const float *A, int lda, const float *P,
                                                           int M, int K, float *Cm, int ldc, int nr,
                                                           float alpha, float beta) {
    int i = 0;
    for (; i + MR <= M; i += MR)
        kern_avx512(MR, A + (size_t)i * lda, lda, P, K, Cm + (size_t)i * ldc, ldc, nr, alpha, beta);
    const float *a = A + (size_t)i * lda;
    float *c = Cm + (size_t)i * ldc;
    switch (M - i) { // the same chains for fewer rows
    case 7:
        kern_avx512(7, a, lda, P, K, c, ldc, nr, alpha, beta);
        break;
    case 6:
        kern_avx512(6, a, lda, P, K, c, ldc, nr, alpha, beta);
        break;
    case 5:
        kern_avx512(5, a, lda, P, K, c, ldc, nr, alpha, beta);
        break;
    case 4:
        kern_avx512(4, a, lda, P, K, c, ldc, nr, alpha, beta);
        break;
    case 3:
        kern_avx512(3, a, lda, P, K, c, ldc, nr, alpha, beta);
        break;
    case 2:
        kern_avx512(2, a, lda, P, K, c, ldc, nr, alpha, beta);
        break;
    case 1:
        kern_avx512(1, a, lda, P, K, c, ldc, nr, alpha, beta);
        break;
    default:
        break;
    }
}
#else
#define HAS_AVX512_PATH 0
#endif

// Plain C: per row, acc[j] = acc[j] + a_k P[k][j] (no contraction in ISO C mode).
static void rows_plain(const float *A, int lda, const float *P, int M, int K, float *Cm, int ldc,
                       int nr, float alpha, float beta) {
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * lda;
        float acc[NR] = {0};
        for (int k = 0; k < K; k++) {
            const float *p = P + (size_t)k * NR;
            for (int j = 0; j < NR; j++) acc[j] += a[k] * p[j];
        }
        float *c = Cm + (size_t)i * ldc;
        for (int j = 0; j < nr; j++)
            c[j] = beta != 0 ? alpha * acc[j] + beta * c[j] : alpha * acc[j];
    }
}

size_t cpu_gemm_fixed_scratch(int n_threads, int max_k) {
    return (size_t)n_threads * NR * (size_t)max_k;
}

void cpu_gemm_fixed(float *Cm, int ldc, const float *A, int lda, const float *W, int ldw, int M,
                    int N, int K, float alpha, float beta, float *scratch, int n_threads) {
    if (M <= 0 || N <= 0) return;
#if HAS_AVX512_PATH
    const bool is_avx512 = __builtin_cpu_supports("avx512f");
#else
    const bool is_avx512 = false;
#endif
    int n_panels = (N + NR - 1) / NR;
    int nt = (double)M * N * K < 1e6 || omp_in_parallel() ? 1 : n_threads;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int p = 0; p < n_panels; p++) {
        float *P = scratch + (size_t)omp_get_thread_num() * NR * K;
        int n0 = p * NR, nr = N - n0 < NR ? N - n0 : NR;
        pack_panel(P, W, ldw, n0, nr, K);
#if HAS_AVX512_PATH
        if (is_avx512) {
            rows_avx512(A, lda, P, M, K, Cm + n0, ldc, nr, alpha, beta);
            continue;
        }
#endif
        rows_plain(A, lda, P, M, K, Cm + n0, ldc, nr, alpha, beta);
    }
}
