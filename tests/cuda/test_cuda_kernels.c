// Every kernel of the CUDA backend against the CPU backend (the reference) on random inputs:
// the same op through both tables, outputs compared by ||cuda - cpu|| / ||cpu|| (the device
// METHOD.md's measure). Device outputs are poisoned with NaN first, so an element a kernel
// fails to write fails the test. Without a CUDA device the program prints why and exits 77,
// which meson reports as a skip.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/cpu/cpu.h"
#include "model/cuda/cuda.h"

// Element-wise kernels differ only by the libm ulp of expf/sinf/cosf on each side.
#define TOL_ELEMWISE 1e-6
// Sums in another order (cuBLAS tiles, tree reductions, online softmax over other tiles):
// fp32 rounding grows ~1e-7 sqrt(terms); the METHOD.md's fp32 band is 1e-5 .. 1e-4.
#define TOL_REDUCE    1e-5
#define TOL_ATTENTION 1e-4
// Both sides accumulate exact fp32 squares in double; only the order differs.
#define TOL_SUMSQ 1e-12
// bf16 operands (8 significant bits) against fp32 ones: the bf16 band.
#define TOL_BF16 1e-2

struct fixture {
    struct backend *cpu, *gpu;
};
static struct fixture fx;

static void fill(float *x, size_t n, uint64_t seed, float scale) {
    struct rng_seq s;
    rng_seq_init(&s, seed, rng_stream_id(RNG_TEST, 9, 0, 0), 0);
    for (size_t i = 0; i < n; i++) x[i] = scale * (float)rng_seq_normal(&s);
}

static float *host_rand(size_t n, uint64_t seed, float scale) {
    float *x = malloc(n * sizeof *x + 1);
    fill(x, n, seed, scale);
    return x;
}

static void *dev_alloc(size_t n_bytes) {
    void *p = NULL;
    struct err e = {0};
    if (cuda_malloc(&p, n_bytes, &e) != 0) fail_msg("%s", e.msg);
    return p;
}

static void *dev_copy(const void *h, size_t n_bytes) {
    void *d = dev_alloc(n_bytes);
    cuda_copy_to_device(fx.gpu, d, h, n_bytes);
    return d;
}

// A device buffer of n floats, all NaN.
static float *dev_poison(size_t n) {
    float *d = dev_alloc(n * sizeof(float));
    cuda_fill_bytes(fx.gpu, d, 0xff, n * sizeof(float));
    return d;
}

// ||got - ref|| / ||ref|| with got on the device; fails on a NaN or beyond tol.
static void expect_close(const char *name, const float *d_got, const float *ref, size_t n,
                         double tol) {
    float *got = malloc(n * sizeof *got + 1);
    cuda_copy_to_host(fx.gpu, got, d_got, n * sizeof *got);
    double num = 0, den = 0;
    size_t bad = n;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]) && isfinite(ref[i]) && bad == n) bad = i;
        double d = (double)got[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    double rel = den > 0 ? sqrt(num / den) : sqrt(num);
    printf("%-28s n=%-9zu rel err %.2e (tol %.0e)\n", name, n, rel, tol);
    free(got);
    if (bad < n) fail_msg("%s: element %zu not finite (unwritten?)", name, bad);
    if (!(rel <= tol)) fail_msg("%s: relative error %.3e over %.0e", name, rel, tol);
}

static const struct backend_ops *C(void) {
    return fx.cpu->ops;
}
static const struct backend_ops *G(void) {
    return fx.gpu->ops;
}
static void *GC(void) {
    return fx.gpu->ctx;
}

static void test_gemm(void **state) {
    (void)state;
    int M = 37, N = 53, K = 29;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
            int lda = ac + 3, ldb = bc + 5, ldc = N + 2;
            float *A = host_rand((size_t)ar * lda, 1 + ta, 1),
                  *B = host_rand((size_t)br * ldb, 3 + tb, 1);
            float *Cm = host_rand((size_t)M * ldc, 5, 1);
            float *dA = dev_copy(A, (size_t)ar * lda * 4), *dB = dev_copy(B, (size_t)br * ldb * 4);
            float *dC = dev_copy(Cm, (size_t)M * ldc * 4);
            C()->gemm(NULL, ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, Cm, ldc);
            G()->gemm(GC(), ta, tb, M, N, K, 0.7f, dA, lda, dB, ldb, 0.3f, dC, ldc);
            char name[32];
            snprintf(name, sizeof name, "gemm ta=%d tb=%d", ta, tb);
            expect_close(name, dC, Cm, (size_t)M * ldc, TOL_REDUCE);
            free(A), free(B), free(Cm), cuda_free(dA), cuda_free(dB), cuda_free(dC);
        }
}

static void test_embedding(void **state) {
    (void)state;
    int N = 50, C_ = 40, V = 17;
    int32_t tok[50];
    struct rng_seq s;
    rng_seq_init(&s, 11, rng_stream_id(RNG_TEST, 9, 1, 0), 0);
    for (int t = 0; t < N; t++) tok[t] = (int32_t)(rng_seq_u32(&s) % V); // repeats on purpose
    float *table = host_rand((size_t)V * C_, 12, 1), *dout = host_rand((size_t)N * C_, 13, 1);
    float *out = malloc((size_t)N * C_ * 4), *dtab = host_rand((size_t)V * C_, 14, 1);
    int32_t *dtok = dev_copy(tok, sizeof tok);
    float *dtable = dev_copy(table, (size_t)V * C_ * 4),
          *ddout = dev_copy(dout, (size_t)N * C_ * 4);
    float *dtab_d = dev_copy(dtab, (size_t)V * C_ * 4), *dout_d = dev_poison((size_t)N * C_);
    C()->embedding_forward(NULL, out, table, tok, N, C_);
    G()->embedding_forward(GC(), dout_d, dtable, dtok, N, C_);
    expect_close("embedding_forward", dout_d, out, (size_t)N * C_, 0);
    C()->embedding_backward(NULL, dtab, dout, tok, N, C_);
    G()->embedding_backward(GC(), dtab_d, ddout, dtok, N, C_);
    expect_close("embedding_backward", dtab_d, dtab, (size_t)V * C_, 0); // same order: bitwise
    free(table), free(dout), free(out), free(dtab);
    cuda_free(dtok), cuda_free(dtable), cuda_free(ddout), cuda_free(dtab_d), cuda_free(dout_d);
}

static void test_rmsnorm(void **state) {
    (void)state;
    int N = 33, C_ = 300;
    size_t n = (size_t)N * C_;
    float *x = host_rand(n, 21, 1.5f), *w = host_rand(C_, 22, 1), *dout = host_rand(n, 23, 1);
    float *out = malloc(n * 4), *rstd = malloc(N * 4), *dx = malloc(n * 4);
    float *dw = host_rand(C_, 24, 1);
    float *d_x = dev_copy(x, n * 4), *d_w = dev_copy(w, C_ * 4), *d_dout = dev_copy(dout, n * 4);
    float *d_out = dev_poison(n), *d_rstd = dev_poison(N), *d_dx = dev_poison(n);
    float *d_dw = dev_copy(dw, C_ * 4);
    C()->rmsnorm_forward(NULL, out, rstd, x, w, N, C_, 1e-6f);
    G()->rmsnorm_forward(GC(), d_out, d_rstd, d_x, d_w, N, C_, 1e-6f);
    expect_close("rmsnorm_forward out", d_out, out, n, TOL_REDUCE);
    expect_close("rmsnorm_forward rstd", d_rstd, rstd, N, TOL_REDUCE);
    // backward from the CPU's rstd on both sides, so only the backward is compared
    cuda_copy_to_device(fx.gpu, d_rstd, rstd, N * 4);
    C()->rmsnorm_backward(NULL, dx, dw, dout, x, w, rstd, N, C_);
    G()->rmsnorm_backward(GC(), d_dx, d_dw, d_dout, d_x, d_w, d_rstd, N, C_);
    expect_close("rmsnorm_backward dx", d_dx, dx, n, TOL_REDUCE);
    expect_close("rmsnorm_backward dw", d_dw, dw, C_, TOL_REDUCE);
    free(x), free(w), free(dout), free(out), free(rstd), free(dx), free(dw);
    cuda_free(d_x), cuda_free(d_w), cuda_free(d_dout), cuda_free(d_out), cuda_free(d_rstd);
    cuda_free(d_dx), cuda_free(d_dw);
}

static void test_bias(void **state) {
    (void)state;
    int N = 145, M = 70, ld = 90; // N > 64: several row chunks in the column sums
    size_t n = (size_t)N * ld;
    float *out = host_rand(n, 31, 1), *bias = host_rand(M, 32, 1), *db = host_rand(M, 33, 1);
    float *d_out = dev_copy(out, n * 4), *d_bias = dev_copy(bias, M * 4),
          *d_db = dev_copy(db, M * 4);
    C()->bias_forward(NULL, out, bias, N, M, ld);
    G()->bias_forward(GC(), d_out, d_bias, N, M, ld);
    expect_close("bias_forward", d_out, out, n, TOL_ELEMWISE);
    C()->bias_backward(NULL, db, out, N, M, ld);
    G()->bias_backward(GC(), d_db, d_out, N, M, ld);
    expect_close("bias_backward", d_db, db, M, TOL_REDUCE);
    free(out), free(bias), free(db), cuda_free(d_out), cuda_free(d_bias), cuda_free(d_db);
}

static void test_rope(void **state) {
    (void)state;
    int N = 20, Hn = 3, D = 16, ld = Hn * D + 8;
    size_t n = (size_t)N * ld;
    int32_t pos[20];
    for (int t = 0; t < N; t++) pos[t] = (t * 977) % 4096;
    float *x = host_rand(n, 41, 1);
    float *d_x = dev_copy(x, n * 4);
    int32_t *d_pos = dev_copy(pos, sizeof pos);
    C()->rope_forward(NULL, x, pos, N, Hn, D, ld, 1e6f);
    G()->rope_forward(GC(), d_x, d_pos, N, Hn, D, ld, 1e6f);
    expect_close("rope_forward", d_x, x, n, TOL_ELEMWISE);
    C()->rope_backward(NULL, x, pos, N, Hn, D, ld, 1e6f);
    G()->rope_backward(GC(), d_x, d_pos, N, Hn, D, ld, 1e6f);
    expect_close("rope_backward", d_x, x, n, TOL_ELEMWISE);
    free(x), cuda_free(d_x), cuda_free(d_pos);
}

static void test_swiglu_add(void **state) {
    (void)state;
    int N = 31, F = 77;
    size_t n = (size_t)N * F;
    float *gu = host_rand(2 * n, 51, 2), *dout = host_rand(n, 52, 1);
    float *out = malloc(n * 4), *dgu = malloc(2 * n * 4);
    float *d_gu = dev_copy(gu, 2 * n * 4), *d_dout = dev_copy(dout, n * 4);
    float *d_out = dev_poison(n), *d_dgu = dev_poison(2 * n);
    C()->swiglu_forward(NULL, out, gu, N, F);
    G()->swiglu_forward(GC(), d_out, d_gu, N, F);
    expect_close("swiglu_forward", d_out, out, n, TOL_ELEMWISE);
    C()->swiglu_backward(NULL, dgu, dout, gu, N, F);
    G()->swiglu_backward(GC(), d_dgu, d_dout, d_gu, N, F);
    expect_close("swiglu_backward", d_dgu, dgu, 2 * n, TOL_ELEMWISE);
    // add on identical inputs (the CPU's dgu on both sides): exact.
    float *d_x = dev_copy(dgu, 2 * n * 4);
    C()->add(NULL, gu, dgu, 2 * n);
    G()->add(GC(), d_gu, d_x, 2 * n);
    expect_close("add", d_gu, gu, 2 * n, 0);
    free(gu), free(dout), free(out), free(dgu);
    cuda_free(d_gu), cuda_free(d_dout), cuda_free(d_out), cuda_free(d_dgu), cuda_free(d_x);
}

// One attention shape: packed sequences of the given lengths.
static void check_attention(const int *lens, int B, int H, int Hkv, int D, uint64_t seed) {
    int32_t cu[16] = {0};
    for (int b = 0; b < B; b++) cu[b + 1] = cu[b] + lens[b];
    int N = cu[B], Q = (H + 2 * Hkv) * D;
    size_t nq = (size_t)N * Q, no = (size_t)N * H * D, nl = (size_t)N * H;
    float *qkv = host_rand(nq, seed, 1), *dout = host_rand(no, seed + 1, 1);
    float *out = malloc(no * 4), *lse = malloc(nl * 4), *dqkv = malloc(nq * 4);
    int32_t *d_cu = dev_copy(cu, sizeof(int32_t) * (B + 1));
    float *d_qkv = dev_copy(qkv, nq * 4), *d_dout = dev_copy(dout, no * 4);
    float *d_out = dev_poison(no), *d_lse = dev_poison(nl), *d_dqkv = dev_poison(nq);
    C()->attention_forward(NULL, out, lse, qkv, cu, B, H, Hkv, D);
    G()->attention_forward(GC(), d_out, d_lse, d_qkv, d_cu, B, H, Hkv, D);
    char name[64];
    snprintf(name, sizeof name, "attention_fwd out D=%d H=%d/%d", D, H, Hkv);
    expect_close(name, d_out, out, no, TOL_ATTENTION);
    snprintf(name, sizeof name, "attention_fwd lse D=%d H=%d/%d", D, H, Hkv);
    expect_close(name, d_lse, lse, nl, TOL_ATTENTION);
    // backward from the CPU's out and lse on both sides
    cuda_copy_to_device(fx.gpu, d_out, out, no * 4);
    cuda_copy_to_device(fx.gpu, d_lse, lse, nl * 4);
    C()->attention_backward(NULL, dqkv, dout, out, qkv, lse, cu, B, H, Hkv, D);
    G()->attention_backward(GC(), d_dqkv, d_dout, d_out, d_qkv, d_lse, d_cu, B, H, Hkv, D);
    snprintf(name, sizeof name, "attention_bwd dqkv D=%d H=%d/%d", D, H, Hkv);
    expect_close(name, d_dqkv, dqkv, nq, TOL_ATTENTION);
    free(qkv), free(dout), free(out), free(lse), free(dqkv);
    cuda_free(d_cu), cuda_free(d_qkv), cuda_free(d_dout), cuda_free(d_out), cuda_free(d_lse);
    cuda_free(d_dqkv);
}

static void test_attention(void **state) {
    (void)state;
    // lengths straddle the 8-row blocks and 32-row tiles; one sequence of a single token
    int lens1[] = {1, 45, 70};
    check_attention(lens1, 3, 4, 2, 40, 61);
    int lens2[] = {100, 7};
    check_attention(lens2, 2, 4, 4, 128, 62);
    int lens3[] = {33};
    check_attention(lens3, 1, 6, 1, 256, 63);
    // longer than the 32 blocks of 8 rows per (head, sequence) of the grid: blocks loop
    int lens4[] = {264};
    check_attention(lens4, 1, 1, 1, 32, 64);
}

static void test_attention_cache(void **state) {
    (void)state;
    enum { B = 2, H = 4, HKV = 2, D = 64, L = 2, BS = 16, MAXB = 4, N_BLOCKS = 9 };
    int layer = 1, N = 4, Q = (H + 2 * HKV) * D;
    // sequence 1 appends positions 30..32, across the boundary of its blocks 1 and 2
    int32_t cu_new[B + 1] = {0, 1, 4}, start[B] = {5, 30};
    // sequences own scattered blocks
    int32_t table[B * MAXB] = {3, 0, 7, 1, 8, 2, 5, 6};
    struct kv_view kv = {.L = L, .Hkv = HKV, .D = D, .block_size = BS, .max_blocks_per_seq = MAXB};
    size_t npool = (size_t)N_BLOCKS * L * 2 * HKV * BS * D, nq = (size_t)N * Q,
           no = (size_t)N * H * D;
    float *pool = host_rand(npool, 71, 1), *qkv = host_rand(nq, 72, 1), *out = malloc(no * 4);
    float *d_pool = dev_copy(pool, npool * 4), *d_qkv = dev_copy(qkv, nq * 4);
    float *d_out = dev_poison(no);
    int32_t *d_cu = dev_copy(cu_new, sizeof cu_new), *d_start = dev_copy(start, sizeof start);
    int32_t *d_table = dev_copy(table, sizeof table);
    kv.pool = pool;
    kv.block_table = table;
    C()->attention_cache(NULL, out, qkv, &kv, layer, cu_new, start, B, H);
    kv.pool = d_pool;
    kv.block_table = d_table;
    G()->attention_cache(GC(), d_out, d_qkv, &kv, layer, d_cu, d_start, B, H);
    expect_close("attention_cache out", d_out, out, no, TOL_ATTENTION);
    expect_close("attention_cache pool", d_pool, pool, npool, 0);
    free(pool), free(qkv), free(out);
    cuda_free(d_pool), cuda_free(d_qkv), cuda_free(d_out), cuda_free(d_cu), cuda_free(d_start);
    cuda_free(d_table);
}

static void test_logsoftmax(void **state) {
    (void)state;
    int n = 5, V = 152064; // Qwen2's vocabulary
    size_t nz = (size_t)n * V;
    int32_t tgt[5] = {0, 151999, -1, 77, V - 1};
    float *z = host_rand(nz, 81, 3), *glp = host_rand(n, 82, 1), *gh = host_rand(n, 83, 1);
    float lp[5], ent[5], lse[5];
    float *d_z = dev_copy(z, nz * 4), *d_glp = dev_copy(glp, n * 4), *d_gh = dev_copy(gh, n * 4);
    int32_t *d_tgt = dev_copy(tgt, sizeof tgt);
    float *d_lp = dev_poison(n), *d_ent = dev_poison(n), *d_lse = dev_poison(n);
    C()->logsoftmax_stats(NULL, lp, ent, lse, z, tgt, n, V);
    G()->logsoftmax_stats(GC(), d_lp, d_ent, d_lse, d_z, d_tgt, n, V);
    expect_close("logsoftmax_stats logprob", d_lp, lp, n, TOL_REDUCE);
    expect_close("logsoftmax_stats entropy", d_ent, ent, n, TOL_REDUCE);
    expect_close("logsoftmax_stats lse", d_lse, lse, n, TOL_REDUCE);
    C()->logsoftmax_backward(NULL, z, tgt, glp, gh, lse, ent, n, V);
    G()->logsoftmax_backward(GC(), d_z, d_tgt, d_glp, d_gh, d_lse, d_ent, n, V);
    expect_close("logsoftmax_backward", d_z, z, nz, TOL_REDUCE);
    // without targets and without an entropy gradient (NULL pointers on both sides)
    fill(z, nz, 84, 3);
    cuda_copy_to_device(fx.gpu, d_z, z, nz * 4);
    C()->logsoftmax_stats(NULL, lp, ent, lse, z, NULL, n, V);
    G()->logsoftmax_stats(GC(), d_lp, d_ent, d_lse, d_z, NULL, n, V);
    expect_close("logsoftmax_stats, no targets", d_ent, ent, n, TOL_REDUCE);
    expect_close("logsoftmax_stats, no targets lp", d_lp, lp, n, 0); // all 0
    C()->logsoftmax_backward(NULL, z, tgt, glp, NULL, lse, ent, n, V);
    G()->logsoftmax_backward(GC(), d_z, d_tgt, d_glp, NULL, d_lse, d_ent, n, V);
    expect_close("logsoftmax_backward, no g_ent", d_z, z, nz, TOL_REDUCE);
    free(z), free(glp), free(gh);
    cuda_free(d_z), cuda_free(d_glp), cuda_free(d_gh), cuda_free(d_tgt), cuda_free(d_lp);
    cuda_free(d_ent), cuda_free(d_lse);
}

static void test_sumsq_adamw(void **state) {
    (void)state;
    size_t n = 1000003;
    float *x = host_rand(n, 91, 1);
    float *d_x = dev_copy(x, n * 4);
    double ref = C()->sumsq(NULL, x, n), got = G()->sumsq(GC(), d_x, n);
    double rel = fabs(got - ref) / ref;
    printf("%-28s n=%-9zu rel err %.2e (tol %.0e)\n", "sumsq", n, rel, TOL_SUMSQ);
    if (!(rel <= TOL_SUMSQ)) fail_msg("sumsq: %.17g vs %.17g", got, ref);
    size_t m = 4099;
    float *p = host_rand(m, 92, 1), *mo = host_rand(m, 93, 0.1f), *v = host_rand(m, 94, 0.1f);
    for (size_t i = 0; i < m; i++) v[i] = v[i] * v[i];
    float *d_p = dev_copy(p, m * 4), *d_m = dev_copy(mo, m * 4), *d_v = dev_copy(v, m * 4);
    C()->adamw(NULL, p, mo, v, x, m, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.271f, 0.0975f, 0.5f);
    G()->adamw(GC(), d_p, d_m, d_v, d_x, m, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.271f, 0.0975f, 0.5f);
    expect_close("adamw p", d_p, p, m, TOL_ELEMWISE);
    expect_close("adamw m", d_m, mo, m, TOL_ELEMWISE);
    expect_close("adamw v", d_v, v, m, TOL_ELEMWISE);
    free(x), free(p), free(mo), free(v);
    cuda_free(d_x), cuda_free(d_p), cuda_free(d_m), cuda_free(d_v);
}

// The bf16 nearest to x (ties to even), chosen by distance in double: independent of the bit
// trick the kernel uses. NaN maps to a NaN.
static uint16_t bf16_ref(float x) {
    if (isnan(x)) return 0x7fc0;
    uint32_t u;
    memcpy(&u, &x, 4);
    uint32_t lo_bits = u & 0xffff0000u, hi_bits = lo_bits + 0x10000u;
    if ((u & 0xffffu) == 0) return (uint16_t)(u >> 16);
    float lo, hi;
    memcpy(&lo, &lo_bits, 4);
    memcpy(&hi, &hi_bits, 4);
    // one step past the largest finite magnitude is 2^128 (the rounding boundary to infinity)
    double dhi = isinf(hi) ? copysign(ldexp(1.0, 128), x) : hi;
    double dlo = fabs((double)x - lo), dup = fabs(dhi - x);
    if (dlo < dup || (dlo == dup && !(lo_bits & 0x10000u))) return (uint16_t)(lo_bits >> 16);
    return (uint16_t)(hi_bits >> 16);
}

static float bf16_value(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

static void test_bf16(void **state) {
    (void)state;
    enum { NX = 4096 + 8 };
    float x[NX];
    fill(x, 4096, 101, 3);
    uint32_t special[8] = {0x3f808000u, 0x3f818000u, 0x7f7fffffu, 0xff7fffffu,
                           0x7f800000u, 0x80000000u, 0x00000001u, 0x7fc00001u};
    memcpy(x + 4096, special, sizeof special); // ties both ways, overflow, inf, -0, denormal, NaN
    float *d_x = dev_copy(x, sizeof x);
    uint16_t *d_h = dev_alloc(sizeof(uint16_t) * NX), h[NX];
    cuda_f32_to_bf16(fx.gpu, d_h, d_x, NX);
    cuda_copy_to_host(fx.gpu, h, d_h, sizeof h);
    size_t n_bad = 0;
    for (int i = 0; i < NX; i++) {
        uint16_t r = bf16_ref(x[i]);
        bool ok = isnan(x[i]) ? (h[i] & 0x7f80) == 0x7f80 && (h[i] & 0x7f) : h[i] == r;
        if (!ok && n_bad++ < 5)
            printf("bf16(%a) = 0x%04x, expected 0x%04x\n", (double)x[i], h[i], r);
    }
    printf("%-28s n=%-9d %zu wrong\n", "f32_to_bf16", NX, n_bad);
    if (n_bad) fail_msg("f32_to_bf16: %zu values rounded wrongly", n_bad);
    float *d_back = dev_poison(NX), back[NX];
    cuda_bf16_to_f32(fx.gpu, d_back, d_h, NX);
    cuda_copy_to_host(fx.gpu, back, d_back, sizeof back);
    for (int i = 0; i < NX; i++)
        if (!isnan(x[i]) && memcmp(&back[i], &(float){bf16_value(h[i])}, 4))
            fail_msg("bf16_to_f32: element %d", i);
    // gemm: against the CPU on the same bf16-rounded operands (fp32 accumulation order only),
    // and against the unrounded fp32 product (the bf16 band)
    int M = 33, N = 47, K = 64;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
            size_t na = (size_t)ar * ac, nb = (size_t)br * bc, nc = (size_t)M * N;
            float *A = host_rand(na, 102 + ta, 1), *Bm = host_rand(nb, 104 + tb, 1);
            float *Ar = malloc(na * 4), *Br = malloc(nb * 4), *Cr = malloc(nc * 4),
                  *Cf = malloc(nc * 4);
            for (size_t i = 0; i < na; i++) Ar[i] = bf16_value(bf16_ref(A[i]));
            for (size_t i = 0; i < nb; i++) Br[i] = bf16_value(bf16_ref(Bm[i]));
            C()->gemm(NULL, ta, tb, M, N, K, 1, Ar, ac, Br, bc, 0, Cr, N);
            C()->gemm(NULL, ta, tb, M, N, K, 1, A, ac, Bm, bc, 0, Cf, N);
            float *dA = dev_copy(A, na * 4), *dB = dev_copy(Bm, nb * 4), *dC = dev_poison(nc);
            uint16_t *hA = dev_alloc(na * 2), *hB = dev_alloc(nb * 2);
            cuda_f32_to_bf16(fx.gpu, hA, dA, na);
            cuda_f32_to_bf16(fx.gpu, hB, dB, nb);
            cuda_gemm_bf16(fx.gpu, ta, tb, M, N, K, 1, hA, ac, hB, bc, 0, dC, N);
            char name[40];
            snprintf(name, sizeof name, "gemm_bf16 ta=%d tb=%d", ta, tb);
            expect_close(name, dC, Cr, nc, TOL_REDUCE);
            snprintf(name, sizeof name, "gemm_bf16 vs fp32 ta=%d tb=%d", ta, tb);
            expect_close(name, dC, Cf, nc, TOL_BF16);
            free(A), free(Bm), free(Ar), free(Br), free(Cr), free(Cf);
            cuda_free(dA), cuda_free(dB), cuda_free(dC), cuda_free(hA), cuda_free(hB);
        }
    cuda_free(d_x), cuda_free(d_h), cuda_free(d_back);
}

int main(void) {
    int n_dev = cuda_device_count();
    if (n_dev == 0) {
        printf("no CUDA device: skipping the CUDA kernel tests\n");
        return 77;
    }
    struct err e = {0};
    if (backend_cpu_create(0, &fx.cpu, &e) != 0 || backend_cuda_create(0, &fx.gpu, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm),       cmocka_unit_test(test_embedding),
        cmocka_unit_test(test_rmsnorm),    cmocka_unit_test(test_bias),
        cmocka_unit_test(test_rope),       cmocka_unit_test(test_swiglu_add),
        cmocka_unit_test(test_attention),  cmocka_unit_test(test_attention_cache),
        cmocka_unit_test(test_logsoftmax), cmocka_unit_test(test_sumsq_adamw),
        cmocka_unit_test(test_bf16),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    backend_cuda_destroy(&fx.gpu);
    backend_cpu_destroy(&fx.cpu);
    return rc;
}
