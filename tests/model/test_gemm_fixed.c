// cpu_gemm_fixed (model/cpu/gemm_fixed.c): against a double-precision product, and batch
// invariance: a row's bits do not depend on the call's row count, the row's place, the
// thread count or the other rows.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/cpu/kernels.h"

// fp32 sums of K <= 300 products of N(0,1) terms against a double reference, relative to
// sqrt(K) (the sum's scale): a few 1e-7 per term.
#define TOL_REL 1e-5

static void fill(float *x, size_t n, uint64_t seed) {
    struct rng_seq s;
    rng_seq_init(&s, seed, rng_stream_id(RNG_TEST, 11, 0, 0), 0);
    for (size_t i = 0; i < n; i++) x[i] = (float)rng_seq_normal(&s);
}

enum { M = 37, N = 75, K = 300, LDA = K + 3, LDW = K + 1, LDC = N + 5 };

static void test_against_double(void **state) {
    (void)state;
    float *A = calloc((size_t)M * LDA, 4), *W = calloc((size_t)N * LDW, 4);
    float *C = calloc((size_t)M * LDC, 4), *C0 = calloc((size_t)M * LDC, 4);
    float *scr = calloc(cpu_gemm_fixed_scratch(2, K), 4);
    fill(A, (size_t)M * LDA, 1);
    fill(W, (size_t)N * LDW, 2);
    fill(C0, (size_t)M * LDC, 3);
    for (int beta = 0; beta <= 1; beta++) {
        memcpy(C, C0, sizeof(float) * M * LDC);
        cpu_gemm_fixed(C, LDC, A, LDA, W, LDW, M, N, K, 0.5f, (float)beta, scr, 2);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < LDC; j++) {
                float got = C[(size_t)i * LDC + j];
                if (j >= N) { // outside the product: untouched
                    assert_true(got == C0[(size_t)i * LDC + j]);
                    continue;
                }
                double s = 0;
                for (int k = 0; k < K; k++)
                    s += (double)A[(size_t)i * LDA + k] * W[(size_t)j * LDW + k];
                double want = 0.5 * s + beta * (double)C0[(size_t)i * LDC + j];
                assert_true(fabs(got - want) <= TOL_REL * sqrt((double)K));
            }
    }
    free(A), free(W), free(C), free(C0), free(scr);
}

static void test_row_invariance(void **state) {
    (void)state;
    float *A = calloc((size_t)M * LDA, 4), *W = calloc((size_t)N * LDW, 4);
    float *C = calloc((size_t)M * LDC, 4), *R = calloc((size_t)2 * LDC, 4);
    float *scr = calloc(cpu_gemm_fixed_scratch(2, K), 4);
    fill(A, (size_t)M * LDA, 4);
    fill(W, (size_t)N * LDW, 5);
    cpu_gemm_fixed(C, LDC, A, LDA, W, LDW, M, N, K, 1.0f, 0.0f, scr, 2);
    float *B2 = calloc((size_t)2 * LDA, 4);
    for (int i = 0; i < M; i++) {
        // alone, one thread
        cpu_gemm_fixed(R, LDC, A + (size_t)i * LDA, LDA, W, LDW, 1, N, K, 1.0f, 0.0f, scr, 1);
        assert_memory_equal(R, C + (size_t)i * LDC, sizeof(float) * N);
        // second of two rows, next to another row
        memcpy(B2, A + (size_t)((i + 5) % M) * LDA, sizeof(float) * K);
        memcpy(B2 + LDA, A + (size_t)i * LDA, sizeof(float) * K);
        cpu_gemm_fixed(R, LDC, B2, LDA, W, LDW, 2, N, K, 1.0f, 0.0f, scr, 2);
        assert_memory_equal(R + LDC, C + (size_t)i * LDC, sizeof(float) * N);
    }
    free(A), free(W), free(C), free(R), free(B2), free(scr);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_double),
        cmocka_unit_test(test_row_invariance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
