// Per-op times of the CUDA backend against the CPU backend in the same run, on the shapes of
// one Qwen2-0.5B layer (C 896, H 14, Hkv 2, D 64, F 4864, V 151936) over a packed batch, with
// the two ceilings measured in the same run: cuBLAS fp32 sgemm (8192^3) and a large y += x
// (12 bytes per element). Median of the repetitions; the GPU is synchronised before each clock
// read. Needs a GPU (exits 77 without one).
//
// usage: bench_cuda [--tokens N] [--seq T] [--reps R] [--no-cpu]
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "core/timer.h"
#include "model/cpu/cpu.h"
#include "model/cuda/cuda.h"

enum { C = 896, H = 14, HKV = 2, D = 64, F = 4864, V = 151936, LM_ROWS = 1024, KV_BS = 16 };
enum { Q = (H + 2 * HKV) * D, N_PARAMS = 1 << 24, DEC_B = 16 };

// One set of buffers, on the host (CPU backend) or the device (CUDA backend).
struct bufs {
    float *x, *w, *out, *rstd, *dx, *dw;
    float *qkv, *att, *lse, *dqkv, *datt;
    float *gu, *sw, *dgu, *wqkv, *wup;
    float *logits, *lp, *ent, *lsr, *glp;
    float *table, *p, *m, *v, *g, *pool;
    int32_t *tokens, *pos, *cu, *tgt, *dec_cu, *dec_start, *btab;
    struct kv_view kv;
};

struct shape {
    int N, T, B, ctx; // tokens, tokens per sequence, sequences, decode context
};

static size_t n_pool(const struct shape *s) {
    return (size_t)DEC_B * ((s->ctx + KV_BS) / KV_BS) * 1 * 2 * HKV * KV_BS * D;
}

enum { N_FIELDS = 27 };

// The float buffers of b and their lengths, in one table for allocation and copying.
static void float_fields(struct bufs *b, const struct shape *s, float **f[N_FIELDS],
                         size_t n[N_FIELDS]) {
    size_t N = (size_t)s->N;
    int k = 0;
#define FIELD(name, count) (f[k] = &b->name, n[k++] = (count))
    FIELD(x, N * C), FIELD(w, C), FIELD(out, N * C), FIELD(rstd, N), FIELD(dx, N * C);
    FIELD(dw, C), FIELD(qkv, N * Q), FIELD(att, N * H * D), FIELD(lse, N * H);
    FIELD(dqkv, N * Q), FIELD(datt, N * H * D), FIELD(gu, N * 2 * F), FIELD(sw, N * F);
    FIELD(dgu, N * 2 * F), FIELD(wqkv, (size_t)Q * C), FIELD(wup, (size_t)2 * F * C);
    FIELD(logits, (size_t)LM_ROWS * V), FIELD(lp, LM_ROWS), FIELD(ent, LM_ROWS);
    FIELD(lsr, LM_ROWS), FIELD(glp, LM_ROWS), FIELD(table, (size_t)V * C);
    FIELD(p, N_PARAMS), FIELD(m, N_PARAMS), FIELD(v, N_PARAMS), FIELD(g, N_PARAMS);
    FIELD(pool, n_pool(s));
#undef FIELD
    CHECK(k == N_FIELDS, "bench_cuda: %d fields", k);
}

static void fill(float *x, size_t n, uint64_t seed, float scale, bool positive) {
    struct rng_seq r;
    rng_seq_init(&r, seed, rng_stream_id(RNG_TEST, 31, 0, 0), 0);
    for (size_t i = 0; i < n; i++) {
        float u = scale * (float)rng_seq_normal(&r);
        x[i] = positive ? u * u : u;
    }
}

static void host_bufs(struct bufs *b, const struct shape *s) {
    float **f[N_FIELDS];
    size_t n[N_FIELDS];
    float_fields(b, s, f, n);
    for (int k = 0; k < N_FIELDS; k++) {
        *f[k] = xmalloc(sizeof(float) * n[k]);
        fill(*f[k], n[k], (uint64_t)k + 1, 0.5f, false);
    }
    fill(b->v, N_PARAMS, 99, 0.01f, true);
    b->tokens = xmalloc(sizeof(int32_t) * s->N);
    b->pos = xmalloc(sizeof(int32_t) * s->N);
    b->cu = xmalloc(sizeof(int32_t) * (s->B + 1));
    b->tgt = xmalloc(sizeof(int32_t) * LM_ROWS);
    for (int t = 0; t < s->N; t++) b->tokens[t] = (int32_t)((t * 7919u) % V), b->pos[t] = t % s->T;
    for (int i = 0; i <= s->B; i++) b->cu[i] = i * s->T;
    for (int r = 0; r < LM_ROWS; r++) b->tgt[r] = (int32_t)((r * 104729u) % V);
    int nb = (s->ctx + KV_BS) / KV_BS;
    b->dec_cu = xmalloc(sizeof(int32_t) * (DEC_B + 1));
    b->dec_start = xmalloc(sizeof(int32_t) * DEC_B);
    b->btab = xmalloc(sizeof(int32_t) * DEC_B * nb);
    for (int i = 0; i <= DEC_B; i++) b->dec_cu[i] = i;
    for (int i = 0; i < DEC_B; i++) b->dec_start[i] = s->ctx;
    for (int i = 0; i < DEC_B * nb; i++) b->btab[i] = i;
    b->kv = (struct kv_view){.pool = b->pool,
                             .L = 1,
                             .Hkv = HKV,
                             .D = D,
                             .block_size = KV_BS,
                             .max_blocks_per_seq = nb,
                             .block_table = b->btab};
}

static void *dev(const struct backend *be, const void *h, size_t n_bytes) {
    void *d;
    struct err e = {0};
    CHECK(cuda_malloc(&d, n_bytes, &e) == 0, "%s", e.msg);
    cuda_copy_to_device(be, d, h, n_bytes);
    return d;
}

static void device_bufs(struct bufs *d, const struct bufs *h, const struct backend *be,
                        const struct shape *s) {
    float **fd[N_FIELDS], **fh[N_FIELDS];
    size_t n[N_FIELDS];
    float_fields(d, s, fd, n);
    float_fields((struct bufs *)h, s, fh, n);
    for (int k = 0; k < N_FIELDS; k++) *fd[k] = dev(be, *fh[k], sizeof(float) * n[k]);
    int nb = h->kv.max_blocks_per_seq;
    d->tokens = dev(be, h->tokens, sizeof(int32_t) * s->N);
    d->pos = dev(be, h->pos, sizeof(int32_t) * s->N);
    d->cu = dev(be, h->cu, sizeof(int32_t) * (s->B + 1));
    d->tgt = dev(be, h->tgt, sizeof(int32_t) * LM_ROWS);
    d->dec_cu = dev(be, h->dec_cu, sizeof(int32_t) * (DEC_B + 1));
    d->dec_start = dev(be, h->dec_start, sizeof(int32_t) * DEC_B);
    d->btab = dev(be, h->btab, sizeof(int32_t) * DEC_B * nb);
    d->kv = h->kv;
    d->kv.pool = d->pool;
    d->kv.block_table = d->btab;
}

enum op_id {
    OP_GEMM_QKV,
    OP_GEMM_UP,
    OP_RMS_F,
    OP_RMS_B,
    OP_ROPE,
    OP_ATT_F,
    OP_ATT_B,
    OP_ATT_DEC,
    OP_SWI_F,
    OP_SWI_B,
    OP_LSM_S,
    OP_LSM_B,
    OP_EMB_B,
    OP_ADAMW,
    OP_SUMSQ,
    N_OPS
};
static const char *op_names[N_OPS] = {
    "gemm x Wqkv^T",    "gemm x Wgu^T",   "rmsnorm_fwd",     "rmsnorm_bwd", "rope_fwd",
    "attention_fwd",    "attention_bwd",  "attention_cache", "swiglu_fwd",  "swiglu_bwd",
    "logsoftmax_stats", "logsoftmax_bwd", "embedding_bwd",   "adamw",       "sumsq"};

static void run_op(int op, const struct backend *be, struct bufs *b, const struct shape *s) {
    const struct backend_ops *o = be->ops;
    void *c = be->ctx;
    int N = s->N;
    switch (op) {
    case OP_GEMM_QKV:
        o->gemm(c, false, true, N, Q, C, 1, b->x, C, b->wqkv, C, 0, b->qkv, Q);
        break;
    case OP_GEMM_UP:
        o->gemm(c, false, true, N, 2 * F, C, 1, b->x, C, b->wup, C, 0, b->gu, 2 * F);
        break;
    case OP_RMS_F:
        o->rmsnorm_forward(c, b->out, b->rstd, b->x, b->w, N, C, 1e-6f);
        break;
    case OP_RMS_B:
        o->rmsnorm_backward(c, b->dx, b->dw, b->out, b->x, b->w, b->rstd, N, C);
        break;
    case OP_ROPE:
        o->rope_forward(c, b->qkv, b->pos, N, H + HKV, D, Q, 1e6f);
        break;
    case OP_ATT_F:
        o->attention_forward(c, b->att, b->lse, b->qkv, b->cu, s->B, H, HKV, D);
        break;
    case OP_ATT_B:
        o->attention_backward(c, b->dqkv, b->datt, b->att, b->qkv, b->lse, b->cu, s->B, H, HKV, D);
        break;
    case OP_ATT_DEC:
        o->attention_cache(c, b->att, b->qkv, &b->kv, 0, b->dec_cu, b->dec_start, DEC_B, H);
        break;
    case OP_SWI_F:
        o->swiglu_forward(c, b->sw, b->gu, N, F);
        break;
    case OP_SWI_B:
        o->swiglu_backward(c, b->dgu, b->sw, b->gu, N, F);
        break;
    case OP_LSM_S:
        o->logsoftmax_stats(c, b->lp, b->ent, b->lsr, b->logits, b->tgt, LM_ROWS, V);
        break;
    case OP_LSM_B:
        o->logsoftmax_backward(c, b->logits, b->tgt, b->glp, b->glp, b->lsr, b->ent, LM_ROWS, V);
        break;
    case OP_EMB_B:
        o->embedding_backward(c, b->table, b->x, b->tokens, N, C);
        break;
    case OP_ADAMW:
        o->adamw(c, b->p, b->m, b->v, b->g, N_PARAMS, 1e-5f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.1f, 0.05f,
                 1);
        break;
    case OP_SUMSQ:
        (void)o->sumsq(c, b->g, N_PARAMS);
        break;
    }
}

// Floating-point operations and the fewest bytes each op must move (inputs read once, outputs
// written once).
static void op_cost(int op, const struct shape *s, double *flops, double *bytes) {
    double N = s->N, att_pairs = (double)s->B * s->T * (s->T + 1) / 2 * H;
    double r[N_OPS][2] = {
        [OP_GEMM_QKV] = {2 * N * Q * C, 4 * (N * C + (double)Q * C + N * Q)},
        [OP_GEMM_UP] = {2 * N * 2 * F * C, 4 * (N * C + 2.0 * F * C + N * 2 * F)},
        [OP_RMS_F] = {4 * N * C, 4 * (2 * N * C)},
        [OP_RMS_B] = {8 * N * C, 4 * (4 * N * C)},
        [OP_ROPE] = {6 * N * (H + HKV) * D / 2, 4 * (2 * N * (H + HKV) * D)},
        [OP_ATT_F] = {4 * att_pairs * D, 4 * (N * Q + N * H * D)},
        [OP_ATT_B] = {10 * att_pairs * D, 4 * (2 * N * Q + 3 * N * H * D)},
        [OP_ATT_DEC] = {4.0 * DEC_B * H * (s->ctx + 1) * D,
                        4.0 * DEC_B * 2 * HKV * (s->ctx + 1) * D},
        [OP_SWI_F] = {5 * N * F, 4 * (3 * N * F)},
        [OP_SWI_B] = {10 * N * F, 4 * (5 * N * F)},
        [OP_LSM_S] = {4.0 * LM_ROWS * V, 4.0 * LM_ROWS * V},
        [OP_LSM_B] = {6.0 * LM_ROWS * V, 8.0 * LM_ROWS * V},
        [OP_EMB_B] = {N * C, 4 * (3 * N * C)},
        [OP_ADAMW] = {12.0 * N_PARAMS, 4.0 * 7 * N_PARAMS},
        [OP_SUMSQ] = {2.0 * N_PARAMS, 4.0 * N_PARAMS},
    };
    *flops = r[op][0];
    *bytes = r[op][1];
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Median seconds of reps runs after one warm-up.
static double time_op(int op, const struct backend *be, bool is_gpu, struct bufs *b,
                      const struct shape *s, int reps) {
    double t[64];
    reps = reps > 64 ? 64 : reps;
    run_op(op, be, b, s);
    if (is_gpu) backend_cuda_sync(be);
    for (int r = 0; r < reps; r++) {
        double t0 = time_now_s();
        run_op(op, be, b, s);
        if (is_gpu) backend_cuda_sync(be);
        t[r] = time_now_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    return t[reps / 2];
}

// The two ceilings: cuBLAS fp32 sgemm and a large y += x.
static void ceilings(const struct backend *g, double *flops, double *bw) {
    int n = 8192;
    size_t nn = (size_t)n * n;
    float *h = xmalloc(nn * sizeof *h);
    fill(h, nn, 5, 1, false);
    float *a = dev(g, h, nn * 4), *b = dev(g, h, nn * 4), *c = dev(g, h, nn * 4);
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        double t0 = time_now_s();
        g->ops->gemm(g->ctx, false, true, n, n, n, 1, a, n, b, n, 0, c, n);
        backend_cuda_sync(g);
        double dt = time_now_s() - t0;
        if (r && dt < best) best = dt;
    }
    *flops = 2.0 * n * n * n / best;
    best = 1e30;
    for (int r = 0; r < 6; r++) {
        double t0 = time_now_s();
        g->ops->add(g->ctx, a, b, nn);
        backend_cuda_sync(g);
        double dt = time_now_s() - t0;
        if (r && dt < best) best = dt;
    }
    *bw = 12.0 * nn / best;
    free(h);
    cuda_free(a), cuda_free(b), cuda_free(c);
}

int main(int argc, char **argv) {
    struct shape s = {.N = 4096, .T = 512, .ctx = 511};
    int reps = 10;
    bool with_cpu = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tokens") && i + 1 < argc)
            s.N = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seq") && i + 1 < argc)
            s.T = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-cpu"))
            with_cpu = false;
        else {
            fprintf(stderr, "usage: bench_cuda [--tokens N] [--seq T] [--reps R] [--no-cpu]\n");
            return 1;
        }
    }
    if (cuda_device_count() == 0) {
        printf("no CUDA device: nothing to measure\n");
        return 77;
    }
    if (s.T <= 0 || s.N <= 0 || s.N % s.T) {
        fprintf(stderr, "bench_cuda: --tokens must be a multiple of --seq\n");
        return 1;
    }
    s.B = s.N / s.T;
    struct err e = {0};
    struct backend *cpu, *gpu;
    CHECK(backend_cpu_create(0, &cpu, &e) == 0 && backend_cuda_create(0, &gpu, &e) == 0, "%s",
          e.msg);
    struct bufs hb, db;
    host_bufs(&hb, &s);
    device_bufs(&db, &hb, gpu, &s);
    double peak_flops, peak_bw;
    ceilings(gpu, &peak_flops, &peak_bw);
    printf("shape: %d tokens in %d sequences of %d, C %d H %d/%d D %d F %d V %d; decode %d x ctx "
           "%d\n",
           s.N, s.B, s.T, C, H, HKV, D, F, V, DEC_B, s.ctx + 1);
    printf("ceilings measured now: cuBLAS sgemm %.1f TFLOP/s, y += x %.0f GB/s\n",
           peak_flops / 1e12, peak_bw / 1e9);
    printf("%-18s %10s %10s %8s %9s %7s %9s %7s\n", "op", "cpu ms", "gpu ms", "cpu/gpu", "TFLOP/s",
           "%sgemm", "GB/s", "%copy");
    for (int op = 0; op < N_OPS; op++) {
        double fl, by, tg = time_op(op, gpu, true, &db, &s, reps);
        double tc = with_cpu ? time_op(op, cpu, false, &hb, &s, reps < 3 ? reps : 3) : NAN;
        op_cost(op, &s, &fl, &by);
        printf("%-18s %10.3f %10.3f %8.1f %9.2f %6.1f%% %9.0f %6.1f%%\n", op_names[op], tc * 1e3,
               tg * 1e3, tc / tg, fl / tg / 1e12, 100 * fl / tg / peak_flops, by / tg / 1e9,
               100 * by / tg / peak_bw);
    }
    backend_cuda_destroy(&gpu);
    backend_cpu_destroy(&cpu);
    return 0;
}
