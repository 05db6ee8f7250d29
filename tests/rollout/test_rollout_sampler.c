// Samplers on fixed distributions: frequencies against the target (chi-square), exact supports
// of top-k / top-p / min-p against a plain full-sort reference, log-probabilities against
// values computed here in double, greedy ties, and the allowed-id limit.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "rollout/sampler.h"

// log-probabilities computed in float from float logits against double references: ~1e-6.
#define TOL_LOGPROB 1e-5
// Chi-square critical values at p = 0.001 by degrees of freedom (1..7): a correct sampler
// fails one case in a thousand seeds; the seed is fixed, so the test is reproducible.
static const double chi2_crit[8] = {0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32};

enum { V = 8, N_DRAWS = 40000 };
static const double probs[V] = {0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.05, 0.02};

struct row {
    float z[V];
    float w[V];
    int32_t ids[V];
};

static void row_init(struct row *r) {
    for (int i = 0; i < V; i++) r->z[i] = (float)log(probs[i]) + 1.5f; // a shift: logits
}

static double unit(uint64_t i) {
    uint32_t w[4];
    rng(w, 7, rng_stream_id(RNG_TEST, 1, 2, 3), i);
    return rng_u64_to_unit_f64(w[0], w[1]);
}

// Reference: the target distribution of a config over probs, by full sorting, in double.
static void reference(const struct sampler_cfg *c, double *target) {
    double q[V], mass = 0;
    int order[V], keep[V];
    for (int i = 0; i < V; i++) {
        q[i] = pow(probs[i], 1.0 / c->temperature);
        order[i] = i; // probs are sorted already (desc)
        keep[i] = 1;
    }
    if (c->top_k > 0)
        for (int i = c->top_k; i < V; i++) keep[order[i]] = 0;
    if (c->top_p < 1) {
        double tot = 0, cum = 0;
        for (int i = 0; i < V; i++) tot += keep[i] ? q[i] : 0;
        for (int i = 0; i < V; i++) {
            if (!keep[order[i]]) continue;
            if (cum >= c->top_p * tot)
                keep[order[i]] = 0;
            else
                cum += q[order[i]];
        }
    }
    if (c->min_p > 0)
        for (int i = 0; i < V; i++)
            if (q[i] < c->min_p * q[0]) keep[i] = 0;
    for (int i = 0; i < V; i++) mass += keep[i] ? q[i] : 0;
    for (int i = 0; i < V; i++) target[i] = keep[i] ? q[i] / mass : 0;
}

static void check_config(const struct sampler_cfg *c, const char *name) {
    struct row r;
    row_init(&r);
    struct sampler_scratch s = {r.w, r.ids};
    double target[V];
    reference(c, target);
    long count[V] = {0};
    for (int i = 0; i < N_DRAWS; i++) {
        struct sampler_out o;
        sampler_sample(c, r.z, V, V, unit((uint64_t)i), &s, &o);
        assert_true(o.token >= 0 && o.token < V);
        if (target[o.token] == 0) fail_msg("%s: drew excluded token %d", name, o.token);
        count[o.token]++;
        double want = log(target[o.token]), model = log(probs[o.token]);
        if (fabs(o.logprob - want) > TOL_LOGPROB || fabs(o.logprob_model - model) > TOL_LOGPROB)
            fail_msg("%s: token %d logprob %g (want %g), model %g (want %g)", name, o.token,
                     (double)o.logprob, want, (double)o.logprob_model, model);
    }
    double chi2 = 0;
    int df = -1;
    for (int k = 0; k < V; k++)
        if (target[k] > 0) {
            double ex = target[k] * N_DRAWS;
            chi2 += (count[k] - ex) * (count[k] - ex) / ex;
            df++;
            assert_true(count[k] > 0);
        }
    printf("%-28s support %d, chi2 %.2f (critical %.2f)\n", name, df + 1, chi2,
           df > 0 ? chi2_crit[df] : 0.0);
    if (df > 0 && chi2 > chi2_crit[df]) fail_msg("%s: chi2 %g > %g", name, chi2, chi2_crit[df]);
}

static void test_distributions(void **state) {
    (void)state;
    const struct {
        struct sampler_cfg c;
        const char *name;
        int support;
    } cases[] = {
        {{.temperature = 1, .top_p = 1}, "temperature 1", 8},
        {{.temperature = 0.7f, .top_p = 1}, "temperature 0.7", 8},
        {{.temperature = 1.6f, .top_p = 1}, "temperature 1.6", 8},
        {{.temperature = 1, .top_p = 1, .top_k = 3}, "top-k 3", 3},
        {{.temperature = 1, .top_p = 0.7f}, "top-p 0.7", 4},             // 0.65 < 0.7 <= 0.75
        {{.temperature = 1, .top_p = 0.25f}, "top-p 0.25", 1},           // the first token alone
        {{.temperature = 1, .top_p = 1, .min_p = 0.3f}, "min-p 0.3", 5}, // p >= 0.09
        {{.temperature = 0.5f, .top_p = 0.9f, .top_k = 5, .min_p = 0.2f}, "all four", 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double target[V];
        int n = 0;
        reference(&cases[i].c, target);
        for (int k = 0; k < V; k++) n += target[k] > 0;
        assert_int_equal(n, cases[i].support); // the reference itself, worked by hand
        check_config(&cases[i].c, cases[i].name);
    }
}

// Naive nucleus on a large random vocabulary: full sort in double, keep the shortest prefix
// reaching top_p; the sampler (which sorts only a prefiltered set) must keep the same ids.
static void test_top_p_large_vocab(void **state) {
    (void)state;
    enum { VL = 2000, GRID = 5000 };
    float *z = malloc(sizeof(float) * VL), *w = malloc(sizeof(float) * VL);
    int32_t *ids = malloc(sizeof(int32_t) * VL);
    double *p = malloc(sizeof(double) * VL);
    int *order = malloc(sizeof(int) * VL), *in = calloc(VL, sizeof(int)),
        *hit = calloc(VL, sizeof(int));
    struct rng_seq rs;
    rng_seq_init(&rs, 3, rng_stream_id(RNG_TEST, 9, 9, 9), 0);
    for (int i = 0; i < VL; i++) z[i] = (float)(3 * rng_seq_normal(&rs));
    const float top_ps[] = {0.5f, 0.9f, 0.99f};
    for (int c = 0; c < 3; c++) {
        double mx = -INFINITY, tot = 0, cum = 0;
        for (int i = 0; i < VL; i++) mx = fmax(mx, z[i]);
        for (int i = 0; i < VL; i++) tot += p[i] = exp(z[i] - mx);
        for (int i = 0; i < VL; i++) order[i] = i;
        for (int i = 1; i < VL; i++) // insertion sort by (p desc, id asc)
            for (int j = i; j > 0 && p[order[j]] > p[order[j - 1]]; j--) {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        memset(in, 0, sizeof(int) * VL);
        memset(hit, 0, sizeof(int) * VL);
        int n_in = 0;
        for (int i = 0; i < VL && cum < top_ps[c] * tot; i++) {
            cum += p[order[i]];
            in[order[i]] = 1;
            n_in++;
        }
        struct sampler_cfg cfg = {.temperature = 1, .top_p = top_ps[c]};
        struct sampler_scratch s = {w, ids};
        for (int g = 0; g < GRID; g++) {
            struct sampler_out o;
            sampler_sample(&cfg, z, VL, VL, (g + 0.5) / GRID, &s, &o);
            if (!in[o.token]) fail_msg("top-p %g drew %d outside the nucleus", top_ps[c], o.token);
            hit[o.token] = 1;
        }
        // Every nucleus id heavier than a few grid cells is reached by the sweep of u.
        for (int i = 0; i < VL; i++)
            if (in[i] && p[i] / cum > 3.0 / GRID) assert_true(hit[i]);
        printf("top-p %.2f over %d ids: nucleus of %d\n", (double)top_ps[c], VL, n_in);
    }
    free(z), free(w), free(ids), free(p), free(order), free(in), free(hit);
}

static void test_greedy_and_allowed(void **state) {
    (void)state;
    struct row r;
    row_init(&r);
    struct sampler_scratch s = {r.w, r.ids};
    struct sampler_out o;
    struct sampler_cfg greedy = {.temperature = 0, .top_p = 1};
    r.z[5] = r.z[0]; // a tie: the lower id wins
    r.z[6] = 100;    // the maximum, but not allowed below
    sampler_sample(&greedy, r.z, V, 6, 0.99, &s, &o);
    assert_int_equal(o.token, 0);
    assert_true(o.logprob == 0);
    sampler_sample(&greedy, r.z, V, V, 0.5, &s, &o);
    assert_int_equal(o.token, 6);
    struct sampler_cfg t1 = {.temperature = 1, .top_p = 1};
    for (int i = 0; i < 2000; i++) {
        sampler_sample(&t1, r.z, V, 6, unit((uint64_t)i), &s, &o);
        assert_true(o.token < 6);
    }
    // u just below 1 takes the last id of the support, u = 0 the first.
    row_init(&r);
    sampler_sample(&t1, r.z, V, V, 0.0, &s, &o);
    assert_int_equal(o.token, 0);
    sampler_sample(&t1, r.z, V, V, 0.9999999, &s, &o);
    assert_int_equal(o.token, V - 1);
}

static void test_cfg_check(void **state) {
    (void)state;
    struct err e;
    struct sampler_cfg ok = {.temperature = 1, .top_p = 1};
    assert_int_equal(sampler_cfg_check(&ok, &e), 0);
    struct sampler_cfg bad[] = {{.temperature = -1, .top_p = 1},
                                {.temperature = NAN, .top_p = 1},
                                {.temperature = 1, .top_p = 0},
                                {.temperature = 1, .top_p = 1.5f},
                                {.temperature = 1, .top_p = 1, .min_p = 2},
                                {.temperature = 1, .top_p = 1, .top_k = -3}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(sampler_cfg_check(&bad[i], &e), ERR_USER);
        printf("error: %s\n", e.msg);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distributions), cmocka_unit_test(test_top_p_large_vocab),
        cmocka_unit_test(test_greedy_and_allowed), cmocka_unit_test(test_cfg_check)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
