// Reward-model scoring: the tiny Qwen2.5-Math-RM-shaped model of tests/model/data/qwen2_rm
// scores the golden sequences as Hugging Face transformers did (golden.safetensors, float64
// reference), whatever the batch size and however a sequence is split into prompt and
// response; a model without a reward head is refused.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "model/cpu/cpu.h"
#include "model/hf.h"
#include "reward/rm.h"

// fp32 forward against a float64 reference: ~1e-6 relative; checked at 1e-4.
#define TOL 1e-4

static void data_dir(char *out, size_t n, const char *name) {
    const char *root = getenv("GRPO_SOURCE_ROOT");
    snprintf(out, n, "%s/tests/model/data/%s", root ? root : ".", name);
}

static float *read_tensor(const struct st_file *f, const char *name, size_t *n) {
    const struct st_tensor *t = safetensors_find(f, name);
    assert_non_null(t);
    float *x = malloc(sizeof(float) * (t->n_elems + 1));
    struct err e;
    assert_int_equal(safetensors_read_f32(t, x, t->n_elems, &e), 0);
    *n = t->n_elems;
    return x;
}

static void test_scores_match_transformers(void **state) {
    (void)state;
    char dir[4096], path[4200];
    data_dir(dir, sizeof dir, "qwen2_rm");
    snprintf(path, sizeof path, "%s/golden.safetensors", dir);
    struct err e;
    struct backend *be;
    struct model *m;
    struct st_file *g;
    assert_int_equal(backend_cpu_create(1, &be, &e), 0);
    if (model_load_hf(dir, be, NULL, &m, &e) != 0) fail_msg("%s", e.msg);
    assert_int_equal(safetensors_open(path, &g, &e), 0);
    size_t n_tok, n_cu, n_score;
    float *tok_f = read_tensor(g, "tokens", &n_tok), *cu_f = read_tensor(g, "cu_seqlens", &n_cu),
          *want = read_tensor(g, "score", &n_score);
    int B = (int)n_cu - 1;
    assert_int_equal(B, (int)n_score);
    int32_t *tok = malloc(n_tok * sizeof *tok);
    for (size_t i = 0; i < n_tok; i++) tok[i] = (int32_t)tok_f[i];
    const int32_t *prompt[8], *resp[8];
    int np[8], nr[8];
    float got[8];
    for (int split = 0; split < 2; split++) {
        for (int b = 0; b < B; b++) {
            int a = (int)cu_f[b], len = (int)cu_f[b + 1] - a;
            np[b] = split ? len / 2 : len;  // all prompt, or half and half
            nr[b] = len - np[b];
            prompt[b] = tok + a;
            resp[b] = tok + a + np[b];
        }
        for (int max_batch = 1; max_batch <= B; max_batch++) {
            struct reward_rm *rm;
            assert_int_equal(reward_rm_create(m, max_batch, 64, &rm, &e), 0);
            if (reward_rm_score(rm, prompt, np, resp, nr, B, got, &e) != 0) fail_msg("%s", e.msg);
            for (int b = 0; b < B; b++)
                if (fabsf(got[b] - want[b]) > TOL * fmaxf(1.0f, fabsf(want[b])))
                    fail_msg("batch %d, seq %d: %g vs transformers %g", max_batch, b, got[b], want[b]);
            reward_rm_destroy(&rm);
        }
    }
    // Too long a sequence is a user error, not a crash.
    struct reward_rm *rm;
    assert_int_equal(reward_rm_create(m, 2, 4, &rm, &e), 0);
    np[0] = 5;
    nr[0] = 0;
    assert_int_equal(reward_rm_score(rm, prompt, np, resp, nr, 1, got, &e), ERR_USER);
    reward_rm_destroy(&rm);
    free(tok), free(tok_f), free(cu_f), free(want);
    safetensors_close(&g);
    model_destroy(&m);

    // A policy (LM head) is not a reward model.
    data_dir(dir, sizeof dir, "qwen2_tied");
    assert_int_equal(model_load_hf(dir, be, NULL, &m, &e), 0);
    assert_int_equal(reward_rm_create(m, 2, 16, &rm, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "no reward head"));
    model_destroy(&m);
    backend_cpu_destroy(&be);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_scores_match_transformers)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
