// Evaluation metrics from hand-made samples with known verdicts, lengths and
// reward-model scores: accuracy, pass@j (against binomials counted directly),
// maj@k by equivalence classes, rm@k, mean length, and the JSON line.
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <cmocka.h>

#include "trainer/eval.h"

// Sums of a few doubles in a different order: a few ulps.
#define TOL 1e-12

// (this cmocka has no assert_double_equal)
#define ASSERT_NEAR(got, want, tol)                                                                \
    do {                                                                                           \
        double got_ = (got), want_ = (want);                                                       \
        if (!(fabs(got_ - want_) <= (tol)))                                                        \
            fail_msg("%s = %.17g, want %.17g (line %d)", #got, got_, want_, __LINE__);             \
    } while (0)

static struct reward_verdict verdict(const char *answer, bool is_correct) {
    struct reward_verdict v = {.is_correct = is_correct, .is_no_answer = answer == NULL};
    snprintf(v.extracted, sizeof v.extracted, "%s", answer ? answer : "");
    return v;
}

// C(n, k) by Pascal's triangle in exact integers (n <= 60).
static double binomial(int n, int k) {
    unsigned long long row[61] = {0};
    row[0] = 1;
    for (int i = 1; i <= n; i++)
        for (int j = i; j > 0; j--) row[j] += row[j - 1];
    return k < 0 || k > n ? 0 : (double)row[k];
}

static void test_pass_at_matches_binomials(void **state) {
    (void)state;
    for (int n = 1; n <= 40; n++)
        for (int c = 0; c <= n; c++)
            for (int j = 1; j <= n; j++) {
                double want = 1.0 - binomial(n - c, j) / binomial(n, j);
                double got = eval_pass_at(n, c, j);
                if (fabs(got - want) > 1e-12)
                    fail_msg("pass@%d n %d c %d: %g, want %g", j, n, c, got, want);
            }
    ASSERT_NEAR(eval_pass_at(4096, 1, 1), 1.0 / 4096, 1e-15);
    ASSERT_NEAR(eval_pass_at(4096, 0, 4096), 0, 0);
    ASSERT_NEAR(eval_pass_at(4096, 1, 4096), 1, 0);
}

// Three problems of k = 4 (see each comment); gold answers 1/2, 8, and 4.
struct fixture {
    struct reward_verdict v[3][4];
    float rm[3][4];
    int64_t len[3][4];
    uint8_t finish[3][4];
};

static void fixture_fill(struct fixture *f) {
    // A: 1/2 and 0.5 are one class (2 votes, seen first) against 3 (2 votes): the
    //    tie goes to 1/2, correct. The reward model prefers sample 2, wrong.
    f->v[0][0] = verdict("1/2", true), f->v[0][1] = verdict("0.5", true);
    f->v[0][2] = verdict("3", false), f->v[0][3] = verdict("3", false);
    memcpy(f->rm[0], (float[]){0.1f, -1, 2, 0.5f}, sizeof f->rm[0]);
    memcpy(f->len[0], (int64_t[]){10, 20, 30, 40}, sizeof f->len[0]);
    // B: 7 has the majority (the no-answer sample does not vote), wrong; the
    //    reward model ties samples 2 and 3, the first (2, correct) wins.
    f->v[1][0] = verdict("7", false), f->v[1][1] = verdict(NULL, false);
    f->v[1][2] = verdict("8", true), f->v[1][3] = verdict("7", false);
    memcpy(f->rm[1], (float[]){0, 1, 3, 3}, sizeof f->rm[1]);
    memcpy(f->len[1], (int64_t[]){1, 2, 3, 4}, sizeof f->len[1]);
    f->finish[1][1] = ROLLOUT_FINISH_LENGTH;
    // C: no answers, no usable scores, all cut at the length limit.
    for (int j = 0; j < 4; j++) {
        f->v[2][j] = verdict(NULL, false);
        f->rm[2][j] = NAN;
        f->len[2][j] = 5;
        f->finish[2][j] = ROLLOUT_FINISH_LENGTH;
    }
}

static void tally(struct fixture *f, struct reward_equiv *equiv, bool has_rm,
                  struct eval_outcome oc[3], struct eval_result *r) {
    struct eval_tally t;
    eval_tally_init(&t, 4, has_rm);
    for (int i = 0; i < 3; i++) {
        struct eval_problem p = {.verdicts = f->v[i],
                                 .rm_score = has_rm ? f->rm[i] : NULL,
                                 .n_tokens = f->len[i],
                                 .finish = f->finish[i]};
        eval_tally_add(&t, equiv, &p, &oc[i]);
    }
    eval_tally_result(&t, r);
}

static void test_metrics_of_known_samples(void **state) {
    (void)state;
    struct fixture f = {0};
    fixture_fill(&f);
    struct reward_equiv_opts eo;
    reward_equiv_opts_default(&eo);
    struct reward_equiv *equiv = NULL;
    struct err e = {0};
    assert_int_equal(reward_equiv_create(&eo, &equiv, &e), 0);
    struct eval_outcome oc[3];
    struct eval_result r;
    tally(&f, equiv, true, oc, &r);

    assert_int_equal(r.n_problems, 3);
    assert_int_equal(r.n_samples, 12);
    ASSERT_NEAR(r.accuracy, 3.0 / 12, TOL);
    assert_int_equal(r.n_pass, 3);
    assert_int_equal(r.pass_j[0], 1), assert_int_equal(r.pass_j[1], 2),
        assert_int_equal(r.pass_j[2], 4);
    // pass@1 = c/k; pass@2 = 1 - C(k-c, 2)/C(4, 2): A 1 - 1/6, B 1 - 3/6, C 0.
    ASSERT_NEAR(r.pass_at[0], (0.5 + 0.25) / 3, TOL);
    ASSERT_NEAR(r.pass_at[1], (5.0 / 6 + 0.5) / 3, TOL);
    ASSERT_NEAR(r.pass_at[2], 2.0 / 3, TOL);
    ASSERT_NEAR(r.maj_at_k, 1.0 / 3, TOL);
    assert_true(r.has_rm);
    ASSERT_NEAR(r.rm_at_k, 1.0 / 3, TOL);
    ASSERT_NEAR(r.mean_len, 130.0 / 12, TOL);
    ASSERT_NEAR(r.no_answer_rate, 5.0 / 12, TOL);
    ASSERT_NEAR(r.truncated_rate, 5.0 / 12, TOL);

    assert_int_equal(oc[0].n_correct, 2), assert_int_equal(oc[1].n_correct, 1);
    assert_int_equal(oc[0].maj_index, 0), assert_true(oc[0].is_maj_correct);
    assert_int_equal(oc[1].maj_index, 0), assert_false(oc[1].is_maj_correct);
    assert_int_equal(oc[2].maj_index, -1), assert_false(oc[2].is_maj_correct);
    assert_int_equal(oc[0].rm_index, 2), assert_false(oc[0].is_rm_correct);
    assert_int_equal(oc[1].rm_index, 2), assert_true(oc[1].is_rm_correct);
    assert_int_equal(oc[2].rm_index, -1), assert_false(oc[2].is_rm_correct);

    // Without equivalence 1/2 and 0.5 split their votes and 3 wins A: maj@4 = 0.
    tally(&f, NULL, false, oc, &r);
    ASSERT_NEAR(r.maj_at_k, 0, 0);
    assert_int_equal(oc[0].maj_index, 2);
    assert_false(r.has_rm);
    assert_int_equal(oc[0].rm_index, -1);
    reward_equiv_destroy(&equiv);
}

static void test_k1_and_large_k(void **state) {
    (void)state;
    struct reward_verdict v[1] = {verdict("2", true)};
    int64_t len[1] = {7};
    struct eval_tally t;
    eval_tally_init(&t, 1, false);
    struct eval_outcome oc;
    eval_tally_add(&t, NULL, &(struct eval_problem){.verdicts = v, .n_tokens = len}, &oc);
    struct eval_result r;
    eval_tally_result(&t, &r);
    assert_int_equal(r.n_pass, 1);
    assert_int_equal(r.pass_j[0], 1);
    ASSERT_NEAR(r.pass_at[0], 1, 0);
    ASSERT_NEAR(r.maj_at_k, 1, 0);
    ASSERT_NEAR(r.mean_len, 7, 0);
    // k = 4096 reports pass@1, 2, ..., 2048 and 4096.
    eval_tally_init(&t, EVAL_MAX_K, false);
    eval_tally_result(&t, &r);
    assert_int_equal(r.n_pass, 13);
    assert_int_equal(r.pass_j[11], 2048);
    assert_int_equal(r.pass_j[12], 4096);
}

static void test_json_line(void **state) {
    (void)state;
    struct fixture f = {0};
    fixture_fill(&f);
    struct eval_outcome oc[3];
    struct eval_result r;
    tally(&f, NULL, true, oc, &r);
    r.seconds = 1.5;
    struct eval_meta meta = {.model = "m\"1",
                             .data = "d.jsonl",
                             .temperature = 0.7,
                             .top_p = 1,
                             .top_k = 0,
                             .max_new_tokens = 9,
                             .seed = 3};
    char *buf = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&buf, &n);
    eval_result_print_json(&r, &meta, mem);
    fclose(mem);
    cJSON *j = cJSON_Parse(buf);
    assert_non_null(j);
    const char *keys[] = {"accuracy", "pass@1",         "pass@2",   "pass@4", "maj@4",  "rm@4",
                          "mean_len", "no_answer_rate", "problems", "k",      "seconds"};
    double want[] = {0.25, 0.25, (5.0 / 6 + 0.5) / 3, 2.0 / 3, 0, 1.0 / 3, 130.0 / 12, 5.0 / 12, 3,
                     4,    1.5};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        cJSON *x = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
        if (!cJSON_IsNumber(x)) fail_msg("%s missing in %s", keys[i], buf);
        ASSERT_NEAR(x->valuedouble, want[i], 1e-6); // printed with 6 decimals
    }
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "model")->valuestring, "m\"1");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "rm")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "max_new_tokens")->valueint, 9);
    cJSON_Delete(j);
    free(buf);
    // Without a reward model rm@k is null.
    r.has_rm = false;
    mem = open_memstream(&buf, &n);
    eval_result_print_json(&r, NULL, mem);
    fclose(mem);
    j = cJSON_Parse(buf);
    assert_non_null(j);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "rm@4")));
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "model"));
    cJSON_Delete(j);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pass_at_matches_binomials),
        cmocka_unit_test(test_metrics_of_known_samples),
        cmocka_unit_test(test_k1_and_large_k),
        cmocka_unit_test(test_json_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
