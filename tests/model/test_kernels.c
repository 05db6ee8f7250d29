// Finite-difference gradient checks of every CPU kernel with a backward, through the backend
// table (so a future backend runs the same cases): for L = sum_i r_i y_i(x) with fixed random
// r, the kernel's backward must match central differences (L(x + eps) - L(x - eps)) / 2 eps.
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

// eps = 1e-3 on O(1) inputs: truncation ~eps^2 |y'''| ~ 1e-6; fp32 rounding of L (~1e-7 |L|,
// L summed in double from fp32 outputs) divided by 2 eps gives ~1e-4 of the gradient scale.
#define FD_EPS 1e-3f
#define TOL_FD 3e-3

struct op_case {
    const struct backend *be;
    int n_in;  // inputs perturbed
    float *in; // (n_in)
    int n_out;
    float *out, *r;                              // outputs and their fixed weights
    double (*loss)(struct op_case *c);           // forward + sum r y (in double)
    void (*grad)(struct op_case *c, float *din); // backward of that loss
    void *p;                                     // case-specific
};

static void fill(float *x, size_t n, uint64_t seed, float scale, float offset) {
    struct rng_seq s;
    rng_seq_init(&s, seed, rng_stream_id(RNG_TEST, 7, 0, 0), 0);
    for (size_t i = 0; i < n; i++) x[i] = offset + scale * (float)rng_seq_normal(&s);
}

static double dot_r(const struct op_case *c) {
    double s = 0;
    for (int i = 0; i < c->n_out; i++) s += (double)c->r[i] * c->out[i];
    return s;
}

static void check_fd(struct op_case *c, const char *name) {
    float *an = calloc((size_t)c->n_in, 4);
    c->loss(c);
    c->grad(c, an);
    double worst = 0, scale = 1e-3;
    for (int i = 0; i < c->n_in; i++) scale = fmax(scale, fabs(an[i]));
    for (int i = 0; i < c->n_in; i++) {
        float x0 = c->in[i];
        c->in[i] = x0 + FD_EPS;
        double lp = c->loss(c);
        c->in[i] = x0 - FD_EPS;
        double lm = c->loss(c);
        c->in[i] = x0;
        // divide by the step actually taken in fp32
        double fd = (lp - lm) / ((double)(x0 + FD_EPS) - (double)(x0 - FD_EPS));
        worst = fmax(worst, fabs(fd - an[i]) / scale);
    }
    printf("%-22s max |fd - backward| / max|grad| = %.2e\n", name, worst);
    if (!(worst < TOL_FD)) fail_msg("%s: finite differences disagree (%.3e)", name, worst);
    free(an);
}

// ---- rmsnorm: inputs x (N,C) then w (C) ----
enum { RN_N = 3, RN_C = 8 };
static double rms_loss(struct op_case *c) {
    float rstd[RN_N];
    c->be->ops->rmsnorm_forward(NULL, c->out, rstd, c->in, c->in + RN_N * RN_C, RN_N, RN_C, 1e-6f);
    return dot_r(c);
}
static void rms_grad(struct op_case *c, float *din) {
    float rstd[RN_N];
    c->be->ops->rmsnorm_forward(NULL, c->out, rstd, c->in, c->in + RN_N * RN_C, RN_N, RN_C, 1e-6f);
    c->be->ops->rmsnorm_backward(NULL, din, din + RN_N * RN_C, c->r, c->in, c->in + RN_N * RN_C,
                                 rstd, RN_N, RN_C);
}

// ---- rope: x (N, ld) with 3 heads of D=8 rotated in a row of ld = 32 (the rest untouched) ----
enum { RP_N = 4, RP_D = 8, RP_HEADS = 3, RP_LD = 32 };
static const int32_t rp_pos[RP_N] = {0, 1, 5, 17};
static double rope_loss(struct op_case *c) {
    memcpy(c->out, c->in, sizeof(float) * RP_N * RP_LD);
    c->be->ops->rope_forward(NULL, c->out, rp_pos, RP_N, RP_HEADS, RP_D, RP_LD, 10000.0f);
    return dot_r(c);
}
static void rope_grad(struct op_case *c, float *din) {
    memcpy(din, c->r, sizeof(float) * RP_N * RP_LD);
    c->be->ops->rope_backward(NULL, din, rp_pos, RP_N, RP_HEADS, RP_D, RP_LD, 10000.0f);
}

// ---- attention: qkv (N,Q) of two packed sequences, H=4, Hkv=2, D=4 ----
enum { AT_H = 4, AT_HKV = 2, AT_D = 4, AT_N = 7, AT_Q = (AT_H + 2 * AT_HKV) * AT_D };
static const int32_t at_cu[3] = {0, 4, 7};
static double att_loss(struct op_case *c) {
    c->be->ops->attention_forward(NULL, c->out, c->p, c->in, at_cu, 2, AT_H, AT_HKV, AT_D);
    return dot_r(c);
}
static void att_grad(struct op_case *c, float *din) {
    att_loss(c);
    c->be->ops->attention_backward(NULL, din, c->r, c->out, c->in, c->p, at_cu, 2, AT_H, AT_HKV,
                                   AT_D);
}

// ---- swiglu: gu (N, 2F) ----
enum { SW_N = 3, SW_F = 5 };
static double swiglu_loss(struct op_case *c) {
    c->be->ops->swiglu_forward(NULL, c->out, c->in, SW_N, SW_F);
    return dot_r(c);
}
static void swiglu_grad(struct op_case *c, float *din) {
    c->be->ops->swiglu_backward(NULL, din, c->r, c->in, SW_N, SW_F);
}

// ---- log-softmax stats: logits (n,V) -> logprob (n) | entropy (n); row 2 has no target ----
enum { LS_N = 3, LS_V = 11 };
static const int32_t ls_tgt[LS_N] = {3, 10, -1};
static double ls_loss(struct op_case *c) {
    float lse[LS_N];
    c->be->ops->logsoftmax_stats(NULL, c->out, c->out + LS_N, lse, c->in, ls_tgt, LS_N, LS_V);
    return dot_r(c);
}
static void ls_grad(struct op_case *c, float *din) {
    float lse[LS_N];
    c->be->ops->logsoftmax_stats(NULL, c->out, c->out + LS_N, lse, c->in, ls_tgt, LS_N, LS_V);
    memcpy(din, c->in, sizeof(float) * LS_N * LS_V);
    c->be->ops->logsoftmax_backward(NULL, din, ls_tgt, c->r, c->r + LS_N, lse, c->out + LS_N, LS_N,
                                    LS_V);
}

static void run_case(const struct backend *be, const char *name, int n_in, int n_out,
                     double (*loss)(struct op_case *), void (*grad)(struct op_case *, float *),
                     float in_scale, float in_offset) {
    float scratch[4096]; // per-case state kept between forward and backward (attention's lse)
    struct op_case c = {
        .be = be, .n_in = n_in, .n_out = n_out, .loss = loss, .grad = grad, .p = scratch};
    c.in = calloc((size_t)n_in, 4);
    c.out = calloc((size_t)n_out, 4);
    c.r = calloc((size_t)n_out, 4);
    fill(c.in, (size_t)n_in, 1, in_scale, in_offset);
    fill(c.r, (size_t)n_out, 2, 1.0f, 0.0f);
    check_fd(&c, name);
    free(c.in);
    free(c.out);
    free(c.r);
}

static void test_kernels_fd(void **state) {
    (void)state;
    struct backend *be = NULL;
    struct err e;
    assert_int_equal(backend_cpu_create(1, &be, &e), 0);
    run_case(be, "rmsnorm", RN_N * RN_C + RN_C, RN_N * RN_C, rms_loss, rms_grad, 1.0f, 0.0f);
    run_case(be, "rope", RP_N * RP_LD, RP_N * RP_LD, rope_loss, rope_grad, 1.0f, 0.0f);
    run_case(be, "attention", AT_N * AT_Q, AT_N * AT_H * AT_D, att_loss, att_grad, 1.0f, 0.0f);
    run_case(be, "swiglu", SW_N * 2 * SW_F, SW_N * SW_F, swiglu_loss, swiglu_grad, 1.5f, 0.0f);
    run_case(be, "logsoftmax", LS_N * LS_V, 2 * LS_N, ls_loss, ls_grad, 2.0f, 0.0f);
    backend_cpu_destroy(&be);
}

// rope with position 0 is the identity, and forward then backward gives back the input
// (a rotation's transpose is its inverse).
static void test_rope_inverse(void **state) {
    (void)state;
    float x[RP_N * RP_LD], y[RP_N * RP_LD];
    fill(x, RP_N * RP_LD, 3, 1.0f, 0.0f);
    memcpy(y, x, sizeof x);
    cpu_rope_forward(NULL, y, rp_pos, RP_N, RP_HEADS, RP_D, RP_LD, 10000.0f);
    for (int i = 0; i < RP_LD; i++) assert_true(y[i] == x[i]);
    cpu_rope_backward(NULL, y, rp_pos, RP_N, RP_HEADS, RP_D, RP_LD, 10000.0f);
    for (int i = 0; i < RP_N * RP_LD; i++) assert_true(fabsf(y[i] - x[i]) < 1e-5f);
}

// The tiled attention (table) against the plain reference, over sequences longer than a tile
// (off-diagonal and partial tiles), for head sizes that fill the AVX-512 tile kernel's
// vectors or not (16, 72 = 64 + 8) and need more than one block of 64 columns (136), with
// grouped and plain multi-head attention. Same math, other summation order: fp32 rounding.
#define TOL_TILED 1e-5
static void check_attention_tiled(int H, int HKV, int D) {
    int Q = (H + 2 * HKV) * D, N = 150 + 70 + 1;
    const int32_t cu[4] = {0, 150, 220, 221};
    float *qkv = calloc((size_t)N * Q, 4), *g = calloc((size_t)N * H * D, 4);
    float *o1 = calloc((size_t)N * H * D, 4), *o2 = calloc((size_t)N * H * D, 4);
    float *l1 = calloc((size_t)N * H, 4), *l2 = calloc((size_t)N * H, 4);
    float *d1 = calloc((size_t)N * Q, 4), *d2 = calloc((size_t)N * Q, 4);
    fill(qkv, (size_t)N * Q, 5, 1.0f, 0.0f);
    fill(g, (size_t)N * H * D, 6, 1.0f, 0.0f);
    cpu_attention_forward(NULL, o1, l1, qkv, cu, 3, H, HKV, D);
    cpu_attention_forward_tiled(NULL, o2, l2, qkv, cu, 3, H, HKV, D);
    cpu_attention_backward(NULL, d1, g, o1, qkv, l1, cu, 3, H, HKV, D);
    cpu_attention_backward_tiled(NULL, d2, g, o1, qkv, l1, cu, 3, H, HKV, D);
    double eo = 0, el = 0, ed = 0, so = 1, sd = 1;
    for (int i = 0; i < N * H * D; i++)
        eo = fmax(eo, fabs(o1[i] - o2[i])), so = fmax(so, fabs(o1[i]));
    for (int i = 0; i < N * H; i++) el = fmax(el, fabs(l1[i] - l2[i]) / (1 + fabs(l1[i])));
    for (int i = 0; i < N * Q; i++) ed = fmax(ed, fabs(d1[i] - d2[i])), sd = fmax(sd, fabs(d1[i]));
    printf("tiled attention H %d Hkv %d D %d: out %.1e, lse %.1e, dqkv %.1e\n", H, HKV, D, eo / so,
           el, ed / sd);
    assert_true(eo / so < TOL_TILED && el < TOL_TILED && ed / sd < TOL_TILED);
    free(qkv), free(g), free(o1), free(o2), free(l1), free(l2), free(d1), free(d2);
}

static void test_attention_tiled_vs_reference(void **state) {
    (void)state;
    check_attention_tiled(4, 2, 16);
    check_attention_tiled(3, 3, 72);
    check_attention_tiled(4, 1, 136);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kernels_fd),
                                       cmocka_unit_test(test_rope_inverse),
                                       cmocka_unit_test(test_attention_tiled_vs_reference)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
