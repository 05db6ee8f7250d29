// The GRPO loss and its gradient against PyTorch autograd (golden file from
// tests/trainer/gen_golden.py), for every aggregation mode and KL estimator;
// advantages of hand-made groups; micro-batch invariance.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "trainer/grpo_loss.h"

// The reference is float64 on float32-rounded inputs; our loss accumulates in
// double but stores gradients as float32: relative error ~1e-7, checked at 1e-5.
#define TOL_REL 1e-5

static cJSON *golden;

static int setup(void **state) {
    (void)state;
    const char *root = getenv("GRPO_SOURCE_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/trainer/data/grpo_loss_golden.json", root ? root : ".");
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    buf[fread(buf, 1, (size_t)n, f)] = '\0';
    fclose(f);
    golden = cJSON_Parse(buf);
    free(buf);
    return golden ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    cJSON_Delete(golden);
    return 0;
}

static int array_len(const char *key) {
    return cJSON_GetArraySize(cJSON_GetObjectItem(golden, key));
}

static void read_floats(const cJSON *arr, float *out) {
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) out[i++] = (float)x->valuedouble;
}

static bool close_rel(double got, double want, double scale) {
    return fabs(got - want) <= TOL_REL * (fabs(want) > scale ? fabs(want) : scale);
}

static int enum_index(const char *const *names, const char *s) {
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

static void test_against_pytorch(void **state) {
    (void)state;
    static const char *const aggs[] = {"seq-mean-token-mean", "token-mean",
                                       "seq-mean-token-sum-norm", NULL};
    static const char *const kls[] = {"k1", "k2", "k3", NULL};
    int n_tok = array_len("logp"), n_seqs = array_len("offsets") - 1;
    int G = cJSON_GetObjectItem(golden, "G")->valueint,
        n_groups = cJSON_GetObjectItem(golden, "n_groups")->valueint;
    float *logp = malloc(n_tok * sizeof(float)), *old = malloc(n_tok * sizeof(float)),
          *ref = malloc(n_tok * sizeof(float)), *ent = malloc(n_tok * sizeof(float)),
          *dlogp = malloc(n_tok * sizeof(float)), *dent = malloc(n_tok * sizeof(float)),
          *want_g = malloc(n_tok * sizeof(float)), *want_ge = malloc(n_tok * sizeof(float));
    float rewards[64], adv[64], want_adv[64];
    int32_t offsets[64];
    uint8_t mask[512], zero[16];
    read_floats(cJSON_GetObjectItem(golden, "logp"), logp);
    read_floats(cJSON_GetObjectItem(golden, "logp_old"), old);
    read_floats(cJSON_GetObjectItem(golden, "logp_ref"), ref);
    read_floats(cJSON_GetObjectItem(golden, "entropy"), ent);
    read_floats(cJSON_GetObjectItem(golden, "rewards"), rewards);
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(golden, "offsets")) offsets[i++] = x->valueint;
    i = 0;
    double n_resp = 0;
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(golden, "mask")) n_resp +=
        (mask[i++] = (uint8_t)x->valueint);

    int n_cases = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(golden, "cases")) {
        const cJSON *o = cJSON_GetObjectItem(c, "opts");
        struct grpo_adv_opts ao = {.std_norm = cJSON_IsTrue(cJSON_GetObjectItem(o, "std_norm")),
                                   .std_kind = cJSON_IsTrue(cJSON_GetObjectItem(o, "sample"))
                                                   ? STD_SAMPLE
                                                   : STD_POPULATION,
                                   .eps = cJSON_GetObjectItem(o, "eps")->valuedouble};
        int nz = grpo_advantages(adv, zero, rewards, n_groups, G, &ao);
        assert_int_equal(nz, 1);
        assert_true(zero[1] && !zero[0] && !zero[2]);
        read_floats(cJSON_GetObjectItem(c, "adv"), want_adv);
        for (int k = 0; k < n_seqs; k++) assert_true(close_rel(adv[k], want_adv[k], 1e-3));

        struct grpo_loss_opts lo = {
            .clip_low = cJSON_GetObjectItem(o, "clip_low")->valuedouble,
            .clip_high = cJSON_GetObjectItem(o, "clip_high")->valuedouble,
            .kl_coef = cJSON_GetObjectItem(o, "kl_coef")->valuedouble,
            .kl_estimator = enum_index(kls, cJSON_GetObjectItem(o, "kl")->valuestring),
            .entropy_coef = cJSON_GetObjectItem(o, "entropy_coef")->valuedouble,
            .loss_agg = enum_index(aggs, cJSON_GetObjectItem(o, "agg")->valuestring),
            .n_seqs_global = n_seqs,
            .n_tokens_global = n_resp,
            .token_sum_norm = cJSON_GetObjectItem(o, "token_sum_norm")->valuedouble};
        struct grpo_loss_stats st = {0};
        grpo_loss(dlogp, dent, &st, logp, old, ref, ent, mask, offsets, n_seqs, adv, &lo);
        double want_loss = cJSON_GetObjectItem(c, "loss")->valuedouble;
        if (!close_rel(st.loss, want_loss, 1e-4)) {
            print_error("case %d (%s, %s): loss %.9g, pytorch %.9g\n", n_cases, aggs[lo.loss_agg],
                        kls[lo.kl_estimator], st.loss, want_loss);
            fail();
        }
        read_floats(cJSON_GetObjectItem(c, "dlogp"), want_g);
        read_floats(cJSON_GetObjectItem(c, "dentropy"), want_ge);
        float gmax = 0;
        for (int t = 0; t < n_tok; t++) gmax = fmaxf(gmax, fabsf(want_g[t]));
        for (int t = 0; t < n_tok; t++) {
            if (!close_rel(dlogp[t], want_g[t], gmax)) {
                print_error("case %d token %d: dlogp %.9g, pytorch %.9g\n", n_cases, t, dlogp[t],
                            want_g[t]);
                fail();
            }
            assert_true(close_rel(dent[t], want_ge[t], 1e-6));
        }
        assert_true(st.n_tokens == n_resp);
        n_cases++;
    }
    assert_int_equal(n_cases, 27);
    free(logp), free(old), free(ref), free(ent), free(dlogp), free(dent), free(want_g),
        free(want_ge);
}

// Hand-made groups: binary rewards 1,0,0,0 -> mean 1/4, sample std 1/2.
static void test_advantages_by_hand(void **state) {
    (void)state;
    float r[8] = {1, 0, 0, 0, 2, 2, 2, 2}, a[8];
    uint8_t z[2];
    struct grpo_adv_opts o = {.std_norm = true, .std_kind = STD_SAMPLE, .eps = 0.0};
    assert_int_equal(grpo_advantages(a, z, r, 2, 4, &o), 1);
    assert_true(fabsf(a[0] - 1.5f) < 1e-6f && fabsf(a[1] + 0.5f) < 1e-6f);
    for (int i = 4; i < 8; i++) assert_true(a[i] == 0.0f);
    o.std_kind = STD_POPULATION; // std = sqrt(3)/4
    grpo_advantages(a, z, r, 2, 4, &o);
    assert_true(fabsf(a[0] - 0.75f / (sqrtf(3.0f) / 4)) < 1e-5f);
    o.std_norm = false;
    grpo_advantages(a, z, r, 2, 4, &o);
    assert_true(fabsf(a[0] - 0.75f) < 1e-6f && fabsf(a[3] + 0.25f) < 1e-6f);
    // A correct answer outranks a wrong one: the advantage order follows the rewards.
    float r2[4] = {0.9f, -0.2f, 0.95f, -0.6f};
    grpo_advantages(a, z, r2, 1, 4, &o);
    assert_true(a[2] > a[0] && a[0] > a[1] && a[1] > a[3]);
}

// On-policy (ρ = 1) with β = 0, the gradient is -A·w per token and the
// loss is -mean A; splitting the batch into micro-batches with the global
// counts gives the same sums.
static void test_micro_batch_invariance(void **state) {
    (void)state;
    enum { T = 9 };
    float logp[T] = {-1, -2, -0.5f, -1, -3, -0.1f, -2, -1, -1}, dl[T], dl2[T];
    uint8_t mask[T] = {0, 1, 1, 0, 1, 1, 1, 0, 1};
    int32_t off[4] = {0, 3, 7, 9};
    float adv[3] = {1.0f, -0.5f, 2.0f};
    for (int agg = 0; agg < 3; agg++) {
        struct grpo_loss_opts o = {.clip_low = 0.2,
                                   .clip_high = 0.2,
                                   .loss_agg = agg,
                                   .n_seqs_global = 3,
                                   .n_tokens_global = 6,
                                   .token_sum_norm = 4};
        struct grpo_loss_stats all = {0}, parts = {0};
        grpo_loss(dl, NULL, &all, logp, logp, NULL, NULL, mask, off, 3, adv, &o);
        int32_t off_a[2] = {0, 3}, off_b[3] = {0, 4, 6};
        grpo_loss(dl2, NULL, &parts, logp, logp, NULL, NULL, mask, off_a, 1, adv, &o);
        grpo_loss(dl2 + 3, NULL, &parts, logp + 3, logp + 3, NULL, NULL, mask + 3, off_b, 2,
                  adv + 1, &o);
        assert_true(fabs(all.loss - parts.loss) < 1e-12);
        assert_memory_equal(dl, dl2, sizeof dl);
        if (agg == AGG_TOKEN_MEAN)
            assert_true(fabs(all.loss - (-(2 * 1.0 - 3 * 0.5 + 2.0) / 6)) < 1e-9);
        assert_true(dl[0] == 0.0f && dl[3] == 0.0f);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_pytorch),
        cmocka_unit_test(test_advantages_by_hand),
        cmocka_unit_test(test_micro_batch_invariance),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
