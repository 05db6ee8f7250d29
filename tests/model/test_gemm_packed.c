// cpu_gemm_packed (model/cpu/gemm_packed.c): every transpose case against a double-precision
// product, on shapes that leave partial panels and blocks on every side (and more than one
// slice of k, block of columns and chunk of rows); BLAS semantics of alpha, beta (C not read
// when beta is 0), K = 0 and leading dimensions; and the invariance the kernel promises: an
// element's bits do not depend on the thread count, the row count or the element's place.
// Skipped where the machine has no AVX-512 (cpu_gemm then uses OpenBLAS alone).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "model/cpu/kernels.h"

static void fill(float *x, size_t n, uint64_t seed) {
    struct rng_seq s;
    rng_seq_init(&s, seed, rng_stream_id(RNG_TEST, 12, 0, 0), 0);
    for (size_t i = 0; i < n; i++) x[i] = (float)rng_seq_normal(&s);
}

struct prod {
    bool ta, tb;
    int M, N, K, lda, ldb, ldc;
    float *A, *B, *C0, *C, *scratch;
};

static float op_a(const struct prod *p, int i, int k) {
    return p->ta ? p->A[(size_t)k * p->lda + i] : p->A[(size_t)i * p->lda + k];
}
static float op_b(const struct prod *p, int k, int j) {
    return p->tb ? p->B[(size_t)j * p->ldb + k] : p->B[(size_t)k * p->ldb + j];
}

// Operands with leading dimensions 1-3 past the minimum, C0 random.
static void prod_make(struct prod *p, bool ta, bool tb, int M, int N, int K, uint64_t seed) {
    *p = (struct prod){.ta = ta, .tb = tb, .M = M, .N = N, .K = K};
    int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    p->lda = ac + 1, p->ldb = bc + 3, p->ldc = N + 2;
    p->A = calloc((size_t)ar * p->lda + 1, 4);
    p->B = calloc((size_t)br * p->ldb + 1, 4);
    p->C0 = calloc((size_t)M * p->ldc, 4);
    p->C = calloc((size_t)M * p->ldc, 4);
    p->scratch = alloc_aligned(NULL, MEM_OTHER, cpu_gemm_packed_scratch() * sizeof(float));
    fill(p->A, (size_t)ar * p->lda, seed);
    fill(p->B, (size_t)br * p->ldb, seed + 1);
    fill(p->C0, (size_t)M * p->ldc, seed + 2);
}

static void prod_free(struct prod *p) {
    free(p->A), free(p->B), free(p->C0), free(p->C);
    alloc_free(NULL, MEM_OTHER, cpu_gemm_packed_scratch() * sizeof(float), (void **)&p->scratch);
}

static void prod_run(struct prod *p, float alpha, float beta, int n_threads) {
    memcpy(p->C, p->C0, sizeof(float) * (size_t)p->M * p->ldc);
    cpu_gemm_packed(p->ta, p->tb, p->M, p->N, p->K, alpha, p->A, p->lda, p->B, p->ldb, beta, p->C,
                    p->ldc, p->scratch, n_threads);
}

// C[i][j] against double; every element, or (stride > 1) a lattice of them. fp32 chains of
// fused multiply-adds over N(0,1) products: error a few 1e-7 per term of sum |a b|.
static void check_elem(const struct prod *p, int i, int j, float alpha, float beta) {
    double s = 0, mag = 0;
    for (int k = 0; k < p->K; k++) {
        double t = (double)op_a(p, i, k) * op_b(p, k, j);
        s += t, mag += fabs(t);
    }
    double c0 = p->C0[(size_t)i * p->ldc + j];
    double want = alpha * s + beta * c0, got = p->C[(size_t)i * p->ldc + j];
    double tol = 1e-6 * (fabs(alpha) * mag + fabs(beta * c0)) + 1e-30;
    if (!(fabs(got - want) <= tol))
        fail_msg("C[%d][%d] = %.9g, want %.9g (ta %d tb %d M %d N %d K %d)", i, j, got, want, p->ta,
                 p->tb, p->M, p->N, p->K);
}

static void check_all(const struct prod *p, float alpha, float beta, int stride) {
    for (int i = 0; i < p->M; i++)
        for (int j = 0; j < p->ldc; j++) {
            if (i % stride && i != p->M - 1) break;
            if (j >= p->N) { // the padding of C's rows: untouched
                assert_true(p->C[(size_t)i * p->ldc + j] == p->C0[(size_t)i * p->ldc + j]);
                continue;
            }
            if (j % stride == 0 || j == p->N - 1) check_elem(p, i, j, alpha, beta);
        }
}

static bool no_kernel(void) {
    return !cpu_gemm_packed_is_vectorised();
}

static void test_transposes_and_edges(void **state) {
    (void)state;
    if (no_kernel()) skip();
    // M, N, K: partial row and column panels, one and several slices of k (KC = 384).
    static const int shapes[][3] = {{1, 1, 1},    {7, 33, 5},    {9, 31, 384},
                                    {8, 32, 385}, {45, 70, 800}, {130, 97, 17}};
    for (int t = 0; t < 4; t++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            struct prod p;
            prod_make(&p, t & 1, t & 2, shapes[s][0], shapes[s][1], shapes[s][2], 10 + s);
            prod_run(&p, 1.0f, 0.0f, 2);
            check_all(&p, 1.0f, 0.0f, 1);
            prod_run(&p, 0.5f, 1.0f, 1);
            check_all(&p, 0.5f, 1.0f, 1);
            prod_run(&p, -2.0f, 0.25f, 3);
            check_all(&p, -2.0f, 0.25f, 1);
            prod_free(&p);
        }
}

// More than one chunk of rows (2048) and block of columns (384): checked on a lattice.
static void test_large(void **state) {
    (void)state;
    if (no_kernel()) skip();
    for (int t = 0; t < 4; t++) {
        struct prod p;
        prod_make(&p, t & 1, t & 2, 2061, 400, 390, 30 + t);
        prod_run(&p, 1.0f, 1.0f, 2);
        check_all(&p, 1.0f, 1.0f, 37);
        prod_free(&p);
    }
}

// beta = 0 never reads C (NaN there stays out); K = 0 scales C by beta.
static void test_blas_semantics(void **state) {
    (void)state;
    if (no_kernel()) skip();
    struct prod p;
    prod_make(&p, false, true, 19, 40, 50, 40);
    for (size_t i = 0; i < (size_t)p.M * p.ldc; i++) p.C0[i] = NAN;
    prod_run(&p, 1.0f, 0.0f, 2);
    for (int i = 0; i < p.M; i++)
        for (int j = 0; j < p.N; j++) assert_false(isnan(p.C[(size_t)i * p.ldc + j]));
    fill(p.C0, (size_t)p.M * p.ldc, 41);
    p.K = 0;
    prod_run(&p, 1.0f, 0.5f, 1);
    for (int i = 0; i < p.M; i++)
        for (int j = 0; j < p.N; j++)
            assert_true(p.C[(size_t)i * p.ldc + j] == 0.5f * p.C0[(size_t)i * p.ldc + j]);
    prod_free(&p);
}

// The same bits for 1, 2 and 5 threads; a row alone, or among other rows at another place,
// gives the same bits as in the whole product; so does a column.
static void test_invariance(void **state) {
    (void)state;
    if (no_kernel()) skip();
    for (int t = 0; t < 4; t++) {
        struct prod p;
        prod_make(&p, t & 1, t & 2, 53, 77, 800, 50 + t);
        prod_run(&p, 1.0f, 0.0f, 1);
        size_t n = (size_t)p.M * p.ldc;
        float *ref = malloc(n * 4);
        memcpy(ref, p.C, n * 4);
        for (int nt = 2; nt <= 5; nt += 3) {
            prod_run(&p, 1.0f, 0.0f, nt);
            assert_memory_equal(p.C, ref, n * 4);
        }
        for (int i = 0; i < p.M; i += 4) { // rows i .. M-1 alone: row i first
            const float *a = p.ta ? p.A + i : p.A + (size_t)i * p.lda;
            float *c = calloc((size_t)(p.M - i) * p.ldc, 4);
            cpu_gemm_packed(p.ta, p.tb, p.M - i, p.N, p.K, 1.0f, a, p.lda, p.B, p.ldb, 0.0f, c,
                            p.ldc, p.scratch, 2);
            assert_memory_equal(c, ref + (size_t)i * p.ldc, sizeof(float) * p.N);
            free(c);
        }
        for (int j = 0; j < p.N; j += 5) { // column j alone
            const float *b = p.tb ? p.B + (size_t)j * p.ldb : p.B + j;
            float *c = calloc((size_t)p.M, 4);
            cpu_gemm_packed(p.ta, p.tb, p.M, 1, p.K, 1.0f, p.A, p.lda, b, p.ldb, 0.0f, c, 1,
                            p.scratch, 1);
            for (int i = 0; i < p.M; i++) assert_true(c[i] == ref[(size_t)i * p.ldc + j]);
            free(c);
        }
        free(ref);
        prod_free(&p);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transposes_and_edges),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_blas_semantics),
        cmocka_unit_test(test_invariance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
