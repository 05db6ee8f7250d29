// The whole model in device memory on the CUDA backend against the CPU backend, from the same
// parameters: forward log-probabilities and entropies and the backward's parameter gradients
// of a tiny Qwen2 over packed sequences, an AdamW step, KV-cache inference (a packed prefill of
// two prompts, then decode steps) and a checkpoint written from and read into device memory.
// The model allocates through the backend's hooks and reaches its buffers from the host only
// through copies (model_host_get, the caller's arrays). On the emulation (GRPO_CUDA_EMU) the
// backend is wrapped by device_guard.h, which checks that every kernel argument is device
// memory, and device memory is inaccessible to host code (emu_device_guard). Exits 77 (skip)
// without a CUDA device.
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

#include "core/rng.h"
#include "model/cpu/cpu.h"
#include "model/cuda/cuda.h"
#include "model/kv_cache.h"
#include "model/model_internal.h"
#include "model/optim.h"
#ifdef GRPO_CUDA_EMU
#include "model/ckpt.h"
#include "rollout/rollout.h"
#include "tests/cuda/device_guard.h"
#include "tests/cuda/emu/device_mem.h"
#define DEVICE_OWNS(p, n) emu_device_owns((p), (n))
#else
#define DEVICE_OWNS(p, n) ((void)(p), (void)(n), true)
#endif

// Two fp32 implementations of the same network (other summation orders in every reduction,
// GEMM and softmax): ~1e-6 per op, compounded over 2 layers and the backward.
#define TOL_MODEL 1e-4
// A single small tensor (a bias, a norm weight) sums fewer terms with more cancellation.
#define TOL_TENSOR 1e-3
// Parameters after one AdamW step (the update is ~lr, far below the parameters' size).
#define TOL_STEP 1e-5

static const struct model_shape shape = {.C = 64,
                                         .L = 2,
                                         .H = 4,
                                         .Hkv = 2,
                                         .D = 16,
                                         .F = 96,
                                         .V = 300,
                                         .max_pos = 128,
                                         .rope_theta = 10000.0f,
                                         .rms_eps = 1e-6f,
                                         .is_tied = true,
                                         .head = MODEL_HEAD_LM};

enum { B = 3, N = 5 + 17 + 41 };

struct side {
    struct backend *be;
    struct model *m;
    struct model_acts *a;
    float lp[N], ent[N]; // host arrays of the caller
};

static struct backend *gpu_be; // the backend under test (guarded on the emulation)

static double rel_err(const float *got, const float *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return isfinite(num) ? sqrt(num / (den > 0 ? den : 1)) : INFINITY;
}

static void expect(const char *name, const float *got, const float *ref, size_t n, double tol) {
    double r = rel_err(got, ref, n);
    printf("%-40s n=%-7zu rel err %.2e (tol %.0e)\n", name, n, r, tol);
    if (!(r <= tol)) fail_msg("%s: relative error %.3e over %.0e", name, r, tol);
}

// A CPU backend and a model on it with parameters initialised from seed (the parameters both
// sides start from).
static struct model *cpu_model(struct backend **cpu, uint64_t seed) {
    struct err e = {0};
    struct model *m;
    assert_int_equal(backend_cpu_create(0, cpu, &e), 0);
    assert_int_equal(model_create(&shape, *cpu, NULL, &m, &e), 0);
    model_init_params(m, seed, 0.3f);
    return m;
}

// The parameters of a model on either backend into it, from host memory.
static void params_up(struct model *m, const float *params) {
    float *h = model_host_get(m, m->params, false);
    memcpy(h, params, sizeof(float) * m->n_params);
    model_host_put(m, m->params, &h, true);
}

// A flat buffer of m (params, grads, a moment) as a host copy the caller frees.
static float *buf_down(const struct model *m, const float *buf) {
    float *h = model_host_get(m, buf, true);
    if (h == buf) { // host backend: copy, so the caller always frees
        h = malloc(sizeof(float) * m->n_params);
        memcpy(h, buf, sizeof(float) * m->n_params);
    }
    return h;
}

static void side_up(struct side *s, struct backend *be, const float *params, int lm_chunk) {
    struct err e = {0};
    memset(s, 0, sizeof *s);
    s->be = be;
    assert_int_equal(model_create(&shape, be, NULL, &s->m, &e), 0);
    params_up(s->m, params);
    assert_int_equal(model_alloc_grads(s->m, &e), 0);
    struct model_acts_cfg cfg = {.n_tokens_max = N, .lm_chunk = lm_chunk};
    assert_int_equal(model_acts_create(s->m, &cfg, &s->a, &e), 0);
    if (backend_is_device(be)) { // every buffer of the model is device memory
        size_t nb = sizeof(float) * s->m->n_params;
        assert_true(DEVICE_OWNS(s->m->params, nb) && DEVICE_OWNS(s->m->grads, nb));
        assert_true(DEVICE_OWNS(s->a->buf, s->a->n_bytes));
        assert_true(DEVICE_OWNS(s->a->io, 3 * sizeof(float) * N));
        assert_true(!DEVICE_OWNS(s->a->h_tokens, s->a->idx_bytes));
    }
}

static void side_down(struct side *s) {
    model_acts_destroy(s->m, &s->a);
    model_destroy(&s->m);
}

// One AdamW step on both sides (clipping active); compares the norm, the moments and the
// parameters after the step.
static void adamw_both(struct side *c, struct side *d) {
    struct err e = {0};
    struct adamw_cfg ac = {
        .b1 = 0.9f, .b2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f, .clip_norm = 0.5f};
    struct adamw *oc, *od;
    assert_int_equal(adamw_create(c->m, &ac, &oc, &e), 0);
    assert_int_equal(adamw_create(d->m, &ac, &od, &e), 0);
    if (backend_is_device(d->be))
        assert_true(DEVICE_OWNS(od->m, sizeof(float) * od->n) &&
                    DEVICE_OWNS(od->v, sizeof(float) * od->n));
    double nc = adamw_step(oc, c->m, 1e-3f), nd = adamw_step(od, d->m, 1e-3f);
    printf("%-40s cpu %.6e device %.6e\n", "gradient norm", nc, nd);
    assert_true(fabs(nd - nc) <= 1e-5 * nc);
    const float *bufs[3][2] = {{oc->m, od->m}, {oc->v, od->v}, {c->m->params, d->m->params}};
    const char *names[3] = {"adamw m", "adamw v", "params after adamw"};
    const double tols[3] = {TOL_MODEL, TOL_MODEL, TOL_STEP};
    for (int k = 0; k < 3; k++) {
        float *hc = buf_down(c->m, bufs[k][0]), *hd = buf_down(d->m, bufs[k][1]);
        expect(names[k], hd, hc, c->m->n_params, tols[k]);
        free(hc);
        free(hd);
    }
    adamw_destroy(&oc);
    adamw_destroy(&od);
}

static void test_forward_backward(void **state) {
    (void)state;
    struct err e = {0};
    struct backend *cpu;
    struct model *init = cpu_model(&cpu, 5);
    // a batch of three sequences (17 and 41 tokens cross the kernels' 8-row blocks and
    // 32-row tiles); the last token of each sequence has no target
    int32_t cu[B + 1] = {0, 5, 22, N}, tokens[N], targets[N];
    struct rng_seq r;
    rng_seq_init(&r, 3, rng_stream_id(RNG_TEST, 10, 0, 0), 0);
    for (int t = 0; t < N; t++) tokens[t] = (int32_t)(rng_seq_u32(&r) % shape.V);
    for (int b = 0; b < B; b++)
        for (int t = cu[b]; t < cu[b + 1]; t++) targets[t] = t + 1 < cu[b + 1] ? tokens[t + 1] : -1;
    // gradients of sum(g_lp logprob + g_ent entropy), host arrays of the caller
    float g_lp[N], g_ent[N];
    for (int t = 0; t < N; t++)
        g_lp[t] = (float)rng_seq_normal(&r), g_ent[t] = 0.1f * (float)rng_seq_normal(&r);
    int lm_chunks[] = {0, 16}; // one LM-head chunk, then four
    for (int k = 0; k < 2; k++) {
        struct side c, d;
        side_up(&c, cpu, init->params, lm_chunks[k]);
        side_up(&d, gpu_be, init->params, lm_chunks[k]);
        assert_int_equal(model_forward(c.m, c.a, tokens, targets, cu, B, c.lp, c.ent, &e), 0);
        assert_int_equal(model_forward(d.m, d.a, tokens, targets, cu, B, d.lp, d.ent, &e), 0);
        char name[80];
        snprintf(name, sizeof name, "forward logprob (lm_chunk %d)", lm_chunks[k]);
        expect(name, d.lp, c.lp, N, TOL_MODEL);
        snprintf(name, sizeof name, "forward entropy (lm_chunk %d)", lm_chunks[k]);
        expect(name, d.ent, c.ent, N, TOL_MODEL);
        assert_int_equal(model_backward(c.m, c.a, g_lp, g_ent, &e), 0);
        assert_int_equal(model_backward(d.m, d.a, g_lp, g_ent, &e), 0);
        float *gd = buf_down(d.m, d.m->grads);
        snprintf(name, sizeof name, "gradients, all (lm_chunk %d)", lm_chunks[k]);
        expect(name, gd, c.m->grads, c.m->n_params, TOL_MODEL);
        for (int i = 0; i < c.m->n_tensors; i++) {
            const struct model_tensor *t = &c.m->tensors[i];
            double re = rel_err(gd + t->offset, c.m->grads + t->offset, t->n);
            if (!(re <= TOL_TENSOR)) fail_msg("gradient of %s: relative error %.3e", t->name, re);
        }
        free(gd);
        if (k == 0) adamw_both(&c, &d);
        side_down(&c);
        side_down(&d);
    }
    model_destroy(&init);
    backend_cpu_destroy(&cpu);
}

#ifdef GRPO_CUDA_EMU // (main: why)
// The parameters written from device memory to a checkpoint and read back, on the CPU and
// into device memory: the same bits as the host's.
static void test_checkpoint(void **state) {
    (void)state;
    struct err e = {0};
    struct backend *cpu;
    struct model *init = cpu_model(&cpu, 7), *d, *back_cpu, *back_dev;
    assert_int_equal(model_create(&shape, gpu_be, NULL, &d, &e), 0);
    params_up(d, init->params);
    char dir[] = "/tmp/grpo_cuda_ckpt_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.h5", dir);
    assert_int_equal(model_save_ckpt(d, path, &e), 0);
    assert_int_equal(model_load_ckpt(path, cpu, NULL, &back_cpu, &e), 0);
    assert_memory_equal(back_cpu->params, init->params, sizeof(float) * init->n_params);
    assert_int_equal(model_load_ckpt(path, gpu_be, NULL, &back_dev, &e), 0);
    float *h = buf_down(back_dev, back_dev->params);
    assert_memory_equal(h, init->params, sizeof(float) * init->n_params);
    free(h);
    unlink(path);
    rmdir(dir);
    model_destroy(&back_dev);
    model_destroy(&back_cpu);
    model_destroy(&d);
    model_destroy(&init);
    backend_cpu_destroy(&cpu);
}
#endif

// One inference setup: model, inference workspace, paged cache (blocks of 4 positions, so the
// sequences span several scattered blocks), logits (B, V) in host memory.
static const struct kv_cache_cfg kv_cfg = {
    .n_blocks = 24, .block_size = 4, .max_seqs = 2, .max_len = 40};

struct infer_side {
    struct model *m;
    struct model_acts *a;
    struct kv_cache *c;
    float *logits;
    int ids[2];
};

static void infer_up(struct infer_side *s, struct backend *be, const float *params) {
    struct err e = {0};
    assert_int_equal(model_create(&shape, be, NULL, &s->m, &e), 0);
    params_up(s->m, params);
    // lm_chunk 1 < B: the device's logits go to the host through the logits buffer in 2 chunks
    struct model_acts_cfg cfg = {.n_tokens_max = 32, .is_inference = true, .lm_chunk = 1};
    assert_int_equal(model_acts_create(s->m, &cfg, &s->a, &e), 0);
    assert_int_equal(kv_cache_create_on(be, &shape, &kv_cfg, NULL, &s->c, &e), 0);
    if (backend_is_device(be))
        assert_true(DEVICE_OWNS(s->c->pool, kv_cache_bytes(&shape, &kv_cfg)) &&
                    DEVICE_OWNS(s->c->dev_table, sizeof(int32_t) * 2 * s->c->max_blocks_per_seq));
    for (int b = 0; b < 2; b++) assert_int_equal(kv_seq_create(s->c, &s->ids[b], &e), 0);
    s->logits = malloc(sizeof(float) * 2 * shape.V);
}

static void infer_down(struct infer_side *s) {
    free(s->logits);
    kv_cache_destroy(&s->c);
    model_acts_destroy(s->m, &s->a);
    model_destroy(&s->m);
}

static void test_prefill_decode(void **state) {
    (void)state;
    struct err e = {0};
    struct backend *cpu;
    struct model *init = cpu_model(&cpu, 9);
    struct infer_side c, d;
    infer_up(&c, cpu, init->params);
    infer_up(&d, gpu_be, init->params);
    // prefill: prompts of 7 and 13 tokens in one packed call
    int32_t prompt[20], cu[3] = {0, 7, 20};
    for (int t = 0; t < 20; t++) prompt[t] = (int32_t)((t * 37 + 11) % shape.V);
    assert_int_equal(model_infer(c.m, c.a, c.c, c.ids, prompt, cu, 2, c.logits, &e), 0);
    assert_int_equal(model_infer(d.m, d.a, d.c, d.ids, prompt, cu, 2, d.logits, &e), 0);
    expect("prefill logits (7 + 13 tokens)", d.logits, c.logits, 2 * (size_t)shape.V, TOL_MODEL);
    // decode: one token per sequence per call, the argmax of the CPU's logits; at step 4
    // sequence 1 is replaced by a fork of sequence 0 (two continuations of it), so the copy on
    // write of a shared, partly filled block runs on the device too
    double worst = 0;
    for (int step = 0; step < 8; step++) {
        if (step == 4)
            for (struct infer_side *x = &c; x; x = x == &c ? &d : NULL) {
                kv_seq_destroy(x->c, x->ids[1]);
                assert_int_equal(kv_seq_fork(x->c, x->ids[0], &x->ids[1], &e), 0);
            }
        int32_t next[2], one[3] = {0, 1, 2};
        for (int b = 0; b < 2; b++) {
            const float *z = c.logits + (size_t)(step == 4 ? 0 : b) * shape.V;
            int best = 0;
            for (int k = 1; k < shape.V; k++) best = z[k] > z[best] ? k : best;
            next[b] = (best + b * (step == 4)) % shape.V; // after the fork: two continuations
        }
        assert_int_equal(model_infer(c.m, c.a, c.c, c.ids, next, one, 2, c.logits, &e), 0);
        assert_int_equal(model_infer(d.m, d.a, d.c, d.ids, next, one, 2, d.logits, &e), 0);
        worst = fmax(worst, rel_err(d.logits, c.logits, 2 * (size_t)shape.V));
    }
    printf("%-40s rel err %.2e (tol %.0e)\n", "decode logits, worst of 8 steps", worst, TOL_MODEL);
    if (!(worst <= TOL_MODEL)) fail_msg("decode logits: relative error %.3e", worst);
    infer_down(&c);
    infer_down(&d);
    model_destroy(&init);
    backend_cpu_destroy(&cpu);
}

#ifdef GRPO_CUDA_EMU
// The rollout engine (prefill, fork of the prompt into G samples, decode, sampling) on a model
// in device memory against the same on the CPU, both without the batch-invariant wrapper (the
// device leaves it out): the same sampled ids, and log-probabilities within TOL_MODEL.
static void test_rollout(void **state) {
    (void)state;
    struct err e = {0};
    struct backend *cpu;
    struct model *c = cpu_model(&cpu, 13), *d;
    assert_int_equal(model_create(&shape, gpu_be, NULL, &d, &e), 0);
    params_up(d, c->params);
    struct rollout_cfg rc;
    rollout_cfg_defaults(&rc);
    rc.max_new_tokens = 12;
    rc.kv_cache_mb = 4;
    rc.max_batch_seqs = 16;
    rc.is_batch_invariant = false;
    enum { NQ = 3, G = 4 };
    int32_t ids[NQ][9];
    struct rollout_query qs[NQ];
    for (int q = 0; q < NQ; q++) {
        for (int t = 0; t < 9; t++) ids[q][t] = (int32_t)((q * 31 + t * 7 + 3) % shape.V);
        qs[q] = (struct rollout_query){.id = 40 + q, .ids = ids[q], .n_ids = 5 + 2 * q};
    }
    struct rollout_result r[2] = {{0}};
    struct model *ms[2] = {c, d};
    for (int k = 0; k < 2; k++) {
        struct rollout_engine *g = NULL;
        assert_int_equal(rollout_engine_create(ms[k], NULL, NULL, &rc, NULL, &g, &e), 0);
        assert_int_equal(rollout_generate(g, qs, NQ, G, 3, 77, &r[k], &e), 0);
        rollout_engine_destroy(&g);
    }
    assert_int_equal(r[0].n_samples, NQ * G);
    assert_int_equal(r[1].n_samples, NQ * G);
    int64_t n = r[0].resp_off[r[0].n_samples];
    assert_int_equal(r[1].resp_off[r[1].n_samples], n);
    assert_memory_equal(r[1].resp_off, r[0].resp_off, sizeof(int64_t) * (NQ * G + 1));
    assert_memory_equal(r[1].resp_ids, r[0].resp_ids, sizeof(int32_t) * (size_t)n);
    expect("rollout logprob (sampled)", r[1].logprob, r[0].logprob, (size_t)n, TOL_MODEL);
    expect("rollout logprob (model)", r[1].logprob_model, r[0].logprob_model, (size_t)n, TOL_MODEL);
    for (int k = 0; k < 2; k++) rollout_result_free(&r[k]);
    model_destroy(&d);
    model_destroy(&c);
    backend_cpu_destroy(&cpu);
}
#endif

int main(void) {
    if (cuda_device_count() == 0) {
        printf("no CUDA device: skipping the CUDA model test\n");
        return 77;
    }
    struct err e = {0};
    struct backend *cuda;
    if (backend_cuda_create(0, &cuda, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    gpu_be = cuda;
#ifdef GRPO_CUDA_EMU
    device_guard_create(cuda, &gpu_be);
    emu_device_guard(true);
#endif
    // The checkpoint and rollout cases run on the emulation only: on a device they would pull
    // HDF5 and PCRE2 (and their ~60 MiB of libraries) into the bundle for the device machine
    // (tests/cuda/bundle.sh), which has neither; they exercise host code around the same hooks.
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_backward),
        cmocka_unit_test(test_prefill_decode),
#ifdef GRPO_CUDA_EMU
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_rollout),
#endif
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
#ifdef GRPO_CUDA_EMU
    emu_device_guard(false);
    device_guard_destroy(&gpu_be);
#endif
    backend_cuda_destroy(&cuda);
    return rc;
}
