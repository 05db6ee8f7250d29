// The C model against Hugging Face transformers (golden files made by gen_golden.py in
// float64): per-token log-probabilities and entropies of a packed batch, every parameter
// gradient of a fixed loss, last-position logits through the KV cache, two AdamW steps, and
// the reward head's score.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/cpu/cpu.h"
#include "model/hf.h"
#include "model/kv_cache.h"
#include "model/optim.h"
#include "tests/model/testutil.h"

// fp32 forward vs a float64 reference: a few hundred fp32 roundings per value, relative
// ~1e-6; the bound is 1e-4.
#define TOL_LOGPROB 1e-4
// Gradients sum over tokens and pass through more fp32 ops (softmax backward, rsqrt): 1e-3.
#define TOL_GRAD 1e-3
// AdamW moves each parameter by about lr = 1e-2 per step; the update is computed in fp32
// from fp32-rounded gradients, which for tiny gradients (|g| ~ eps) is ill-conditioned.
#define TOL_ADAMW 2e-4

struct fixture {
    struct backend *be;
    struct model *m;
    struct st_file *g;
    struct mem_ledger ledger;
};

static void load(struct fixture *f, const char *name) {
    struct err e;
    char dir[4096], path[4200];
    test_data_dir(dir, sizeof dir, name);
    assert_int_equal(backend_cpu_create(0, &f->be, &e), 0);
    if (model_load_hf(dir, f->be, &f->ledger, &f->m, &e) < 0) fail_msg("%s", e.msg);
    snprintf(path, sizeof path, "%s/golden.safetensors", dir);
    if (safetensors_open(path, &f->g, &e) < 0) fail_msg("%s", e.msg);
}

static void unload(struct fixture *f) {
    model_destroy(&f->m);
    safetensors_close(&f->g);
    backend_cpu_destroy(&f->be);
    assert_int_equal(mem_ledger_total(&f->ledger), 0);
}

static void check_lm(const char *name, bool is_recompute) {
    struct fixture f = {0};
    struct err e;
    load(&f, name);
    struct model *m = f.m;
    size_t N, n_cu;
    int32_t *tokens = golden_i32(f.g, "tokens", &N), *targets = golden_i32(f.g, "targets", NULL);
    int32_t *cu = golden_i32(f.g, "cu_seqlens", &n_cu);
    int B = (int)n_cu - 1;
    float *lp = calloc(N, 4), *ent = calloc(N, 4);
    struct model_acts *a = NULL;
    // lm_chunk 4 < N: the chunked LM head is exercised across chunk boundaries.
    struct model_acts_cfg cfg = {
        .n_tokens_max = (int)N + 3, .is_recompute = is_recompute, .lm_chunk = 4};
    assert_int_equal(model_acts_create(m, &cfg, &a, &e), 0);
    if (model_forward(m, a, tokens, targets, cu, B, lp, ent, &e) < 0) fail_msg("%s", e.msg);
    float *ref_lp = golden_f32(f.g, "logprob", NULL), *ref_ent = golden_f32(f.g, "entropy", NULL);
    double err_lp = rel_err(lp, ref_lp, N, 1.0), err_ent = rel_err(ent, ref_ent, N, 1.0);
    printf("%s: logprob rel err %.2e, entropy %.2e\n", name, err_lp, err_ent);
    assert_true(err_lp < TOL_LOGPROB);
    assert_true(err_ent < TOL_LOGPROB);

    float *w_lp = golden_f32(f.g, "w_logprob", NULL), *w_ent = golden_f32(f.g, "w_entropy", NULL);
    assert_int_equal(model_alloc_grads(m, &e), 0);
    if (model_backward(m, a, w_lp, w_ent, &e) < 0) fail_msg("%s", e.msg);
    double worst = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *t = &m->tensors[i];
        char gname[128];
        snprintf(gname, sizeof gname, "grad.%s", t->name);
        float *ref = golden_f32(f.g, gname, NULL);
        double r = rel_err(m->grads + t->offset, ref, t->n, 1e-6);
        if (r > worst) worst = r;
        if (!(r < TOL_GRAD)) fail_msg("%s: gradient of %s rel err %.3e", name, t->name, r);
        free(ref);
    }
    printf("%s: worst gradient rel err %.2e (recompute %d)\n", name, worst, is_recompute);

    // AdamW: step 1 with half the gradient clipped to a quarter of its norm, step 2 with half
    // the gradient unclipped (see gen_golden.py).
    float *g = malloc(m->n_params * 4);
    memcpy(g, m->grads, m->n_params * 4);
    float *norm = golden_f32(f.g, "grad_norm", NULL);
    assert_true(fabs(model_grad_norm(m) - norm[0]) < 1e-3 * norm[0]);
    struct adamw *opt = NULL;
    struct adamw_cfg oc = {
        .b1 = 0.9f, .b2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f, .clip_norm = norm[0] * 0.25f};
    assert_int_equal(adamw_create(m, &oc, &opt, &e), 0);
    for (int step = 0; step < 2; step++) {
        for (size_t i = 0; i < m->n_params; i++) m->grads[i] = 0.5f * g[i];
        opt->cfg.clip_norm = step == 0 ? norm[0] * 0.25f : 0;
        adamw_step(opt, m, 1e-2f);
    }
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *t = &m->tensors[i];
        char pname[128];
        snprintf(pname, sizeof pname, "adamw.%s", t->name);
        float *ref = golden_f32(f.g, pname, NULL);
        double r = rel_err(m->params + t->offset, ref, t->n, 1.0);
        if (!(r < TOL_ADAMW)) fail_msg("%s: AdamW of %s rel err %.3e", name, t->name, r);
        free(ref);
    }
    adamw_destroy(&opt);
    free(g);
    free(norm);
    free(w_lp);
    free(w_ent);
    free(ref_lp);
    free(ref_ent);
    free(lp);
    free(ent);
    free(tokens);
    free(targets);
    free(cu);
    model_acts_destroy(m, &a);
    unload(&f);
}

static void test_untied(void **state) {
    (void)state;
    check_lm("qwen2_untied", false);
}
static void test_tied(void **state) {
    (void)state;
    check_lm("qwen2_tied", false);
}
static void test_recompute(void **state) {
    (void)state;
    check_lm("qwen2_untied", true);
}

// A golden model with its packed batch, a KV cache and an inference workspace.
struct infer_fixture {
    struct fixture f;
    int32_t *tokens, *cu;
    int B;
    struct kv_cache *c;
    struct model_acts *a;
    int seqs[8];
};

static void infer_up(struct infer_fixture *x, const char *name, int block_size) {
    struct err e;
    memset(x, 0, sizeof *x);
    load(&x->f, name);
    size_t N, n_cu;
    x->tokens = golden_i32(x->f.g, "tokens", &N);
    x->cu = golden_i32(x->f.g, "cu_seqlens", &n_cu);
    x->B = (int)n_cu - 1;
    struct kv_cache_cfg kc = {
        .n_blocks = 16, .block_size = block_size, .max_seqs = 4, .max_len = 32};
    assert_int_equal(kv_cache_create(&x->f.m->shape, &kc, &x->f.ledger, &x->c, &e), 0);
    struct model_acts_cfg cfg = {.n_tokens_max = (int)N, .is_inference = true};
    assert_int_equal(model_acts_create(x->f.m, &cfg, &x->a, &e), 0);
    for (int b = 0; b < x->B; b++) assert_int_equal(kv_seq_create(x->c, &x->seqs[b], &e), 0);
}

static void infer_down(struct infer_fixture *x) {
    free(x->tokens);
    free(x->cu);
    model_acts_destroy(x->f.m, &x->a);
    kv_cache_destroy(&x->c);
    unload(&x->f);
}

// Prefill through the KV cache: the last-position logits of each sequence, all sequences in
// one call.
static void check_logits_last(const char *name) {
    struct infer_fixture x;
    struct err e;
    infer_up(&x, name, 4);
    int V = x.f.m->shape.V;
    float *logits = calloc((size_t)x.B * V, 4), *ref = golden_f32(x.f.g, "logits_last", NULL);
    if (model_infer(x.f.m, x.a, x.c, x.seqs, x.tokens, x.cu, x.B, logits, &e) < 0)
        fail_msg("%s", e.msg);
    double r = rel_err(logits, ref, (size_t)x.B * V, 1.0);
    printf("%s: last logits rel err %.2e\n", name, r);
    assert_true(r < TOL_LOGPROB);
    free(logits);
    free(ref);
    infer_down(&x);
}

static void test_logits_last(void **state) {
    (void)state;
    check_logits_last("qwen2_untied");
    check_logits_last("qwen2_tied");
}

static void check_reward_head(const char *name, enum model_head head) {
    struct infer_fixture x;
    struct err e;
    infer_up(&x, name, 16);
    assert_int_equal(x.f.m->shape.head, head);
    float score[8], *ref = golden_f32(x.f.g, "score", NULL);
    if (model_infer_score(x.f.m, x.a, x.c, x.seqs, x.tokens, x.cu, x.B, score, &e) < 0)
        fail_msg("%s", e.msg);
    double r = rel_err(score, ref, (size_t)x.B, 1.0);
    printf("%s: score rel err %.2e (%g vs %g)\n", name, r, score[0], ref[0]);
    assert_true(r < TOL_LOGPROB);
    // A reward model has no LM head.
    assert_int_equal(model_infer(x.f.m, x.a, x.c, x.seqs, x.tokens, x.cu, x.B, score, &e),
                     ERR_USER);
    free(ref);
    infer_down(&x);
}

static void test_reward_head(void **state) {
    (void)state;
    check_reward_head("qwen2_rm", MODEL_HEAD_RM);
    check_reward_head("qwen2_score", MODEL_HEAD_SCORE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_untied),      cmocka_unit_test(test_tied),
        cmocka_unit_test(test_recompute),   cmocka_unit_test(test_logits_last),
        cmocka_unit_test(test_reward_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
