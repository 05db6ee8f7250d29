// Training and decode throughput of the CPU model against plain PyTorch (bench/torch_ref.py)
// in the same run, same shapes and thread count; GFLOP/s, the fraction of
// OpenBLAS's measured sgemm peak (and grpo's own GEMM's), and the per-kernel share of a step.
//
// usage: bench_model [--configs tiny,small,medium,medium-qv] [--steps N] [--threads N]
//                    [--decode] [--gemm-shapes] [--no-torch] [--python PY]
// PY defaults to bench/.venv/bin/python (bench/setup-torch); run from the project root.
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/profile_backend.h"
#include "bench/torch_python.h"
#include "core/check.h"
#include "core/timer.h"
#include "model/cpu/cpu.h"
#include "model/kv_cache.h"
#include "model/optim.h"

struct cfg {
    const char *name;
    int C, L, H, Hkv, F, V;
};

static const struct cfg configs[] = {
    {"tiny", 128, 4, 4, 2, 352, 512},
    {"small", 512, 8, 8, 2, 1408, 8192},
    {"medium", 768, 12, 12, 4, 2048, 32000},
    {"medium-qv", 768, 12, 12, 4, 2048, 151936},
};

static struct model_shape shape_of(const struct cfg *c) {
    return (struct model_shape){.C = c->C,
                                .L = c->L,
                                .H = c->H,
                                .Hkv = c->Hkv,
                                .D = c->C / c->H,
                                .F = c->F,
                                .V = c->V,
                                .max_pos = 4096,
                                .rope_theta = 10000.0f,
                                .rms_eps = 1e-6f,
                                .is_tied = true,
                                .head = MODEL_HEAD_LM};
}

// OpenBLAS's thread count (pthread build), as model/cpu/backend_cpu.c declares it.
void openblas_set_num_threads(int n);

// GFLOP/s of a 1024^3 product X W^T: through the backend (be), or OpenBLAS's cblas_sgemm
// (be NULL).
static double sgemm_peak(const struct backend *be) {
    int n = 1024;
    float *a = xcalloc((size_t)n * n, 4), *b = xcalloc((size_t)n * n, 4),
          *c = xcalloc((size_t)n * n, 4);
    for (size_t i = 0; i < (size_t)n * n; i++) a[i] = b[i] = 0.001f * (float)(i % 97);
    double best = 0;
    for (int r = 0; r < 4; r++) {
        double t0 = time_now_s();
        if (be)
            be->ops->gemm(be->ctx, false, true, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                        n);
        double dt = time_now_s() - t0;
        if (r && 2.0 * n * n * n / dt > best) best = 2.0 * n * n * n / dt;
    }
    free(a);
    free(b);
    free(c);
    return best / 1e9;
}

static double cpu_now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// PyTorch's tokens/s by wall time, and by processor time into *cpu when it prints it.
static double torch_rate(const char *py, const char *args, double *cpu) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s bench/torch_ref.py %s 2>/dev/null", py, args);
    *cpu = 0;
    FILE *p = popen(cmd, "r");
    if (!p) return 0;
    double x = 0;
    char line[256];
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "tokens_per_s %lf", &x) != 1) sscanf(line, "cpu_tokens_per_s %lf", cpu);
    pclose(p);
    return x;
}

static void bench_train(const struct cfg *c, const struct backend *cpu, int steps, double peak,
                        const char *py, bool show_shapes) {
    enum { B = 4, T = 256 };
    struct err e;
    struct model_shape s = shape_of(c);
    struct prof_ctx pc = {.inner = cpu};
    struct backend prof;
    prof_backend_init(&prof, &pc);
    struct mem_ledger ledger = {0};
    struct model *m = NULL;
    CHECK(model_create(&s, &prof, &ledger, &m, &e) == 0, "%s", e.msg);
    model_init_params(m, 1, 0.02f);
    CHECK(model_alloc_grads(m, &e) == 0, "%s", e.msg);
    struct adamw *opt = NULL;
    struct adamw_cfg oc = {
        .b1 = 0.9f, .b2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f, .clip_norm = 1};
    CHECK(adamw_create(m, &oc, &opt, &e) == 0, "%s", e.msg);
    struct model_acts_cfg ac = {.n_tokens_max = B * T};
    struct model_acts *a = NULL;
    CHECK(model_acts_create(m, &ac, &a, &e) == 0, "%s", e.msg);
    int32_t tok[B * T], tg[B * T], cu[B + 1];
    for (int i = 0; i < B * T; i++) tok[i] = (int32_t)((i * 2654435761u) % (unsigned)s.V);
    for (int b = 0; b <= B; b++) cu[b] = b * T;
    for (int i = 0; i < B * T; i++) tg[i] = (i + 1) % T ? tok[i + 1] : -1;
    float *lp = xcalloc(B * T, 4), *ent = xcalloc(B * T, 4), *dlp = xcalloc(B * T, 4);
    for (int i = 0; i < B * T; i++) dlp[i] = -1.0f / (B * T);
    double t_step = 0, t_best = 1e30, c_best = 1e30;
    for (int it = 0; it <= steps; it++) {
        if (it == 1) {
            memset(&pc.seconds, 0, sizeof pc.seconds);
            pc.gemm_flops = 0;
            pc.n_shapes = 0;
        }
        double t0 = time_now_s(), c0 = cpu_now_s();
        model_zero_grads(m);
        CHECK(model_forward(m, a, tok, tg, cu, B, lp, ent, &e) == 0, "%s", e.msg);
        CHECK(model_backward(m, a, dlp, NULL, &e) == 0, "%s", e.msg);
        adamw_step(opt, m, 1e-4f);
        double dt = time_now_s() - t0, dc = cpu_now_s() - c0;
        if (it) t_step += dt; // step 0 is warm-up
        if (it && dt < t_best) t_best = dt;
        if (it && dc < c_best) c_best = dc;
    }
    // The fastest step (the machine is shared: the fastest is the least disturbed), for us
    // and for PyTorch alike; the shares are over all timed steps.
    double tps = B * T / t_best;
    // FLOPs: the GEMMs counted by the profiler, plus attention (QK^T and PV causal: 2 T^2 D per
    // head forward, twice that backward, halved by the mask).
    double att = (double)s.L * B * s.H * (double)T * T * s.D * 2.0 * 3.0; // per step
    double gflops = (pc.gemm_flops / steps + att) / t_best / 1e9;
    char args[256];
    snprintf(args, sizeof args, "train %d %d %d %d %d %d %d %d %d %d", c->C, c->L, c->H, c->Hkv,
             c->F, c->V, B, T, steps, cpu->n_threads);
    double ref_cpu = 0, ref = py ? torch_rate(py, args, &ref_cpu) : 0;
    printf("train %-10s %6.1fM params  %9.0f tok/s  %6.1f GFLOP/s (%4.1f%% of OpenBLAS peak)",
           c->name, (double)m->n_params / 1e6, tps, gflops, 100 * gflops / peak);
    if (ref > 0)
        printf("  torch %9.0f tok/s  ratio %.2fx\n", ref, tps / ref);
    else
        printf("  torch n/a\n");
    // By processor time (fastest step too): less sensitive to waiting for a shared core.
    if (ref_cpu > 0)
        printf("      by processor time: %.0f tok/s, torch %.0f tok/s, ratio %.2fx\n",
               B * T / c_best, ref_cpu, B * T / c_best / ref_cpu);
    double tot = 0;
    for (int i = 0; i < PROF_N; i++) tot += pc.seconds[i];
    printf("      share:");
    for (int i = 0; i < PROF_N; i++)
        if (pc.seconds[i] > 0) printf(" %s %.0f%%", prof_op_name(i), 100 * pc.seconds[i] / t_step);
    printf(" (model code %.0f%%)\n", 100 * (t_step - tot) / t_step);
    if (show_shapes) prof_print_gemm_shapes(&pc);
    free(lp);
    free(ent);
    free(dlp);
    model_acts_destroy(m, &a);
    adamw_destroy(&opt);
    model_destroy(&m);
}

static void bench_decode(const struct cfg *c, const struct backend *cpu, const char *py) {
    enum { NSEQ = 32, PROMPT = 16, NEW = 128 };
    struct err e;
    struct model_shape s = shape_of(c);
    struct prof_ctx pc = {.inner = cpu};
    struct backend prof;
    prof_backend_init(&prof, &pc);
    struct model *m = NULL;
    CHECK(model_create(&s, &prof, NULL, &m, &e) == 0, "%s", e.msg);
    model_init_params(m, 1, 0.02f);
    struct kv_cache *kc = NULL;
    struct kv_cache_cfg kcfg = {
        .n_blocks = NSEQ * 9, .block_size = 16, .max_seqs = NSEQ, .max_len = PROMPT + NEW};
    CHECK(kv_cache_create(&s, &kcfg, NULL, &kc, &e) == 0, "%s", e.msg);
    struct model_acts_cfg ac = {.n_tokens_max = NSEQ * PROMPT, .is_inference = true};
    struct model_acts *a = NULL;
    CHECK(model_acts_create(m, &ac, &a, &e) == 0, "%s", e.msg);
    int ids[NSEQ];
    int32_t tok[NSEQ * PROMPT], cu[NSEQ + 1];
    float *logits = xcalloc((size_t)NSEQ * s.V, 4);
    for (int b = 0; b < NSEQ; b++) {
        CHECK(kv_seq_create(kc, &ids[b], &e) == 0, "%s", e.msg);
        cu[b] = b * PROMPT;
    }
    cu[NSEQ] = NSEQ * PROMPT;
    for (int i = 0; i < NSEQ * PROMPT; i++) tok[i] = (int32_t)((i * 2654435761u) % (unsigned)s.V);
    CHECK(model_infer(m, a, kc, ids, tok, cu, NSEQ, logits, &e) == 0, "%s", e.msg);
    for (int b = 0; b <= NSEQ; b++) cu[b] = b;
    memset(&pc.seconds, 0, sizeof pc.seconds);
    double t0 = time_now_s(), c0 = cpu_now_s();
    for (int step = 0; step < NEW; step++) {
        for (int b = 0; b < NSEQ; b++) { // greedy
            const float *z = logits + (size_t)b * s.V;
            int best = 0;
            for (int k = 1; k < s.V; k++) best = z[k] > z[best] ? k : best;
            tok[b] = best;
        }
        CHECK(model_infer(m, a, kc, ids, tok, cu, NSEQ, logits, &e) == 0, "%s", e.msg);
    }
    double dt = time_now_s() - t0, tps = NSEQ * NEW / dt, tps_cpu = NSEQ * NEW / (cpu_now_s() - c0);
    char args[256];
    snprintf(args, sizeof args, "decode %d %d %d %d %d %d %d %d %d %d", c->C, c->L, c->H, c->Hkv,
             c->F, c->V, NSEQ, PROMPT, NEW, cpu->n_threads);
    double ref_cpu = 0, ref = py ? torch_rate(py, args, &ref_cpu) : 0;
    printf("decode %-9s %d seqs x %d new  %9.0f tok/s", c->name, NSEQ, NEW, tps);
    if (ref > 0)
        printf("  torch %9.0f tok/s  ratio %.2fx\n", ref, tps / ref);
    else
        printf("  torch n/a\n");
    if (ref_cpu > 0)
        printf("      by processor time: %.0f tok/s, torch %.0f tok/s, ratio %.2fx\n", tps_cpu,
               ref_cpu, tps_cpu / ref_cpu);
    printf("      share:");
    for (int i = 0; i < PROF_N; i++)
        if (pc.seconds[i] > 0) printf(" %s %.0f%%", prof_op_name(i), 100 * pc.seconds[i] / dt);
    printf("\n");
    free(logits);
    model_acts_destroy(m, &a);
    kv_cache_destroy(&kc);
    model_destroy(&m);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); // rows appear as they are measured
    const char *list = "tiny,small", *py = NULL;
    bool no_torch = false, show_shapes = false;
    int steps = 3, threads = 0, decode = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--configs") && i + 1 < argc)
            list = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--python") && i + 1 < argc)
            py = argv[++i];
        else if (!strcmp(argv[i], "--decode"))
            decode = 1;
        else if (!strcmp(argv[i], "--gemm-shapes"))
            show_shapes = true;
        else if (!strcmp(argv[i], "--no-torch"))
            no_torch = true;
        else {
            fprintf(stderr, "usage: bench_model [--configs tiny,small,medium,medium-qv] "
                            "[--steps N] [--threads N] [--decode] [--gemm-shapes] [--no-torch] "
                            "[--python PY]\n");
            return 1;
        }
    }
    struct err e;
    struct backend *cpu = NULL;
    CHECK(backend_cpu_create(threads, &cpu, &e) == 0, "%s", e.msg);
    // OpenBLAS's peak with its own threads, measured last: its threads spin a while after
    // a call and would slow whatever runs next.
    double peak_be = sgemm_peak(cpu);
    openblas_set_num_threads(cpu->n_threads);
    double peak = sgemm_peak(NULL);
    openblas_set_num_threads(1);
    py = no_torch ? NULL : torch_python(py);
    char ver[160] = "no torch";
    if (py) torch_version(py, ver, sizeof ver);
    printf("threads %d, OpenBLAS sgemm peak %.1f GFLOP/s (1024^3; grpo's GEMM %.1f), B=4 T=256, "
           "best of %d timed steps; reference %s (%s)\n",
           cpu->n_threads, peak, peak_be, steps, ver, py ? py : "none");
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        const char *p = strstr(list, configs[i].name);
        size_t n = strlen(configs[i].name);
        if (!p || (p[n] != ',' && p[n] != 0)) continue;
        bench_train(&configs[i], cpu, steps, peak, py, show_shapes);
        if (decode) bench_decode(&configs[i], cpu, py);
    }
    backend_cpu_destroy(&cpu);
    return 0;
}
