// Rollout throughput: generated tokens per second of the engine (prompt prefilled once, KV
// forked G ways, batched decode) against two baselines measured in the same run on the same
// randomly initialised model: the same batched decode re-prefilling the prompt for every
// sample (no sharing), and a plain one-sample-at-a-time KV-cache loop (batch 1). Also the
// time shares (prefill, decode forward, sampling) and the memory the KV cache really used.
//
//   bench_rollout [--queries 16] [--new 256] [--prompt 160] [--threads N] [--model small|tiny]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timer.h"
#include "model/cpu/cpu.h"
#include "rollout/rollout.h"

struct bench_args {
    int queries, n_new, prompt, threads;
    const char *model;
};

struct run_out {
    double tok_s, seconds;
    int64_t n_tokens;
    struct rollout_stats st;
    size_t kv_peak_bytes;
};

static int run(struct model *m, const struct rollout_cfg *c, const struct rollout_query *qs,
               int n, int G, struct run_out *o) {
    struct err e;
    struct rollout_engine *g = NULL;
    struct rollout_result r = {0};
    if (rollout_engine_create(m, NULL, NULL, c, NULL, &g, &e) < 0 ||
        rollout_generate(g, qs, n, G, 0, 1, &r, &e) < 0) {
        fprintf(stderr, "bench_rollout: %s\n", e.msg);
        rollout_engine_destroy(&g);
        return 1;
    }
    o->st = *rollout_engine_stats(g);
    o->seconds = o->st.total_s;
    o->n_tokens = r.resp_off[r.n_samples];
    o->tok_s = o->n_tokens / o->seconds;
    const struct rollout_plan *p = rollout_engine_plan(g);
    o->kv_peak_bytes = p->kv_bytes / p->n_blocks * (size_t)o->st.peak_blocks;
    rollout_result_free(&r);
    rollout_engine_destroy(&g);
    return 0;
}

static void row(const char *name, int G, const struct run_out *o, double ref_tok_s) {
    const struct rollout_stats *s = &o->st;
    double t = o->seconds;
    printf("%-22s %3d %8lld %9.1f %8.2f %7.1f%% %7.1f%% %7.1f%% %9.1f %7.2fx\n", name, G,
           (long long)o->n_tokens, o->tok_s, t, 100 * s->prefill_s / t, 100 * s->decode_s / t,
           100 * s->sample_s / t, o->kv_peak_bytes / 1048576.0, o->tok_s / ref_tok_s);
}

int main(int argc, char **argv) {
    struct bench_args a = {.queries = 16, .n_new = 256, .prompt = 160, .model = "small"};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--queries")) a.queries = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--new")) a.n_new = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--prompt")) a.prompt = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) a.threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--model")) a.model = argv[i + 1];
        else {
            fprintf(stderr, "bench_rollout: unknown option '%s'\n", argv[i]);
            return 1;
        }
    }
    // small: a Qwen2.5-0.5B-like block at a quarter of the width and depth; tiny: for a smoke run.
    struct model_shape s = {.C = 512, .L = 8, .H = 8, .Hkv = 2, .D = 64, .F = 1536, .V = 32768,
                            .max_pos = 4096, .rope_theta = 1e6f, .rms_eps = 1e-6f,
                            .is_tied = true, .head = MODEL_HEAD_LM};
    if (!strcmp(a.model, "tiny"))
        s = (struct model_shape){.C = 64, .L = 2, .H = 4, .Hkv = 2, .D = 16, .F = 128, .V = 512,
                                 .max_pos = 2048, .rope_theta = 1e6f, .rms_eps = 1e-6f,
                                 .is_tied = true, .head = MODEL_HEAD_LM};
    struct err e;
    struct backend *be = NULL;
    struct model *m = NULL;
    if (backend_cpu_create(a.threads, &be, &e) < 0 || model_create(&s, be, NULL, &m, &e) < 0) {
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
    c.kv_cache_mb = (int64_t)((size_t)c.max_batch_seqs * (a.prompt + a.n_new + 16) * per_pos >> 20) + 1;
    printf("model %s (C %d, L %d, H %d/%d, F %d, V %d), %d threads; %d queries x G samples x %d "
           "new tokens, prompts of %d\n",
           a.model, s.C, s.L, s.H, s.Hkv, s.F, s.V, be->n_threads, a.queries, a.n_new, a.prompt);
    printf("%-22s %3s %8s %9s %8s %8s %8s %8s %9s %8s\n", "run", "G", "tokens", "tok/s",
           "seconds", "prefill", "decode", "sample", "kv MiB", "vs naive");
    int rc = 0;
    const int Gs[2] = {8, 32};
    for (int k = 0; k < 2 && !rc; k++) {
        int G = Gs[k];
        struct run_out eng, unsh, seq;
        c.is_prefix_unshared = true;
        c.max_batch_seqs = 1;  // the plain loop: one sample at a time, its own prefill
        rc |= run(m, &c, qs, 1, G < 4 ? G : 4, &seq);
        c.max_batch_seqs = a.queries * 32;
        rc |= run(m, &c, qs, a.queries, G, &unsh);
        c.is_prefix_unshared = false;
        rc |= run(m, &c, qs, a.queries, G, &eng);
        if (rc) break;
        row("batch 1, re-prefill", G, &seq, seq.tok_s);
        row("batched, re-prefill", G, &unsh, seq.tok_s);
        row("engine (fork)", G, &eng, seq.tok_s);
        printf("engine / batched re-prefill: %.2fx tokens/s, %.2fx KV memory\n",
               eng.tok_s / unsh.tok_s, (double)eng.kv_peak_bytes / unsh.kv_peak_bytes);
    }
    free(ids);
    free(qs);
    model_destroy(&m);
    backend_cpu_destroy(&be);
    return rc;
}
