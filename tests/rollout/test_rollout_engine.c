// The rollout engine on a random tiny model: greedy equals the argmax of the training
// forward, returned model log-probabilities equal the forward's (the importance ratio is 1 at
// the first update), identical tokens whatever the batch size, the split into workers, the
// query order or prefix sharing, the KV budget is never exceeded, stop ids, stop strings and
// length limits, and user errors.
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
#include "rollout/rollout.h"

// The engine's KV-cache decode against the training forward: the same math in another order
// (GEMMs in padded 16-row chunks vs whole batches, keys split at block boundaries): fp32
// rounding, measured up to 2.4e-5 here (the model's own decode test allows 2e-5).
#define TOL_FORWARD 5e-5
// Two runs of the same sample under different batching without the batch-invariant GEMM: the
// fp32 rounding of GEMMs of other shapes. With it (the default) they are bitwise equal.
#define TOL_BATCHING 1e-4
// Greedy is compared with the forward's argmax only where the top two differ by more than this.
#define ARGMAX_MARGIN 1e-4

static const struct model_shape shape = {.C = 32,
                                         .L = 2,
                                         .H = 4,
                                         .Hkv = 2,
                                         .D = 8,
                                         .F = 48,
                                         .V = 64,
                                         .max_pos = 96,
                                         .rope_theta = 10000.0f,
                                         .rms_eps = 1e-6f,
                                         .is_tied = false,
                                         .head = MODEL_HEAD_LM};

struct env {
    struct mem_ledger ledger;
    struct backend *be;
    struct model *m;
};

static void env_up(struct env *v, const struct model_shape *s) {
    struct err e;
    memset(v, 0, sizeof *v);
    assert_int_equal(backend_cpu_create(1, &v->be, &e), 0);
    assert_int_equal(model_create(s, v->be, &v->ledger, &v->m, &e), 0);
    model_init_params(v->m, 11, 0.5f);
}

static void env_down(struct env *v) {
    model_destroy(&v->m);
    backend_cpu_destroy(&v->be);
    assert_int_equal(mem_ledger_total(&v->ledger), 0);
}

enum { NQ = 8, MAXP = 24 };
static int32_t prompt_ids[NQ][MAXP];
static struct rollout_query queries[NQ];

// Prompts of 3..24 ids, query ids not in order.
static void make_queries(int V) {
    for (int q = 0; q < NQ; q++) {
        int n = 3 + (q * 7) % (MAXP - 2);
        for (int t = 0; t < n; t++) prompt_ids[q][t] = (q * 13 + t * 5 + 1) % V;
        queries[q] =
            (struct rollout_query){.id = 1000 + 37 * q % 11, .ids = prompt_ids[q], .n_ids = n};
    }
}

static struct rollout_cfg base_cfg(void) {
    struct rollout_cfg c;
    rollout_cfg_defaults(&c);
    c.max_new_tokens = 20;
    c.kv_cache_mb = 4;
    c.max_batch_seqs = 64;
    return c;
}

static void generate(struct model *m, const struct rollout_cfg *c, const struct rollout_query *qs,
                     int n, int G, struct rollout_result *r, struct rollout_stats *stats) {
    struct err e;
    struct rollout_engine *g = NULL;
    if (rollout_engine_create(m, NULL, NULL, c, NULL, &g, &e) < 0) fail_msg("%s", e.msg);
    if (rollout_generate(g, qs, n, G, 5, 1234, r, &e) < 0) fail_msg("%s", e.msg);
    if (stats) *stats = *rollout_engine_stats(g);
    rollout_engine_destroy(&g);
}

// Batch-invariant runs: logprobs bitwise equal; else within TOL_BATCHING.
static double tol_batching = 0;

// Sample s of a against sample t of b: the same ids and finish, logprobs within tol.
static void assert_same_sample(const struct rollout_result *a, int s,
                               const struct rollout_result *b, int t) {
    int64_t na = a->resp_off[s + 1] - a->resp_off[s], nb = b->resp_off[t + 1] - b->resp_off[t];
    assert_int_equal(na, nb);
    assert_int_equal(a->finish[s], b->finish[t]);
    assert_memory_equal(a->resp_ids + a->resp_off[s], b->resp_ids + b->resp_off[t],
                        sizeof(int32_t) * (size_t)na);
    for (int64_t i = 0; i < na; i++) {
        assert_true(fabsf(a->logprob[a->resp_off[s] + i] - b->logprob[b->resp_off[t] + i]) <=
                    tol_batching);
        assert_true(fabsf(a->logprob_model[a->resp_off[s] + i] -
                          b->logprob_model[b->resp_off[t] + i]) <= tol_batching);
    }
}

static void assert_same_results(const struct rollout_result *a, const struct rollout_result *b) {
    assert_int_equal(a->n_samples, b->n_samples);
    for (int s = 0; s < a->n_samples; s++) assert_same_sample(a, s, b, s);
}

// Training forward of prompt + response: lp[t] = log p(seq[t+1] | seq[..t]) for targets, or
// for every id v when all_v (lp_all (n, V)).
static void forward_logprobs(struct model *m, const int32_t *seq, int n, const int32_t *tg,
                             float *lp) {
    struct err e;
    struct model_acts *a = NULL;
    struct model_acts_cfg cfg = {.n_tokens_max = n};
    assert_int_equal(model_acts_create(m, &cfg, &a, &e), 0);
    float *ent = malloc(sizeof(float) * n);
    int32_t cu[2] = {0, n};
    if (model_forward(m, a, seq, tg, cu, 1, lp, ent, &e) < 0) fail_msg("%s", e.msg);
    free(ent);
    model_acts_destroy(m, &a);
}

// The sequence prompt + response of sample s into seq; returns its length.
static int sample_seq(const struct rollout_result *r, int s, int32_t *seq) {
    int q = s / r->G;
    int P = (int)(r->prompt_off[q + 1] - r->prompt_off[q]);
    int n = (int)(r->resp_off[s + 1] - r->resp_off[s]);
    memcpy(seq, r->prompt_ids + r->prompt_off[q], sizeof(int32_t) * P);
    memcpy(seq + P, r->resp_ids + r->resp_off[s], sizeof(int32_t) * n);
    return P + n;
}

// The returned model logprobs equal the full forward's on the produced sequences.
static double check_against_forward(struct model *m, const struct rollout_result *r) {
    double worst = 0;
    int32_t seq[256], tg[256];
    float lp[256];
    for (int s = 0; s < r->n_samples; s++) {
        int q = s / r->G, P = (int)(r->prompt_off[q + 1] - r->prompt_off[q]);
        int n = sample_seq(r, s, seq);
        for (int t = 0; t < n; t++) tg[t] = t + 1 < n ? seq[t + 1] : -1;
        forward_logprobs(m, seq, n, tg, lp);
        for (int i = 0; i < n - P; i++)
            worst = fmax(worst, fabs(lp[P - 1 + i] - r->logprob_model[r->resp_off[s] + i]));
    }
    return worst;
}

static void test_greedy_is_forward_argmax(void **state) {
    (void)state;
    struct env v;
    env_up(&v, &shape);
    make_queries(shape.V);
    struct rollout_cfg c = base_cfg();
    c.sampling.temperature = 0;
    struct rollout_result r = {0};
    generate(v.m, &c, queries, NQ, 2, &r, NULL);
    int32_t seq[256], tg[256];
    float *lp_all = malloc(sizeof(float) * shape.V * 256);
    int n_checked = 0;
    for (int s = 0; s < r.n_samples; s++) {
        if (s % 2) assert_same_sample(&r, s, &r, s - 1); // greedy: the G samples agree
        int q = s / 2, P = queries[q].n_ids, n = sample_seq(&r, s, seq);
        for (int vv = 0; vv < shape.V; vv++) { // log p(v | prefix) at every position
            for (int t = 0; t < n; t++) tg[t] = vv;
            forward_logprobs(v.m, seq, n, tg, lp_all + (size_t)vv * 256);
        }
        for (int t = P - 1; t < n - 1; t++) {
            int best = 0;
            float top = -INFINITY, second = -INFINITY;
            for (int vv = 0; vv < shape.V; vv++) {
                float x = lp_all[(size_t)vv * 256 + t];
                if (x > top)
                    second = top, top = x, best = vv;
                else if (x > second)
                    second = x;
            }
            if (top - second < ARGMAX_MARGIN) continue;
            assert_int_equal(seq[t + 1], best);
            n_checked++;
        }
        assert_int_equal(r.finish[s], ROLLOUT_FINISH_LENGTH); // no stop id without a template
    }
    printf("greedy vs forward argmax: %d positions\n", n_checked);
    assert_true(n_checked > 100);
    free(lp_all);
    rollout_result_free(&r);
    env_down(&v);
}

static void test_logprobs_match_forward(void **state) {
    (void)state;
    struct env v;
    env_up(&v, &shape);
    make_queries(shape.V);
    struct rollout_cfg c = base_cfg();
    struct rollout_result r = {0};
    generate(v.m, &c, queries, NQ, 4, &r, NULL);
    double worst = check_against_forward(v.m, &r);
    // Temperature 1, no truncation: the sampled distribution is the model's.
    for (int64_t i = 0; i < r.resp_off[r.n_samples]; i++)
        assert_true(fabsf(r.logprob[i] - r.logprob_model[i]) < 1e-5f);
    rollout_result_free(&r);
    // Tempered and truncated: the model logprobs are still the forward's; the sampled ones
    // are those of a narrower distribution, so never lower.
    c.sampling = (struct sampler_cfg){.temperature = 0.7f, .top_p = 0.9f, .top_k = 20};
    generate(v.m, &c, queries, NQ, 4, &r, NULL);
    worst = fmax(worst, check_against_forward(v.m, &r));
    int n_higher = 0;
    float lowest = 0;
    for (int64_t i = 0; i < r.resp_off[r.n_samples]; i++) {
        lowest = fminf(lowest, r.logprob_model[i]);
        assert_true(r.logprob[i] <= 0);
        n_higher += r.logprob[i] > r.logprob_model[i];
    }
    assert_true(n_higher > r.resp_off[r.n_samples] / 2);
    printf("engine vs forward logprobs: max |diff| %.2e (lowest logprob %.1f)\n", worst,
           (double)lowest);
    assert_true(worst < TOL_FORWARD);
    rollout_result_free(&r);
    env_down(&v);
}

// Batch 64 vs batch 1, one engine vs three (the queries split 3/3/2), the queries reversed,
// the prompt forked vs prefilled per sample: the same tokens (and, with the batch-invariant
// GEMM, bitwise the same log-probabilities).
static void check_invariance(bool is_batch_invariant) {
    struct env v;
    env_up(&v, &shape);
    make_queries(shape.V);
    enum { G = 4 };
    struct rollout_cfg c = base_cfg();
    c.sampling.top_p = 0.95f;
    c.is_batch_invariant = is_batch_invariant;
    tol_batching = is_batch_invariant ? 0 : TOL_BATCHING;
    struct rollout_result big = {0}, one = {0}, part[3] = {{0}}, rev = {0}, unshared = {0};
    struct rollout_stats st;
    generate(v.m, &c, queries, NQ, G, &big, &st);
    assert_true(st.peak_seqs > 16);
    c.max_batch_seqs = 1;
    generate(v.m, &c, queries, NQ, G, &one, &st);
    assert_int_equal(st.peak_seqs, 1);
    assert_same_results(&big, &one);
    c.max_batch_seqs = 5; // groups split across steps
    const int split[4] = {0, 3, 6, NQ};
    for (int w = 0; w < 3; w++) {
        generate(v.m, &c, queries + split[w], split[w + 1] - split[w], G, &part[w], NULL);
        for (int s = 0; s < part[w].n_samples; s++)
            assert_same_sample(&part[w], s, &big, split[w] * G + s);
    }
    struct rollout_query reversed[NQ];
    for (int q = 0; q < NQ; q++) reversed[q] = queries[NQ - 1 - q];
    c.max_batch_seqs = 64;
    generate(v.m, &c, reversed, NQ, G, &rev, NULL);
    for (int q = 0; q < NQ; q++)
        for (int j = 0; j < G; j++) assert_same_sample(&rev, (NQ - 1 - q) * G + j, &big, q * G + j);
    c.is_prefix_unshared = true;
    generate(v.m, &c, queries, NQ, G, &unshared, &st);
    assert_same_results(&big, &unshared);
    // Different samples of a group differ (the streams are distinct).
    int n_diff = 0;
    for (int q = 0; q < NQ; q++)
        n_diff += big.resp_ids[big.resp_off[q * G]] != big.resp_ids[big.resp_off[q * G + 1]];
    assert_true(n_diff > 0);
    rollout_result_free(&big);
    rollout_result_free(&one);
    for (int w = 0; w < 3; w++) rollout_result_free(&part[w]);
    rollout_result_free(&rev);
    rollout_result_free(&unshared);
    env_down(&v);
}

static void test_invariance(void **state) {
    (void)state;
    check_invariance(true);
}

static void test_invariance_plain_gemm(void **state) {
    (void)state;
    check_invariance(false);
    tol_batching = 0;
}

// A KV pool of 1 MiB holds 128 blocks of 16 positions here (2 layers x K,V x 2 heads x 16 x 16
// floats): far fewer than the samples want at once. The engine keeps within it, shares
// prompts (fewer blocks than unshared), and gives the same samples as with a large pool.
static void test_kv_budget(void **state) {
    (void)state;
    struct model_shape s = shape;
    s.D = 16, s.C = 64, s.F = 96, s.max_pos = 128;
    struct env v;
    env_up(&v, &s);
    make_queries(s.V);
    struct rollout_cfg c = base_cfg();
    c.max_new_tokens = 60;
    c.kv_cache_mb = 1;
    enum { G = 8 };
    struct rollout_result small = {0}, large = {0};
    struct rollout_stats st, st_large;
    struct rollout_plan plan;
    struct err e;
    assert_int_equal(rollout_plan_compute(&v.m->shape, &c, MAXP, G, &plan, &e), 0);
    assert_int_equal(plan.n_blocks, 128);
    rollout_plan_print(&plan, &c, stdout);
    generate(v.m, &c, queries, NQ, G, &small, &st);
    printf("1 MiB: peak %d sequences, %d blocks used, %d reserved of %d\n", st.peak_seqs,
           st.peak_blocks, st.peak_reserved, plan.n_blocks);
    assert_true(st.peak_reserved <= plan.n_blocks);
    assert_true(st.peak_blocks <= st.peak_reserved);
    assert_true(st.peak_seqs < NQ * G);
    assert_true(st.peak_seqs >= plan.seqs_fit_worst);
    c.kv_cache_mb = 64;
    generate(v.m, &c, queries, NQ, G, &large, &st_large);
    assert_int_equal(st_large.peak_seqs, NQ * G);
    assert_same_results(&small, &large);
    rollout_result_free(&small);
    rollout_result_free(&large);
    env_down(&v);
}

static void test_stop_and_length(void **state) {
    (void)state;
    struct env v;
    env_up(&v, &shape);
    make_queries(shape.V);
    struct rollout_cfg c = base_cfg();
    c.sampling.temperature = 0;
    struct rollout_result r = {0}, rs = {0};
    generate(v.m, &c, queries, 1, 1, &r, NULL);
    int n = (int)r.resp_off[1];
    assert_int_equal(n, 20);
    // Stop at the first occurrence of the id at position 4: the response ends there, with it.
    int32_t stop = r.resp_ids[4];
    int first = 0;
    while (r.resp_ids[first] != stop) first++;
    c.n_stop_ids = 1;
    c.stop_ids = &stop;
    generate(v.m, &c, queries, 1, 1, &rs, NULL);
    assert_int_equal(rs.resp_off[1], first + 1);
    assert_int_equal(rs.finish[0], ROLLOUT_FINISH_STOP);
    assert_memory_equal(rs.resp_ids, r.resp_ids, sizeof(int32_t) * (first + 1));
    rollout_result_free(&rs);
    rollout_result_free(&r);
    // A prompt 3 short of max_position_embeddings: responses of 3 ids, finish length.
    c.n_stop_ids = 0;
    c.sampling.temperature = 1;
    int32_t longp[96];
    for (int t = 0; t < 93; t++) longp[t] = t % shape.V;
    struct rollout_query q = {.id = 1, .ids = longp, .n_ids = 93};
    generate(v.m, &c, &q, 1, 3, &r, NULL);
    for (int s = 0; s < 3; s++) {
        assert_int_equal(r.resp_off[s + 1] - r.resp_off[s], 3);
        assert_int_equal(r.finish[s], ROLLOUT_FINISH_LENGTH);
    }
    rollout_result_free(&r);
    env_down(&v);
}

// The byte tokenizer and the ChatML template on a model of its vocabulary: stop strings end a
// response at the first occurrence in its text.
static void test_stop_strings(void **state) {
    (void)state;
    struct model_shape s = shape;
    s.V = 261;
    struct env v;
    env_up(&v, &s);
    struct err e;
    struct tokenizer *tok = NULL;
    struct chat_template *chat = NULL;
    assert_int_equal(tokenizer_create_bytes(&tok, &e), 0);
    assert_int_equal(chat_template_create(tok, "chatml", NULL, &chat, &e), 0);
    struct rollout_cfg c = base_cfg();
    c.sampling.temperature = 0;
    c.max_new_tokens = 30;
    struct rollout_engine *g = NULL;
    assert_int_equal(rollout_engine_create(v.m, tok, chat, &c, NULL, &g, &e), 0);
    struct token_ids ids = {0};
    struct rollout_query q = {0};
    struct rollout_result r = {0};
    struct text_buf text = {0};
    // A question whose greedy response has at least 8 bytes of text (the model is random).
    const char *questions[] = {"1+1=", "hello", "abc", "x", "What is 2+3?", "zz", NULL};
    for (int i = 0; questions[i] && text.n < 8; i++) {
        ids.n = text.n = 0;
        rollout_result_free(&r);
        assert_int_equal(rollout_encode_prompt(g, questions[i], &ids, &e), 0);
        assert_int_equal(ids.ids[0], tokenizer_token_id(tok, "<|im_start|>"));
        q = (struct rollout_query){.id = 3, .ids = ids.ids, .n_ids = (int)ids.n};
        assert_int_equal(rollout_generate(g, &q, 1, 1, 0, 9, &r, &e), 0);
        int n = (int)r.resp_off[1];
        assert_int_equal(tokenizer_decode(tok, r.resp_ids, (size_t)n, 1, &text, &e), 0);
        printf("greedy response to '%s': %d ids, %zu bytes\n", questions[i], n, text.n);
    }
    rollout_engine_destroy(&g);
    assert_true(text.n >= 8);
    // The bytes 5..6 of the text as a stop string; the response must end at the token that
    // completes its first occurrence.
    char stop[3] = {text.s[5], text.s[6] ? text.s[6] : 'a', 0};
    if (!stop[0]) stop[0] = 'a';
    const char *at = memmem(text.s, text.n, stop, 2);
    assert_non_null(at);
    size_t first = (size_t)(at - text.s) + 2;
    const char *stops[1] = {stop};
    c.n_stop = 1;
    c.stop = stops;
    assert_int_equal(rollout_engine_create(v.m, tok, chat, &c, NULL, &g, &e), 0);
    struct rollout_result rs = {0};
    assert_int_equal(rollout_generate(g, &q, 1, 1, 0, 9, &rs, &e), 0);
    struct text_buf cut = {0};
    assert_int_equal(tokenizer_decode(tok, rs.resp_ids, (size_t)rs.resp_off[1], 1, &cut, &e), 0);
    assert_int_equal(rs.finish[0], ROLLOUT_FINISH_STOP);
    assert_int_equal(cut.n, first);
    assert_memory_equal(cut.s, text.s, first);
    // Stop strings without a tokenizer are refused.
    rollout_engine_destroy(&g);
    assert_int_equal(rollout_engine_create(v.m, NULL, NULL, &c, NULL, &g, &e), ERR_USER);
    text_buf_free(&text);
    text_buf_free(&cut);
    token_ids_free(&ids);
    rollout_result_free(&r);
    rollout_result_free(&rs);
    chat_template_destroy(&chat);
    tokenizer_destroy(&tok);
    env_down(&v);
}

static void test_user_errors(void **state) {
    (void)state;
    struct env v;
    env_up(&v, &shape);
    struct err e;
    struct rollout_cfg c = base_cfg();
    struct rollout_engine *g = NULL;
    assert_int_equal(rollout_engine_create(v.m, NULL, NULL, &c, &v.ledger, &g, &e), 0);
    int32_t ok[3] = {1, 2, 3}, bad[2] = {1, 64}, big[96] = {0};
    struct rollout_query cases[] = {{.id = 7, .ids = ok, .n_ids = 0},
                                    {.id = 8, .ids = bad, .n_ids = 2},
                                    {.id = 9, .ids = big, .n_ids = 96}};
    struct rollout_result r = {0};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rollout_generate(g, &cases[i], 1, 2, 0, 0, &r, &e), ERR_USER);
        printf("error: %s\n", e.msg);
        assert_non_null(strstr(e.msg, "query '"));
    }
    // The engine is still usable after an error.
    struct rollout_query q = {.id = 1, .ids = ok, .n_ids = 3};
    assert_int_equal(rollout_generate(g, &q, 1, 2, 0, 0, &r, &e), 0);
    rollout_result_free(&r);
    rollout_engine_destroy(&g);
    c.block_size = 4096; // one block of 1 MiB: a prompt and its response need two
    c.kv_cache_mb = 1;
    assert_int_equal(rollout_engine_create(v.m, NULL, NULL, &c, NULL, &g, &e), 0);
    assert_int_equal(rollout_generate(g, &q, 1, 2, 0, 0, &r, &e), ERR_USER);
    printf("error: %s\n", e.msg);
    rollout_engine_destroy(&g);
    c = base_cfg();
    c.sampling.top_p = 0;
    assert_int_equal(rollout_engine_create(v.m, NULL, NULL, &c, NULL, &g, &e), ERR_USER);
    printf("error: %s\n", e.msg);
    c = base_cfg();
    c.max_batch_seqs = 0;
    assert_int_equal(rollout_engine_create(v.m, NULL, NULL, &c, NULL, &g, &e), ERR_USER);
    printf("error: %s\n", e.msg);
    env_down(&v);
    // 8 layers x K,V x 2 heads x 16 positions x 16 floats: 32 KiB a block, 32 blocks in 1 MiB,
    // 512 positions: not one sequence of 512 prompt + 1000 new ids (max_pos 1024).
    struct model_shape s = shape;
    s.L = 8, s.D = 16, s.C = 64, s.max_pos = 1024;
    env_up(&v, &s);
    c = base_cfg();
    c.kv_cache_mb = 1;
    c.max_new_tokens = 1000;
    assert_int_equal(rollout_engine_create(v.m, NULL, NULL, &c, NULL, &g, &e), ERR_USER);
    printf("error: %s\n", e.msg);
    c.max_new_tokens = 100;
    c.plan_prompt_tokens = 256; // 355 positions fit
    assert_int_equal(rollout_engine_create(v.m, NULL, NULL, &c, NULL, &g, &e), 0);
    rollout_engine_destroy(&g);
    env_down(&v);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_greedy_is_forward_argmax),
                                       cmocka_unit_test(test_logprobs_match_forward),
                                       cmocka_unit_test(test_invariance),
                                       cmocka_unit_test(test_invariance_plain_gemm),
                                       cmocka_unit_test(test_kv_budget),
                                       cmocka_unit_test(test_stop_and_length),
                                       cmocka_unit_test(test_stop_strings),
                                       cmocka_unit_test(test_user_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
