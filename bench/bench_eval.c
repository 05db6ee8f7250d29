// The cost of grpo eval's per-problem tally (trainer/eval_metrics.c), mostly
// maj@k's grouping of answers by the verifier's equivalence, against grouping
// by exact string in the same run. Worst case: every answer different (k
// classes, k(k-1)/2 equivalence checks a problem); typical: 4 distinct answers.
// Usage: build/bench/bench_eval [SECONDS]
#include <stdio.h>
#include <stdlib.h>

#include "core/timer.h"
#include "trainer/eval.h"

// Problems a second for k samples with n_distinct different answers (fractions
// and decimals, so the equivalence parser and evaluation do real work).
static double problems_per_s(struct reward_equiv *equiv, int k, int n_distinct, double seconds) {
    struct reward_verdict *v = calloc((size_t)k, sizeof *v);
    float *rm = calloc((size_t)k, sizeof *rm);
    int64_t *len = calloc((size_t)k, sizeof *len);
    for (int j = 0; j < k; j++) {
        int a = j % n_distinct;
        snprintf(v[j].extracted, sizeof v[j].extracted, a % 2 ? "\\frac{%d}{7}" : "%d.25", a + 1);
        v[j].is_correct = a == 0;
        rm[j] = (float)((j * 37) % 11);
        len[j] = 100;
    }
    struct eval_problem p = {.verdicts = v, .rm_score = rm, .n_tokens = len};
    struct eval_tally t;
    eval_tally_init(&t, k, true);
    struct eval_outcome oc;
    double t0 = time_now_s(), s = 0;
    int64_t n = 0;
    while (s < seconds) {
        for (int i = 0; i < 8; i++) eval_tally_add(&t, equiv, &p, &oc);
        n += 8;
        s = time_now_s() - t0;
    }
    free(v), free(rm), free(len);
    return (double)n / s;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 0.5;
    struct reward_equiv_opts eo;
    reward_equiv_opts_default(&eo);
    struct reward_equiv *equiv = NULL;
    struct err e = {0};
    if (reward_equiv_create(&eo, &equiv, &e) != 0) {
        fprintf(stderr, "error: %s\n", e.msg);
        return 1;
    }
    printf("%6s %9s %16s %16s %8s\n", "k", "distinct", "equiv prob/s", "strcmp prob/s", "ratio");
    const int ks[] = {8, 64, 256};
    for (int i = 0; i < 3; i++)
        for (int distinct_all = 0; distinct_all < 2; distinct_all++) {
            int k = ks[i], d = distinct_all ? k : 4;
            double a = problems_per_s(equiv, k, d, seconds),
                   b = problems_per_s(NULL, k, d, seconds);
            printf("%6d %9d %16.0f %16.0f %8.3f\n", k, d, a, b, a / b);
        }
    reward_equiv_destroy(&equiv);
    return 0;
}
