// KV-cache inference against the training forward: decoding token by token (a batch of
// sequences of different lengths), prefill + fork of a shared prompt with copy on write, the
// memory plan against the ledger, and user errors.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/cpu/cpu.h"
#include "model/kv_cache.h"
#include "model/optim.h"

// The same math in a different order (GEMMs over 1 row vs many, keys split at block
// boundaries): fp32 rounding, ~1e-6 on log-probabilities of O(1..10).
#define TOL_DECODE 2e-5

static const struct model_shape shape = {.C = 32,
                                         .L = 2,
                                         .H = 4,
                                         .Hkv = 2,
                                         .D = 8,
                                         .F = 48,
                                         .V = 50,
                                         .max_pos = 64,
                                         .rope_theta = 10000.0f,
                                         .rms_eps = 1e-6f,
                                         .is_tied = false,
                                         .head = MODEL_HEAD_LM};

struct env {
    struct mem_ledger ledger;
    struct backend *be;
    struct model *m;
};

static void env_up(struct env *v) {
    struct err e;
    memset(v, 0, sizeof *v);
    assert_int_equal(backend_cpu_create(0, &v->be, &e), 0);
    assert_int_equal(model_create(&shape, v->be, &v->ledger, &v->m, &e), 0);
    model_init_params(v->m, 42, 0.3f);
}

static void env_down(struct env *v) {
    model_destroy(&v->m);
    backend_cpu_destroy(&v->be);
    assert_int_equal(mem_ledger_total(&v->ledger), 0);
}

// Training forward over packed sequences: logprob and entropy of each next token.
static void full_forward(struct model *m, const int32_t *tokens, const int32_t *cu, int B,
                         float *lp, float *ent) {
    struct err e;
    int N = cu[B];
    int32_t *tg = malloc(sizeof(int32_t) * N);
    for (int b = 0; b < B; b++)
        for (int t = cu[b]; t < cu[b + 1]; t++) tg[t] = t + 1 < cu[b + 1] ? tokens[t + 1] : -1;
    struct model_acts *a = NULL;
    struct model_acts_cfg cfg = {.n_tokens_max = N};
    assert_int_equal(model_acts_create(m, &cfg, &a, &e), 0);
    if (model_forward(m, a, tokens, tg, cu, B, lp, ent, &e) < 0) fail_msg("%s", e.msg);
    model_acts_destroy(m, &a);
    free(tg);
}

// log softmax(logits)[target] and the entropy, in double.
static void stats(const float *z, int V, int target, double *lp, double *ent) {
    double mx = -INFINITY, s = 0, sz = 0;
    for (int k = 0; k < V; k++) mx = fmax(mx, z[k]);
    for (int k = 0; k < V; k++) s += exp(z[k] - mx);
    double lse = mx + log(s);
    for (int k = 0; k < V; k++) sz += exp(z[k] - lse) * (z[k] - lse);
    *lp = z[target] - lse;
    *ent = -sz;
}

static void test_decode_matches_forward(void **state) {
    (void)state;
    struct env v;
    struct err e;
    env_up(&v);
    enum { B = 3 };
    const int len[B] = {5, 9, 3}, prompt[B] = {2, 4, 1};
    int32_t cu[B + 1] = {0}, tokens[32];
    for (int b = 0; b < B; b++) cu[b + 1] = cu[b] + len[b];
    for (int t = 0; t < cu[B]; t++) tokens[t] = (t * 7 + 3) % shape.V;
    float lp[32], ent[32];
    full_forward(v.m, tokens, cu, B, lp, ent);

    struct kv_cache *c = NULL;
    struct kv_cache_cfg kc = {.n_blocks = 16, .block_size = 4, .max_seqs = 4, .max_len = 16};
    assert_int_equal(kv_cache_create(&shape, &kc, &v.ledger, &c, &e), 0);
    struct model_acts *a = NULL;
    struct model_acts_cfg cfg = {.n_tokens_max = 16, .is_inference = true};
    assert_int_equal(model_acts_create(v.m, &cfg, &a, &e), 0);
    int seqs[B];
    int32_t in[16], cu_new[B + 1] = {0};
    float logits[B * 50];
    for (int b = 0; b < B; b++) {
        assert_int_equal(kv_seq_create(c, &seqs[b], &e), 0);
        for (int t = 0; t < prompt[b]; t++) in[cu_new[b] + t] = tokens[cu[b] + t];
        cu_new[b + 1] = cu_new[b] + prompt[b];
    }
    // Prefill all prompts in one call, then decode the live sequences one token at a time.
    if (model_infer(v.m, a, c, seqs, in, cu_new, B, logits, &e) < 0) fail_msg("%s", e.msg);
    int done[B];
    for (int b = 0; b < B; b++) done[b] = prompt[b]; // tokens of sequence b consumed
    double worst = 0;
    int n_checked = 0;
    // logits row i belongs to order[i], the live sequences of the last call.
    int order[B] = {0, 1, 2}, n_live = B;
    for (int step = 0; n_live > 0; step++) {
        int32_t dec[B], cud[B + 1] = {0};
        int ids[B], nn = 0;
        for (int i = 0; i < n_live; i++) {
            int b = order[i], t = cu[b] + done[b] - 1; // position whose logits we hold
            if (done[b] < len[b]) {
                double l, h;
                stats(logits + (size_t)i * shape.V, shape.V, tokens[t + 1], &l, &h);
                worst = fmax(worst, fmax(fabs(l - lp[t]), fabs(h - ent[t])));
                n_checked++;
                dec[nn] = tokens[t + 1];
                ids[nn] = seqs[b];
                order[nn] = b;
                nn++;
                cud[nn] = nn;
                done[b]++;
            }
        }
        n_live = nn;
        if (!nn) break;
        if (model_infer(v.m, a, c, ids, dec, cud, nn, logits, &e) < 0) fail_msg("%s", e.msg);
    }
    printf("decode vs forward: %d positions, max |diff| %.2e\n", n_checked, worst);
    assert_int_equal(n_checked, (len[0] - prompt[0]) + (len[1] - prompt[1]) + (len[2] - prompt[2]));
    assert_true(worst < TOL_DECODE);
    model_acts_destroy(v.m, &a);
    kv_cache_destroy(&c);
    env_down(&v);
}

// The training forward at temperature T against decode logits divided by T: one token at a time
// through the KV cache, every position of one sequence.
static void test_temperature_matches_decode(void **state) {
    (void)state;
    struct env v;
    struct err e;
    env_up(&v);
    enum { T = 9 };
    const float temp = 0.6f;
    int32_t tokens[T], tg[T], cu[2] = {0, T};
    for (int t = 0; t < T; t++) tokens[t] = (int32_t)((t * 13 + 5) % shape.V);
    for (int t = 0; t < T; t++) tg[t] = t + 1 < T ? tokens[t + 1] : -1;
    struct model_acts *a = NULL, *ai = NULL;
    struct model_acts_cfg cfg = {.n_tokens_max = T, .temperature = temp};
    assert_int_equal(model_acts_create(v.m, &cfg, &a, &e), 0);
    float lp[T], ent[T];
    assert_int_equal(model_forward(v.m, a, tokens, tg, cu, 1, lp, ent, &e), 0);
    struct kv_cache *c = NULL;
    struct kv_cache_cfg kc = {.n_blocks = 4, .block_size = 4, .max_seqs = 1, .max_len = 16};
    assert_int_equal(kv_cache_create(&shape, &kc, &v.ledger, &c, &e), 0);
    struct model_acts_cfg icfg = {.n_tokens_max = 1, .is_inference = true};
    assert_int_equal(model_acts_create(v.m, &icfg, &ai, &e), 0);
    int id;
    assert_int_equal(kv_seq_create(c, &id, &e), 0);
    double worst = 0;
    for (int t = 0; t + 1 < T; t++) {
        float z[50];
        int32_t one[2] = {0, 1};
        assert_int_equal(model_infer(v.m, ai, c, &id, &tokens[t], one, 1, z, &e), 0);
        for (int k = 0; k < shape.V; k++) z[k] /= temp;
        double l, h;
        stats(z, shape.V, tokens[t + 1], &l, &h);
        worst = fmax(worst, fmax(fabs(l - lp[t]), fabs(h - ent[t])));
    }
    printf("temperature %.1f: forward vs decode logits / T: max |diff| %.2e\n", temp, worst);
    assert_true(worst < TOL_DECODE);
    model_acts_destroy(v.m, &a);
    model_acts_destroy(v.m, &ai);
    kv_cache_destroy(&c);
    env_down(&v);
}

// One prompt prefilled once, forked G ways (blocks shared, not copied), each fork continued
// with different tokens: each must equal the full forward of its own sequence.
static void test_fork_shares_prefix(void **state) {
    (void)state;
    struct env v;
    struct err e;
    env_up(&v);
    enum { G = 3, P = 6, NEW = 3 };
    int32_t prompt[P] = {1, 5, 9, 13, 17, 21};
    struct kv_cache *c = NULL;
    struct kv_cache_cfg kc = {.n_blocks = 12, .block_size = 4, .max_seqs = 4, .max_len = 12};
    assert_int_equal(kv_cache_create(&shape, &kc, &v.ledger, &c, &e), 0);
    struct model_acts *a = NULL;
    struct model_acts_cfg cfg = {.n_tokens_max = 8, .is_inference = true};
    assert_int_equal(model_acts_create(v.m, &cfg, &a, &e), 0);
    int root, ids[G];
    float logits[G * 50];
    assert_int_equal(kv_seq_create(c, &root, &e), 0);
    int32_t cu1[2] = {0, P};
    assert_int_equal(model_infer(v.m, a, c, &root, prompt, cu1, 1, logits, &e), 0);
    int free_before = c->n_free; // 2 blocks used by the prompt
    ids[0] = root;
    for (int g = 1; g < G; g++) assert_int_equal(kv_seq_fork(c, root, &ids[g], &e), 0);
    assert_int_equal(c->n_free, free_before); // forks copy nothing
    int32_t seq[G][P + NEW];
    for (int g = 0; g < G; g++) memcpy(seq[g], prompt, sizeof prompt);
    for (int s = 0; s < NEW; s++) {
        int32_t tok[G], cud[G + 1];
        for (int g = 0; g < G; g++) {
            tok[g] = seq[g][P + s] = (int32_t)((g * 11 + s * 3 + 2) % shape.V);
            cud[g] = g;
        }
        cud[G] = G;
        assert_int_equal(model_infer(v.m, a, c, ids, tok, cud, G, logits, &e), 0);
        if (s == 0) // the shared half-full block was copied for all but the last writer
            assert_int_equal(c->n_free, free_before - (G - 1));
    }
    // Full forward of each continued sequence; compare the last decode logits' statistics.
    for (int g = 0; g < G; g++) {
        int32_t cu[2] = {0, P + NEW};
        float lp[16], ent[16];
        full_forward(v.m, seq[g], cu, 1, lp, ent);
        double l, h;
        stats(logits + (size_t)g * shape.V, shape.V, 7, &l, &h);
        // entropy at the last position has no target in full_forward; compare entropy only
        assert_true(fabs(h - ent[P + NEW - 1]) < TOL_DECODE);
    }
    for (int g = 0; g < G; g++) kv_seq_destroy(c, ids[g]);
    assert_int_equal(c->n_free, kc.n_blocks); // every block back once all forks are gone
    model_acts_destroy(v.m, &a);
    kv_cache_destroy(&c);
    env_down(&v);
}

static void test_mem_plan_matches_ledger(void **state) {
    (void)state;
    struct env v;
    struct err e;
    env_up(&v);
    struct model_acts_cfg cfgs[] = {{.n_tokens_max = 37},
                                    {.n_tokens_max = 100, .is_recompute = true},
                                    {.n_tokens_max = 9, .lm_chunk = 4}};
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        struct model_acts *a = NULL;
        struct adamw *opt = NULL;
        struct adamw_cfg oc = {.b1 = 0.9f, .b2 = 0.95f, .eps = 1e-8f};
        assert_int_equal(model_alloc_grads(v.m, &e), 0);
        assert_int_equal(adamw_create(v.m, &oc, &opt, &e), 0);
        assert_int_equal(model_acts_create(v.m, &cfgs[i], &a, &e), 0);
        struct model_mem_plan plan;
        model_mem_plan(&shape, &cfgs[i], true, &plan);
        assert_int_equal(plan.params, v.ledger.n_bytes[MEM_PARAMS]);
        assert_int_equal(plan.grads, v.ledger.n_bytes[MEM_GRADS]);
        assert_int_equal(plan.moments, v.ledger.n_bytes[MEM_MOMENTS]);
        assert_int_equal(plan.acts, v.ledger.n_bytes[MEM_ACTS]);
        model_acts_destroy(v.m, &a);
        adamw_destroy(&opt);
    }
    // recomputation keeps one block's activations instead of L
    struct model_acts_cfg full = {.n_tokens_max = 256},
                          rec = {.n_tokens_max = 256, .is_recompute = true};
    assert_true(model_acts_bytes(&shape, &rec) < model_acts_bytes(&shape, &full));
    env_down(&v);
}

static void test_user_errors(void **state) {
    (void)state;
    struct env v;
    struct err e;
    env_up(&v);
    struct model_acts *a = NULL;
    struct model_acts_cfg cfg = {.n_tokens_max = 4};
    assert_int_equal(model_acts_create(v.m, &cfg, &a, &e), 0);
    float lp[8], ent[8];
    int32_t tok[5] = {1, 2, 3, 4, 5}, bad[2] = {1, 50}, cu5[2] = {0, 5}, cu2[2] = {0, 2};
    assert_int_equal(model_forward(v.m, a, tok, NULL, cu5, 1, lp, ent, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "capacity"));
    assert_int_equal(model_forward(v.m, a, bad, NULL, cu2, 1, lp, ent, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "'50'"));
    model_acts_destroy(v.m, &a);
    struct model_shape s2 = shape;
    s2.Hkv = 3;
    struct model *m2 = NULL;
    assert_int_equal(model_create(&s2, v.be, NULL, &m2, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "num_key_value_heads"));
    // a full kv cache is a user error, not an abort
    struct kv_cache *c = NULL;
    struct kv_cache_cfg kc = {.n_blocks = 1, .block_size = 4, .max_seqs = 2, .max_len = 8};
    assert_int_equal(kv_cache_create(&shape, &kc, NULL, &c, &e), 0);
    int id;
    assert_int_equal(kv_seq_create(c, &id, &e), 0);
    assert_int_equal(kv_seq_reserve(c, id, 6, &e), ERR_USER);
    kv_cache_destroy(&c);
    env_down(&v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_matches_forward), cmocka_unit_test(test_fork_shares_prefix),
        cmocka_unit_test(test_temperature_matches_decode),
        cmocka_unit_test(test_mem_plan_matches_ledger), cmocka_unit_test(test_user_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
