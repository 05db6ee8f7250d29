// The training products: C = alpha op(A) op(B) + beta C for M, N, K in the hundreds and
// thousands, on AVX-512 (Goto's algorithm, BLIS's blocking):
//
//   for each chunk of MCH rows, each slice of KC values of k (pc):
//     pack op(A)[rows, pc..] into k-major panels of MR rows;
//     for each block of NC columns: pack op(B)[pc.., columns] into k-major panels of NR
//       columns; for each row panel, each column panel: an MR x NR block of C from kc
//       multiply-adds held in 16 registers, then written once: C = alpha acc + beta C on the
//       first slice, C = C + alpha acc on the others.
//
// Every element of C is therefore the same chain whatever M, N, the thread count and the
// element's place: a fused multiply-add chain over each slice of k starting from 0, the
// slices added to C in order. Rows (and columns) do not influence each other. The threads
// pack the panels together and split the row panels.
//
// The micro-kernel broadcasts A and loads B: 8 rows x 32 columns (2 vectors), 16
// accumulators. On one Zen 4 core it runs at 113-115 GFLOP/s from cache (the core's fused
// multiply-add peak is 116); packing uses 8 x 8 transposes where op(X) is read across rows.
#include <omp.h>
#include <string.h>

#include "core/check.h"
#include "model/cpu/kernels.h"

// Blocking, tuned on one Zen 4 core (1 MiB L2): slices of KC values of k; B packed KC x NC
// at a time; A packed MCH x KC at a time (re-packed for no column block).
enum { MR = 8, NR = 32, KC = 384, NC = 384, MCH = 2048, PREFETCH_K = 8 };

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAS_PACKED 1
#define AVX512     __attribute__((target("avx512f")))

// dst[c * ldd + r] = src[r * lds + c] for r, c < 8.
AVX512 static inline void transpose8(float *dst, int ldd, const float *src, int lds) {
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + (size_t)i * lds);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(dst + (size_t)i * ldd, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
        _mm256_storeu_ps(dst + (size_t)(i + 4) * ldd, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
    }
}

// P[k * W + r] = X(r, k) for r < n (zero for n <= r < W), k < kc, where X(r, k) is
// src[r * ld + k] (rows are read across: transposed in 8 x 8 blocks) or, if is_kmajor,
// src[k * ld + r] (copied).
AVX512 static void pack(float *P, int W, const float *src, int ld, bool is_kmajor, int n, int kc) {
    if (is_kmajor) {
        for (int k = 0; k < kc; k++) {
            const float *s = src + (size_t)k * ld;
            float *p = P + (size_t)k * W;
            if (n == W && W == MR) {
                _mm256_storeu_ps(p, _mm256_loadu_ps(s));
            } else if (n == W && W == NR) {
                _mm512_storeu_ps(p, _mm512_loadu_ps(s));
                _mm512_storeu_ps(p + 16, _mm512_loadu_ps(s + 16));
            } else {
                for (int r = 0; r < n; r++) p[r] = s[r];
                for (int r = n; r < W; r++) p[r] = 0;
            }
        }
        return;
    }
    int n8 = n / 8 * 8, k8 = kc / 8 * 8;
    for (int r = 0; r < n8; r += 8) {
        const float *s = src + (size_t)r * ld;
        for (int k = 0; k < k8; k += 8) transpose8(P + (size_t)k * W + r, W, s + k, ld);
        for (int k = k8; k < kc; k++)
            for (int i = 0; i < 8; i++) P[(size_t)k * W + r + i] = s[(size_t)i * ld + k];
    }
    for (int k = 0; k < kc; k++) {
        float *p = P + (size_t)k * W;
        for (int r = n8; r < n; r++) p[r] = src[(size_t)r * ld + k];
        for (int r = n; r < W; r++) p[r] = 0;
    }
}

// An MR x NR block of C (row stride ldc) from kc multiply-adds of the packed panels.
// is_first: C = alpha acc + beta C (C not read when beta is 0); else C = C + alpha acc.
AVX512 static void kernel(float *Cm, int ldc, const float *Ap, const float *Bp, int kc, float alpha,
                          float beta, bool is_first) {
    __m512 c0[MR], c1[MR];
    for (int i = 0; i < MR; i++) { // C is read at the end: start fetching it now
        _mm_prefetch((const char *)(Cm + (size_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(Cm + (size_t)i * ldc + 16), _MM_HINT_T0);
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) c0[i] = c1[i] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++) {
        // Prefetches past the panel's end are harmless (no fault, the packed buffers go on).
        _mm_prefetch((const char *)(Bp + (size_t)(k + PREFETCH_K) * NR), _MM_HINT_T0);
        _mm_prefetch((const char *)(Bp + (size_t)(k + PREFETCH_K) * NR + 16), _MM_HINT_T0);
        __m512 b0 = _mm512_load_ps(Bp + (size_t)k * NR),
               b1 = _mm512_load_ps(Bp + (size_t)k * NR + 16);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            __m512 a = _mm512_set1_ps(Ap[(size_t)k * MR + i]);
            c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
        }
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        float *c = Cm + (size_t)i * ldc;
        __m512 x0 = _mm512_mul_ps(va, c0[i]), x1 = _mm512_mul_ps(va, c1[i]);
        if (!is_first) {
            x0 = _mm512_add_ps(_mm512_loadu_ps(c), x0);
            x1 = _mm512_add_ps(_mm512_loadu_ps(c + 16), x1);
        } else if (beta != 0) {
            x0 = _mm512_add_ps(x0, _mm512_mul_ps(vb, _mm512_loadu_ps(c)));
            x1 = _mm512_add_ps(x1, _mm512_mul_ps(vb, _mm512_loadu_ps(c + 16)));
        }
        _mm512_storeu_ps(c, x0);
        _mm512_storeu_ps(c + 16, x1);
    }
}

// An mr x nr <= MR x NR block of C: whole blocks in place, edge blocks through a full-size
// copy, so that both take the same arithmetic.
AVX512 static void block(float *Cm, int ldc, int mr, int nr, const float *Ap, const float *Bp,
                         int kc, float alpha, float beta, bool is_first) {
    if (mr == MR && nr == NR) {
        kernel(Cm, ldc, Ap, Bp, kc, alpha, beta, is_first);
        return;
    }
    float t[MR * NR];
    bool reads_c = !is_first || beta != 0;
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
            t[i * NR + j] = reads_c && i < mr && j < nr ? Cm[(size_t)i * ldc + j] : 0;
    kernel(t, NR, Ap, Bp, kc, alpha, beta, is_first);
    for (int i = 0; i < mr; i++) memcpy(Cm + (size_t)i * ldc, t + i * NR, sizeof(float) * nr);
}
#else
#define HAS_PACKED 0
#endif

bool cpu_gemm_packed_is_vectorised(void) {
#if HAS_PACKED
    return __builtin_cpu_supports("avx512f");
#else
    return false;
#endif
}

size_t cpu_gemm_packed_scratch(void) {
    return (size_t)KC * NC + (size_t)MCH * KC;
}

void cpu_gemm_packed(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
                     int lda, const float *B, int ldb, float beta, float *Cm, int ldc,
                     float *scratch, int n_threads) {
#if HAS_PACKED
    if (M <= 0 || N <= 0) return;
    float *Bp = scratch, *Ap = scratch + (size_t)KC * NC;
#pragma omp parallel num_threads(n_threads)
    for (int m0 = 0; m0 < M; m0 += MCH) {
        int mh = M - m0 < MCH ? M - m0 : MCH, n_rp = (mh + MR - 1) / MR;
        for (int pc = 0; pc < (K > 0 ? K : 1); pc += KC) {
            int kc = K - pc < KC ? K - pc : KC;
            // op(A)(i, k): A[i lda + k], or A[k lda + i] when transposed.
#pragma omp for schedule(static)
            for (int rp = 0; rp < n_rp; rp++) {
                int i = m0 + rp * MR, mr = M - i < MR ? M - i : MR;
                const float *src = trans_a ? A + (size_t)pc * lda + i : A + (size_t)i * lda + pc;
                pack(Ap + (size_t)rp * MR * kc, MR, src, lda, trans_a, mr, kc);
            }
            for (int jc = 0; jc < N; jc += NC) {
                int nc = N - jc < NC ? N - jc : NC, n_np = (nc + NR - 1) / NR;
                // op(B)(k, j): B[k ldb + j], or B[j ldb + k] when transposed.
#pragma omp for schedule(static)
                for (int p = 0; p < n_np; p++) {
                    int j = jc + p * NR, nr = N - j < NR ? N - j : NR;
                    const float *src =
                        trans_b ? B + (size_t)j * ldb + pc : B + (size_t)pc * ldb + j;
                    pack(Bp + (size_t)p * NR * kc, NR, src, ldb, !trans_b, nr, kc);
                }
#pragma omp for schedule(static)
                for (int rp = 0; rp < n_rp; rp++) {
                    int i = m0 + rp * MR, mr = M - i < MR ? M - i : MR;
                    for (int p = 0; p < n_np; p++) {
                        int j = jc + p * NR, nr = N - j < NR ? N - j : NR;
                        block(Cm + (size_t)i * ldc + j, ldc, mr, nr, Ap + (size_t)rp * MR * kc,
                              Bp + (size_t)p * NR * kc, kc, alpha, beta, pc == 0);
                    }
                }
            }
        }
    }
#else
    (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda;
    (void)B, (void)ldb, (void)beta, (void)Cm, (void)ldc, (void)scratch, (void)n_threads;
    CHECK(false, "cpu_gemm_packed without its AVX-512 kernel");
#endif
}
