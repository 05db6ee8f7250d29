// The whole model on the CUDA backend against the CPU backend: forward log-probabilities and
// entropies and the backward's parameter gradients of a tiny Qwen2 over packed sequences, and
// KV-cache inference (a packed prefill of two prompts, then decode steps), from the same
// parameters. model/forward.c runs unchanged: its host-allocated buffers (parameters,
// gradients, activations, the caller's arrays) are registered for the device and the backend
// runs synchronously (docs/cuda.md), until the model allocates on the device. Exits 77 (skip)
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

#include "core/rng.h"
#include "model/cpu/cpu.h"
#include "model/cuda/cuda.h"
#include "model/kv_cache.h"
#include "model/model_internal.h"

// Two fp32 implementations of the same network (other summation orders in every reduction,
// GEMM and softmax): ~1e-6 per op, compounded over 2 layers and the backward.
#define TOL_MODEL 1e-4
// A single small tensor (a bias, a norm weight) sums fewer terms with more cancellation.
#define TOL_TENSOR 1e-3

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

enum { B = 3, N = 5 + 17 + 41, N_HANDLES = 5 };
_Static_assert(N <= 512, "lp and ent share one page");

struct side {
    struct backend *be;
    struct model *m;
    struct model_acts *a;
    float *lp, *ent; // (N) each, on a page of their own (registered for the device)
};

static struct backend *gpu_be;

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

static void side_up(struct side *s, struct backend *be, const float *params, int lm_chunk) {
    struct err e = {0};
    memset(s, 0, sizeof *s);
    s->be = be;
    assert_int_equal(model_create(&shape, be, NULL, &s->m, &e), 0);
    memcpy(s->m->params, params, sizeof(float) * s->m->n_params);
    assert_int_equal(model_alloc_grads(s->m, &e), 0);
    struct model_acts_cfg cfg = {.n_tokens_max = N, .lm_chunk = lm_chunk};
    assert_int_equal(model_acts_create(s->m, &cfg, &s->a, &e), 0);
    s->lp = aligned_alloc(4096, 4096);
    s->ent = s->lp + 512;
}

static void side_down(struct side *s) {
    free(s->lp);
    model_acts_destroy(s->m, &s->a);
    model_destroy(&s->m);
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
    // gradients of sum(g_lp logprob + g_ent entropy) (their own pages: they are registered)
    float *g = aligned_alloc(4096, 4096 * 2);
    float *g_lp = g, *g_ent = g + 1024;
    for (int t = 0; t < N; t++)
        g_lp[t] = (float)rng_seq_normal(&r), g_ent[t] = 0.1f * (float)rng_seq_normal(&r);
    int lm_chunks[] = {0, 16}; // one LM-head chunk, then four
    for (int k = 0; k < 2; k++) {
        struct side c, d;
        side_up(&c, cpu, init->params, lm_chunks[k]);
        side_up(&d, gpu_be, init->params, lm_chunks[k]);
        void *h[N_HANDLES] = {0};
        assert_int_equal(cuda_host_register(d.m->params, sizeof(float) * d.m->n_params, &h[0], &e),
                         0);
        assert_int_equal(cuda_host_register(d.m->grads, sizeof(float) * d.m->n_params, &h[1], &e),
                         0);
        assert_int_equal(cuda_host_register(d.a->buf, d.a->n_bytes, &h[2], &e), 0);
        assert_int_equal(cuda_host_register(d.lp, 4096, &h[3], &e), 0); // lp, ent
        assert_int_equal(cuda_host_register(g, 4096 * 2, &h[4], &e), 0);
        assert_int_equal(model_forward(c.m, c.a, tokens, targets, cu, B, c.lp, c.ent, &e), 0);
        assert_int_equal(model_forward(d.m, d.a, tokens, targets, cu, B, d.lp, d.ent, &e), 0);
        char name[80];
        snprintf(name, sizeof name, "forward logprob (lm_chunk %d)", lm_chunks[k]);
        expect(name, d.lp, c.lp, N, TOL_MODEL);
        snprintf(name, sizeof name, "forward entropy (lm_chunk %d)", lm_chunks[k]);
        expect(name, d.ent, c.ent, N, TOL_MODEL);
        assert_int_equal(model_backward(c.m, c.a, g_lp, g_ent, &e), 0);
        assert_int_equal(model_backward(d.m, d.a, g_lp, g_ent, &e), 0);
        backend_cuda_sync(gpu_be);
        snprintf(name, sizeof name, "gradients, all (lm_chunk %d)", lm_chunks[k]);
        expect(name, d.m->grads, c.m->grads, c.m->n_params, TOL_MODEL);
        for (int i = 0; i < c.m->n_tensors; i++) {
            const struct model_tensor *t = &c.m->tensors[i];
            double re = rel_err(d.m->grads + t->offset, c.m->grads + t->offset, t->n);
            if (!(re <= TOL_TENSOR)) fail_msg("gradient of %s: relative error %.3e", t->name, re);
        }
        for (int i = 0; i < N_HANDLES; i++) cuda_host_unregister(h[i]);
        side_down(&c);
        side_down(&d);
    }
    free(g);
    model_destroy(&init);
    backend_cpu_destroy(&cpu);
}

// One inference setup: model, inference workspace, paged cache (blocks of 4 positions, so the
// sequences span several scattered blocks), logits (B, V) on a page-aligned buffer.
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
    memcpy(s->m->params, params, sizeof(float) * s->m->n_params);
    struct model_acts_cfg cfg = {.n_tokens_max = 32, .is_inference = true};
    assert_int_equal(model_acts_create(s->m, &cfg, &s->a, &e), 0);
    assert_int_equal(kv_cache_create(&shape, &kv_cfg, NULL, &s->c, &e), 0);
    for (int b = 0; b < 2; b++) assert_int_equal(kv_seq_create(s->c, &s->ids[b], &e), 0);
    s->logits = aligned_alloc(4096, (sizeof(float) * 2 * shape.V + 4095) / 4096 * 4096);
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
    void *h[5] = {0};
    size_t n_logits = (sizeof(float) * 2 * shape.V + 4095) / 4096 * 4096;
    assert_int_equal(cuda_host_register(d.m->params, sizeof(float) * d.m->n_params, &h[0], &e), 0);
    assert_int_equal(cuda_host_register(d.a->buf, d.a->n_bytes, &h[1], &e), 0);
    assert_int_equal(cuda_host_register(d.c->pool, kv_cache_bytes(&shape, &kv_cfg), &h[2], &e), 0);
    assert_int_equal(cuda_host_register(d.c->call_table,
                                        sizeof(int32_t) * 2 * d.c->max_blocks_per_seq, &h[3], &e),
                     0);
    assert_int_equal(cuda_host_register(d.logits, n_logits, &h[4], &e), 0);
    // prefill: prompts of 7 and 13 tokens in one packed call
    int32_t prompt[20], cu[3] = {0, 7, 20};
    for (int t = 0; t < 20; t++) prompt[t] = (int32_t)((t * 37 + 11) % shape.V);
    assert_int_equal(model_infer(c.m, c.a, c.c, c.ids, prompt, cu, 2, c.logits, &e), 0);
    assert_int_equal(model_infer(d.m, d.a, d.c, d.ids, prompt, cu, 2, d.logits, &e), 0);
    expect("prefill logits (7 + 13 tokens)", d.logits, c.logits, 2 * (size_t)shape.V, TOL_MODEL);
    // decode: one token per sequence per call, the argmax of the CPU's logits
    double worst = 0;
    for (int step = 0; step < 8; step++) {
        int32_t next[2], one[3] = {0, 1, 2};
        for (int b = 0; b < 2; b++) {
            const float *z = c.logits + (size_t)b * shape.V;
            int best = 0;
            for (int k = 1; k < shape.V; k++) best = z[k] > z[best] ? k : best;
            next[b] = best;
        }
        assert_int_equal(model_infer(c.m, c.a, c.c, c.ids, next, one, 2, c.logits, &e), 0);
        assert_int_equal(model_infer(d.m, d.a, d.c, d.ids, next, one, 2, d.logits, &e), 0);
        worst = fmax(worst, rel_err(d.logits, c.logits, 2 * (size_t)shape.V));
    }
    printf("%-40s rel err %.2e (tol %.0e)\n", "decode logits, worst of 8 steps", worst, TOL_MODEL);
    if (!(worst <= TOL_MODEL)) fail_msg("decode logits: relative error %.3e", worst);
    for (int i = 0; i < 5; i++) cuda_host_unregister(h[i]);
    infer_down(&c);
    infer_down(&d);
    model_destroy(&init);
    backend_cpu_destroy(&cpu);
}

int main(void) {
    if (cuda_device_count() == 0) {
        printf("no CUDA device: skipping the CUDA model test\n");
        return 77;
    }
    struct err e = {0};
    if (backend_cuda_create(0, &gpu_be, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    backend_cuda_set_sync(gpu_be, true); // model/forward.c touches its buffers between ops
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_forward_backward),
                                       cmocka_unit_test(test_prefill_decode)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    backend_cuda_destroy(&gpu_be);
    return rc;
}
