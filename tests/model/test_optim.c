// Whole-model finite differences (with a sampling temperature), learning-rate schedules, and
// exact resume of AdamW from a checkpoint: two steps, or one step + save + load + one step,
// give the same bits.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/ckpt.h"
#include "model/ckpt.h"
#include "model/cpu/cpu.h"
#include "model/from_config.h"
#include "model/optim.h"

// Central differences on fp32 parameters of scale 0.3 with eps 1e-2: truncation ~eps^2 of the
// curvature (~1e-4 relative); fp32 rounding of the loss over 12 tokens / 2 eps ~1e-5.
#define FD_EPS     1e-2f
#define TOL_FD_REL 2e-2
#define TOL_FD_ABS 2e-3

static const struct model_shape shape = {.C = 32,
                                         .L = 2,
                                         .H = 4,
                                         .Hkv = 2,
                                         .D = 8,
                                         .F = 48,
                                         .V = 40,
                                         .max_pos = 64,
                                         .rope_theta = 10000.0f,
                                         .rms_eps = 1e-6f,
                                         .is_tied = true,
                                         .head = MODEL_HEAD_LM};

enum { NTOK = 12, NB = 2 };
static const int32_t tokens[NTOK] = {3, 7, 11, 2, 39, 0, 5, 5, 17, 23, 31, 8};
static const int32_t cu[NB + 1] = {0, 7, 12};

static void targets_of(int32_t *tg) {
    for (int b = 0; b < NB; b++)
        for (int t = cu[b]; t < cu[b + 1]; t++) tg[t] = t + 1 < cu[b + 1] ? tokens[t + 1] : -1;
}

static double loss(struct model *m, struct model_acts *a, const float *w) {
    struct err e;
    int32_t tg[NTOK];
    targets_of(tg);
    float lp[NTOK], ent[NTOK];
    if (model_forward(m, a, tokens, tg, cu, NB, lp, ent, &e) < 0) fail_msg("%s", e.msg);
    double s = 0;
    for (int t = 0; t < NTOK; t++) s += (double)w[t] * lp[t] + (double)w[NTOK + t] * ent[t];
    return s;
}

static void test_model_finite_differences(void **state) {
    (void)state;
    struct err e;
    struct backend *be = NULL;
    struct model *m = NULL;
    assert_int_equal(backend_cpu_create(1, &be, &e), 0);
    assert_int_equal(model_create(&shape, be, NULL, &m, &e), 0);
    model_init_params(m, 7, 0.3f);
    for (int i = 0; i < m->n_tensors; i++) // random norms and biases too
        if (m->tensors[i].ndim == 1)
            for (size_t j = 0; j < m->tensors[i].n; j++)
                m->params[m->tensors[i].offset + j] += 0.1f * (float)((j * 7919 + i) % 13) / 13;
    assert_int_equal(model_alloc_grads(m, &e), 0);
    struct model_acts *a = NULL;
    struct model_acts_cfg cfg = {.n_tokens_max = NTOK, .lm_chunk = 5, .temperature = 0.7f};
    assert_int_equal(model_acts_create(m, &cfg, &a, &e), 0);
    float w[2 * NTOK];
    for (int t = 0; t < 2 * NTOK; t++) w[t] = (float)((t * 37) % 11) / 11.0f - 0.5f;
    loss(m, a, w);
    assert_int_equal(model_backward(m, a, w, w + NTOK, &e), 0);
    int n_checked = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const struct model_tensor *t = &m->tensors[i];
        for (size_t j = 0; j < t->n; j += t->n / 3 + 1) { // three entries of every tensor
            float *p = m->params + t->offset + j, p0 = *p;
            *p = p0 + FD_EPS;
            double lp = loss(m, a, w);
            *p = p0 - FD_EPS;
            double lm = loss(m, a, w);
            *p = p0;
            double fd = (lp - lm) / (2 * FD_EPS), an = m->grads[t->offset + j];
            if (!(fabs(fd - an) <= TOL_FD_REL * fabs(an) + TOL_FD_ABS))
                fail_msg("%s[%zu]: backward %.6g, finite differences %.6g", t->name, j, an, fd);
            n_checked++;
        }
    }
    printf("%d parameters checked by finite differences\n", n_checked);
    model_acts_destroy(m, &a);
    model_destroy(&m);
    backend_cpu_destroy(&be);
}

static void test_lr_schedules(void **state) {
    (void)state;
    struct lr_schedule c = {.kind = LR_CONSTANT, .lr = 1e-3f, .warmup_steps = 4};
    assert_true(fabsf(lr_at(&c, 0) - 0.25e-3f) < 1e-9f); // warm-up: (step + 1) / warmup
    assert_true(fabsf(lr_at(&c, 3) - 1e-3f) < 1e-9f);
    assert_true(fabsf(lr_at(&c, 100) - 1e-3f) < 1e-9f);
    struct lr_schedule cos_ = {
        .kind = LR_COSINE, .lr = 1.0f, .min_lr = 0.1f, .warmup_steps = 10, .total_steps = 110};
    assert_true(fabsf(lr_at(&cos_, 10) - 1.0f) < 1e-6f);
    assert_true(fabsf(lr_at(&cos_, 60) - 0.55f) < 1e-6f); // half-way: floor + half the range
    assert_true(fabsf(lr_at(&cos_, 110) - 0.1f) < 1e-6f);
    assert_true(fabsf(lr_at(&cos_, 1000) - 0.1f) < 1e-6f); // floor after the horizon
    struct lr_schedule lin = {.kind = LR_LINEAR, .lr = 1.0f, .min_lr = 0.0f, .total_steps = 100};
    assert_true(fabsf(lr_at(&lin, 25) - 0.75f) < 1e-6f);
}

// Deterministic gradients for step k.
static void fake_grads(struct model *m, int k) {
    for (size_t i = 0; i < m->n_params; i++)
        m->grads[i] = sinf((float)(i % 1000) * 0.37f + (float)k) * 1e-2f;
}

static void test_adamw_exact_resume(void **state) {
    (void)state;
    struct err e;
    struct backend *be = NULL;
    struct model *m1 = NULL, *m2 = NULL;
    struct adamw *o1 = NULL, *o2 = NULL;
    struct adamw_cfg oc = {
        .b1 = 0.9f, .b2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f, .clip_norm = 0.5f};
    assert_int_equal(backend_cpu_create(0, &be, &e), 0);
    assert_int_equal(model_create(&shape, be, NULL, &m1, &e), 0);
    model_init_params(m1, 3, 0.1f);
    assert_int_equal(model_alloc_grads(m1, &e), 0);
    assert_int_equal(adamw_create(m1, &oc, &o1, &e), 0);
    fake_grads(m1, 0);
    adamw_step(o1, m1, 1e-3f);
    // save model + optimiser, reload into fresh objects
    char path[] = "/tmp/grpo-test-optim-XXXXXX";
    assert_non_null(mkdtemp(path));
    char ck[128];
    snprintf(ck, sizeof ck, "%s/ckpt-1.h5", path);
    struct ckpt_writer *w = NULL;
    assert_int_equal(ckpt_writer_begin(ck, &w, &e), 0);
    assert_int_equal(model_write_h5(m1, ckpt_writer_file(w), &e), 0);
    assert_int_equal(adamw_write_h5(o1, m1, ckpt_writer_file(w), &e), 0);
    assert_int_equal(ckpt_writer_commit(&w, &e), 0);
    if (model_load_ckpt(ck, be, NULL, &m2, &e) < 0) fail_msg("%s", e.msg);
    assert_int_equal(model_alloc_grads(m2, &e), 0);
    assert_int_equal(adamw_create(m2, &oc, &o2, &e), 0);
    struct h5file *f = NULL;
    assert_int_equal(ckpt_open(ck, &f, &e), 0);
    if (adamw_read_h5(o2, m2, f, &e) < 0) fail_msg("%s", e.msg);
    assert_int_equal(h5_close(&f, &e), 0);
    assert_int_equal(o2->step, 1);
    // step 2 on both
    fake_grads(m1, 1);
    fake_grads(m2, 1);
    double n1 = adamw_step(o1, m1, 1e-3f), n2 = adamw_step(o2, m2, 1e-3f);
    assert_true(n1 == n2);
    assert_memory_equal(m1->params, m2->params, m1->n_params * sizeof(float));
    assert_memory_equal(o1->m, o2->m, m1->n_params * sizeof(float));
    assert_memory_equal(o1->v, o2->v, m1->n_params * sizeof(float));
    unlink(ck);
    rmdir(path);
    // a non-finite gradient skips the step
    m1->grads[5] = NAN;
    memcpy(m2->params, m1->params, m1->n_params * sizeof(float));
    assert_true(isnan(adamw_step(o1, m1, 1e-3f)));
    assert_int_equal(o1->step, 2);
    assert_memory_equal(m1->params, m2->params, m1->n_params * sizeof(float));
    adamw_destroy(&o1);
    adamw_destroy(&o2);
    model_destroy(&m1);
    model_destroy(&m2);
    backend_cpu_destroy(&be);
}

static void test_from_config(void **state) {
    (void)state;
    struct err e;
    struct model_section c = {.hidden_size = 128,
                              .intermediate_size = 352,
                              .num_layers = 4,
                              .num_heads = 4,
                              .num_kv_heads = 0,
                              .vocab_size = 0,
                              .max_seq_len = 512,
                              .rope_theta = 10000,
                              .rms_norm_eps = 1e-6,
                              .tie_embeddings = true};
    struct model_shape s;
    assert_int_equal(model_shape_from_config(&c, 260, &s, &e), 0);
    assert_int_equal(s.V, 260); // from the tokenizer
    assert_int_equal(s.Hkv, 4); // 0 = num_heads
    assert_int_equal(s.D, 32);
    c.num_kv_heads = 3;
    assert_int_equal(model_shape_from_config(&c, 260, &s, &e), ERR_USER);
    assert_string_equal(e.msg, "model.num_heads '4' is not a multiple of model.num_kv_heads '3'");
    c.num_kv_heads = 2;
    c.hidden_size = 0;
    assert_int_equal(model_shape_from_config(&c, 260, &s, &e), ERR_USER);
    assert_non_null(strstr(e.msg, "model.hidden_size '0'"));
    struct optim_section o = {.lr = 1e-3,
                              .beta1 = 0.9,
                              .beta2 = 0.95,
                              .eps = 1e-8,
                              .grad_clip = 1,
                              .min_lr_ratio = 0.1,
                              .schedule = SCHED_COSINE,
                              .warmup_steps = 0};
    struct lr_schedule ls;
    lr_schedule_from_config(&o, 100, &ls);
    assert_int_equal(ls.kind, LR_COSINE);
    assert_true(fabsf(lr_at(&ls, 100) - 1e-4f) < 1e-9f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_finite_differences), cmocka_unit_test(test_lr_schedules),
        cmocka_unit_test(test_from_config), cmocka_unit_test(test_adamw_exact_resume)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
