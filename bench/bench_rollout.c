// Rollout throughput: generated tokens per second of the engine (prompt prefilled once, KV
// forked G ways, batched decode) against two baselines measured in the same run on the same
// randomly initialised model: the same batched decode re-prefilling the prompt for every
// sample (no sharing), and a plain one-sample-at-a-time KV-cache loop (batch 1). Also the
// time shares (prefill, decode forward split into matmuls and attention, sampling) and the
// memory the KV cache really used. The baselines use plain GEMMs; the engine runs with them
// and with its batch-invariant GEMM (the default), which prices exact batch invariance. With
// PyTorch installed, bench/torch_ref.py's plain KV-cache decode loop of the same shape and thread
// count is measured too (run from the project root).
//
//   bench_rollout [--queries 16] [--new 256] [--prompt 160] [--threads N] [--groups 8,32]
//                 [--model tiny|small|medium] [--engine-only] [--no-torch] [--python PY]
// PY defaults to bench/.venv/bin/python (bench/setup-torch); run from the project root.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/profile_backend.h"
#include "bench/torch_python.h"
#include "core/timer.h"
#include "model/cpu/cpu.h"
#include "rollout/rollout.h"

struct bench_args {
    int queries, n_new, prompt, threads;
    bool is_no_torch, is_engine_only;
    const char *model, *py, *groups;
};

// The model benchmark's configurations (bench/bench_model.c), D = C / H.
static const struct {
    const char *name;
    int C, L, H, Hkv, F, V;
} configs[] = {
    {"tiny", 128, 4, 4, 2, 352, 512},
    {"small", 512, 8, 8, 2, 1408, 8192},
    {"medium", 768, 12, 12, 4, 2048, 32000},
};

struct run_out {
    double tok_s, seconds;
    double cpu_s;          // processor time of the process over the run (all its threads)
    double gemm_s, attn_s; // inside the model's calls, prefill and decode
    int64_t n_tokens;
    struct rollout_stats st;
    size_t kv_peak_bytes;
};

static double cpu_now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int run(struct model *m, struct prof_ctx *prof, const struct rollout_cfg *c,
               const struct rollout_query *qs, int n, int G, struct run_out *o) {
    struct err e;
    memset(prof->seconds, 0, sizeof prof->seconds);
    struct rollout_engine *g = NULL;
    struct rollout_result r = {0};
    double c0 = 0;
    if (rollout_engine_create(m, NULL, NULL, c, NULL, &g, &e) < 0 || (c0 = cpu_now_s()) < 0 ||
        rollout_generate(g, qs, n, G, 0, 1, &r, &e) < 0) {
        fprintf(stderr, "bench_rollout: %s\n", e.msg);
        rollout_engine_destroy(&g);
        return 1;
    }
    o->cpu_s = cpu_now_s() - c0;
    o->st = *rollout_engine_stats(g);
    o->seconds = o->st.total_s;
    o->n_tokens = r.resp_off[r.n_samples];
    o->tok_s = o->n_tokens / o->seconds;
    const struct rollout_plan *p = rollout_engine_plan(g);
    o->kv_peak_bytes = p->kv_bytes / p->n_blocks * (size_t)o->st.peak_blocks;
    // Matmuls: the model calls' time less the other kernels' (the batch-invariant GEMM runs
    // outside the profiled backend); includes the model code between kernels (copies).
    double other = 0;
    for (int i = 0; i < PROF_N; i++)
        if (i != PROF_GEMM) other += prof->seconds[i];
    o->gemm_s = o->st.prefill_s + o->st.decode_s - other;
    o->attn_s = prof->seconds[PROF_ATT_CACHE];
    rollout_result_free(&r);
    rollout_engine_destroy(&g);
    return 0;
}

static void row(const char *name, int G, const struct run_out *o, double ref_tok_s) {
    const struct rollout_stats *s = &o->st;
    double t = o->seconds;
    printf("%-22s %3d %8lld %9.1f %8.2f %7.1f%% %7.1f%% %7.1f%% %7.1f%% %7.1f%% %9.1f %7.2fx\n",
           name, G, (long long)o->n_tokens, o->tok_s, t, 100 * s->prefill_s / t,
           100 * s->decode_s / t, 100 * o->gemm_s / t, 100 * o->attn_s / t, 100 * s->sample_s / t,
           o->kv_peak_bytes / 1048576.0, o->tok_s / ref_tok_s);
}

int main(int argc, char **argv) {
    struct bench_args a = {
        .queries = 16, .n_new = 256, .prompt = 160, .model = "small", .groups = "8,32"};
    for (int i = 1; i < argc; i += 2) {
        if (!strcmp(argv[i], "--no-torch")) {
            a.is_no_torch = true;
            i--;
        } else if (!strcmp(argv[i], "--engine-only")) {
            a.is_engine_only = true;
            i--;
        } else if (i + 1 == argc) {
            fprintf(stderr, "bench_rollout: %s needs a value\n", argv[i]);
            return 1;
        } else if (!strcmp(argv[i], "--python"))
            a.py = argv[i + 1];
        else if (!strcmp(argv[i], "--queries"))
            a.queries = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--new"))
            a.n_new = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--prompt"))
            a.prompt = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            a.threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--model"))
            a.model = argv[i + 1];
        else if (!strcmp(argv[i], "--groups"))
            a.groups = argv[i + 1];
        else {
            fprintf(stderr, "bench_rollout: unknown option '%s'\n", argv[i]);
            return 1;
        }
    }
    int ci = 0;
    while (ci < 3 && strcmp(configs[ci].name, a.model)) ci++;
    if (ci == 3) {
        fprintf(stderr, "bench_rollout: unknown model '%s' (tiny, small, medium)\n", a.model);
        return 1;
    }
    struct model_shape s = {.C = configs[ci].C,
                            .L = configs[ci].L,
                            .H = configs[ci].H,
                            .Hkv = configs[ci].Hkv,
                            .D = configs[ci].C / configs[ci].H,
                            .F = configs[ci].F,
                            .V = configs[ci].V,
                            .max_pos = 4096,
                            .rope_theta = 10000.0f,
                            .rms_eps = 1e-6f,
                            .is_tied = true,
                            .head = MODEL_HEAD_LM};
    struct err e;
    struct backend *be = NULL;
    struct model *m = NULL;
    struct backend prof_be;
    struct prof_ctx prof = {0};
    if (backend_cpu_create(a.threads, &be, &e) == 0) {
        prof.inner = be;
        prof_backend_init(&prof_be, &prof);
    }
    if (!be || model_create(&s, &prof_be, NULL, &m, &e) < 0) {
        fprintf(stderr, "bench_rollout: %s\n", e.msg);
        return 1;
    }
    model_init_params(m, 1, 0.02f);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)a.queries * a.prompt);
    struct rollout_query *qs = calloc((size_t)a.queries, sizeof *qs);
    for (int q = 0; q < a.queries; q++) {
        for (int t = 0; t < a.prompt; t++) ids[q * a.prompt + t] = (q * 131 + t * 17) % s.V;
        qs[q] = (struct rollout_query){.id = q, .ids = ids + q * a.prompt, .n_ids = a.prompt};
    }
    struct rollout_cfg c;
    rollout_cfg_defaults(&c);
    c.max_new_tokens = a.n_new;
    // A pool for every sample at once, unshared, in the worst case (+ a block per sequence).
    size_t per_pos = (size_t)s.L * 2 * s.Hkv * s.D * sizeof(float);
    c.max_batch_seqs = a.queries * 32;
    c.kv_cache_mb =
        (int64_t)((size_t)c.max_batch_seqs * (a.prompt + a.n_new + 16) * per_pos >> 20) + 1;
    const char *py = a.is_no_torch ? NULL : torch_python(a.py);
    char ver[160] = "no torch";
    if (py) torch_version(py, ver, sizeof ver);
    printf("model %s (C %d, L %d, H %d/%d, F %d, V %d), %d threads; %d queries x G samples x %d "
           "new tokens, prompts of %d; reference %s (%s)\n",
           a.model, s.C, s.L, s.H, s.Hkv, s.F, s.V, be->n_threads, a.queries, a.n_new, a.prompt,
           ver, py ? py : "none");
    printf("%-22s %3s %8s %9s %8s %8s %8s %8s %8s %8s %9s %8s\n", "run", "G", "tokens", "tok/s",
           "seconds", "prefill", "decode", "matmul", "attn", "sample", "kv MiB", "vs b=1");
    int rc = 0;
    for (const char *gp = a.groups; *gp && !rc; gp = strchr(gp, ',') ? strchr(gp, ',') + 1 : "") {
        int G = atoi(gp);
        if (G < 1 || G > 32) {
            fprintf(stderr, "bench_rollout: group size '%d' out of range 1..32\n", G);
            return 1;
        }
        struct run_out eng, plain, unsh, seq;
        if (!a.is_engine_only) {
            c.is_batch_invariant = false; // the baselines: plain GEMMs
            c.is_prefix_unshared = true;
            c.max_batch_seqs = 1; // the plain loop: one sample at a time, its own prefill
            rc |= run(m, &prof, &c, qs, 1, G < 4 ? G : 4, &seq);
            c.max_batch_seqs = a.queries * 32;
            rc |= run(m, &prof, &c, qs, a.queries, G, &unsh);
            c.is_prefix_unshared = false;
            rc |= run(m, &prof, &c, qs, a.queries, G, &plain);
        }
        c.is_prefix_unshared = false;
        c.is_batch_invariant = true;
        rc |= run(m, &prof, &c, qs, a.queries, G, &eng);
        if (rc) break;
        if (!a.is_engine_only) {
            row("batch 1, re-prefill", G, &seq, seq.tok_s);
            row("batched, re-prefill", G, &unsh, seq.tok_s);
            row("engine, plain GEMM", G, &plain, seq.tok_s);
        }
        row("engine (invariant)", G, &eng, a.is_engine_only ? eng.tok_s : seq.tok_s);
        if (!a.is_engine_only)
            printf("engine / batched re-prefill (both plain GEMM): %.2fx tokens/s, %.2fx KV "
                   "memory; batch-invariant GEMM costs %.2fx\n",
                   plain.tok_s / unsh.tok_s, (double)plain.kv_peak_bytes / unsh.kv_peak_bytes,
                   plain.tok_s / eng.tok_s);
        // Decode tokens/s of the engine (decode steps and all sampling) against a plain PyTorch
        // KV-cache sampling loop over all sequences at once (decode steps and sampling).
        double eng_decode = (double)eng.st.n_decode_tokens / (eng.st.decode_s + eng.st.sample_s);
        if (!py) continue;
        char cmd[512];
        snprintf(cmd, sizeof cmd,
                 "%s bench/torch_ref.py sample %d %d %d %d %d %d %d %d %d %d 2>/dev/null", py, s.C,
                 s.L, s.H, s.Hkv, s.F, s.V, a.queries * G, a.prompt, a.n_new, be->n_threads);
        double x = 0, xc = 0;
        FILE *p = popen(cmd, "r");
        char line[256];
        while (p && fgets(line, sizeof line, p))
            if (sscanf(line, "tokens_per_s %lf", &x) != 1)
                sscanf(line, "cpu_tokens_per_s %lf", &xc);
        if (p) pclose(p);
        // Processor time too: on shared cores a process waits for a core now and then, and
        // the two sides do not run at the same moment. The engine's decode share of it is
        // taken as its share of the wall time.
        double eng_share = (eng.st.decode_s + eng.st.sample_s) / eng.st.total_s;
        double eng_decode_cpu = (double)eng.st.n_decode_tokens / (eng.cpu_s * eng_share);
        if (x > 0)
            printf("PyTorch (%s) KV-cache sampling loop, decode: %.1f tokens/s; engine decode "
                   "(with sampling) %.1f tokens/s: %.2fx (by processor time: %.1f and %.1f, "
                   "%.2fx)\n",
                   ver, x, eng_decode, eng_decode / x, xc, eng_decode_cpu, eng_decode_cpu / xc);
        else
            printf("PyTorch KV-cache loop: not measured (no torch for '%s')\n", py);
    }
    free(ids);
    free(qs);
    model_destroy(&m);
    backend_cpu_destroy(&be);
    return rc;
}
