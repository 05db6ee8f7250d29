// The C side of the PyTorch oracle test (oracle_model.py): runs the model of a Hugging Face
// directory on a packed batch read from a safetensors file and writes what PyTorch checks:
// per-token logprob and entropy (training forward), every parameter gradient of the loss
// sum(w_logprob * logprob) + sum(w_entropy * entropy), and the logits of every position
// (KV-cache inference, one token per sequence per call, as the rollout decodes).
//
// usage: model_oracle MODEL_DIR IN.safetensors OUT.safetensors [key=value ...]
//   IN: tokens, targets, cu_seqlens, w_logprob, w_entropy (F32; ids as exact floats)
//   keys: recompute=0|1, lm_chunk=N, temperature=T, block_size=N
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/cpu/cpu.h"
#include "model/hf.h"
#include "model/kv_cache.h"
#include "tests/model/testutil.h"

struct opts {
    bool is_recompute;
    int lm_chunk, block_size;
    float temperature;
};

static int parse_opts(int argc, char **argv, struct opts *o) {
    static const char *const keys[] = {"recompute", "lm_chunk", "temperature", "block_size"};
    double v[4] = {0, 0, 0, 4};
    for (int i = 0; i < argc; i++) {
        char key[32];
        double x;
        if (sscanf(argv[i], "%31[a-z_]=%lf", key, &x) != 2) return -1;
        int k = 0;
        while (k < 4 && strcmp(keys[k], key)) k++;
        if (k == 4) return -1;
        v[k] = x;
    }
    *o = (struct opts){.is_recompute = v[0] != 0,
                       .lm_chunk = (int)v[1],
                       .temperature = (float)v[2],
                       .block_size = (int)v[3]};
    return o->block_size > 0 ? 0 : -1;
}

// Logits (N, V) of every position: sequence b's token j is fed at call j, together with the
// j-th token of every sequence still that long.
static int infer_all_logits(struct model *m, struct mem_ledger *ledger, const int32_t *tokens,
                            const int32_t *cu, int B, int block_size, float *logits,
                            struct err *e) {
    int V = m->shape.V, T_max = 0;
    for (int b = 0; b < B; b++)
        if (cu[b + 1] - cu[b] > T_max) T_max = cu[b + 1] - cu[b];
    struct kv_cache_cfg kc = {.n_blocks = B * ((T_max + block_size - 1) / block_size),
                              .block_size = block_size,
                              .max_seqs = B,
                              .max_len = T_max};
    struct kv_cache *c = NULL;
    struct model_acts *a = NULL;
    int rc = 0, *seqs = calloc((size_t)B, sizeof *seqs), *live = calloc((size_t)B, sizeof *live);
    int32_t *step_tok = calloc((size_t)B, sizeof *step_tok),
            *step_cu = calloc((size_t)B + 1, sizeof *step_cu);
    float *step_logits = calloc((size_t)B * V, sizeof *step_logits);
    TRY_FAIL(rc, kv_cache_create(&m->shape, &kc, ledger, &c, e));
    struct model_acts_cfg ac = {.n_tokens_max = B, .is_inference = true};
    TRY_FAIL(rc, model_acts_create(m, &ac, &a, e));
    for (int b = 0; b < B; b++) TRY_FAIL(rc, kv_seq_create(c, &seqs[b], e));
    for (int j = 0; j < T_max; j++) {
        int n = 0;
        for (int b = 0; b < B; b++) {
            if (cu[b + 1] - cu[b] <= j) continue;
            live[n] = seqs[b];
            step_tok[n] = tokens[cu[b] + j];
            step_cu[n + 1] = n + 1;
            n++;
        }
        TRY_FAIL(rc, model_infer(m, a, c, live, step_tok, step_cu, n, step_logits, e));
        for (int b = 0, k = 0; b < B; b++)
            if (cu[b + 1] - cu[b] > j)
                memcpy(logits + (size_t)(cu[b] + j) * V, step_logits + (size_t)k++ * V,
                       sizeof(float) * V);
    }
fail:
    model_acts_destroy(m, &a);
    kv_cache_destroy(&c);
    free(seqs), free(live), free(step_tok), free(step_cu), free(step_logits);
    return rc;
}

static int run(const char *dir, const char *in, const char *out, const struct opts *o,
               struct err *e) {
    struct backend *be = NULL;
    struct mem_ledger ledger = {0};
    struct model *m = NULL;
    struct st_file *f = NULL;
    struct model_acts *a = NULL;
    int rc = 0;
    int32_t *tokens = NULL, *targets = NULL, *cu = NULL;
    float *w_lp = NULL, *w_ent = NULL, *lp = NULL, *ent = NULL, *logits = NULL;
    struct st_write_tensor *ts = NULL;
    TRY_FAIL(rc, backend_cpu_create(0, &be, e));
    TRY_FAIL(rc, model_load_hf(dir, be, &ledger, &m, e));
    TRY_FAIL(rc, safetensors_open(in, &f, e));
    size_t N, n_cu;
    tokens = golden_i32(f, "tokens", &N);
    targets = golden_i32(f, "targets", NULL);
    cu = golden_i32(f, "cu_seqlens", &n_cu);
    w_lp = golden_f32(f, "w_logprob", NULL);
    w_ent = golden_f32(f, "w_entropy", NULL);
    int B = (int)n_cu - 1, V = m->shape.V;
    lp = calloc(N, sizeof *lp);
    ent = calloc(N, sizeof *ent);
    logits = calloc(N * (size_t)V, sizeof *logits);

    struct model_acts_cfg ac = {.n_tokens_max = (int)N,
                                .is_recompute = o->is_recompute,
                                .lm_chunk = o->lm_chunk,
                                .temperature = o->temperature};
    TRY_FAIL(rc, model_acts_create(m, &ac, &a, e));
    TRY_FAIL(rc, model_forward(m, a, tokens, targets, cu, B, lp, ent, e));
    TRY_FAIL(rc, model_alloc_grads(m, e));
    TRY_FAIL(rc, model_backward(m, a, w_lp, w_ent, e));
    TRY_FAIL(rc, infer_all_logits(m, &ledger, tokens, cu, B, o->block_size, logits, e));

    int n = 0;
    ts = calloc((size_t)m->n_tensors + 3, sizeof *ts);
    ts[n++] = (struct st_write_tensor){"logprob", 1, {(int64_t)N}, lp};
    ts[n++] = (struct st_write_tensor){"entropy", 1, {(int64_t)N}, ent};
    ts[n++] = (struct st_write_tensor){"logits", 2, {(int64_t)N, V}, logits};
    n += oracle_grad_tensors(m, ts + n);
    TRY_FAIL(rc, safetensors_write_f32(out, ts, n, e));
fail:
    if (ts) oracle_grad_tensors_free(m, ts + 3);
    free(ts);
    free(tokens), free(targets), free(cu), free(w_lp), free(w_ent);
    free(lp), free(ent), free(logits);
    if (m) model_acts_destroy(m, &a);
    safetensors_close(&f);
    model_destroy(&m);
    backend_cpu_destroy(&be);
    return rc;
}

int main(int argc, char **argv) {
    struct opts o;
    if (argc < 4 || parse_opts(argc - 4, argv + 4, &o) < 0) {
        fprintf(stderr, "usage: model_oracle MODEL_DIR IN.safetensors OUT.safetensors "
                        "[recompute=0|1] [lm_chunk=N] [temperature=T] [block_size=N]\n");
        return 1;
    }
    struct err e = {0};
    int rc = run(argv[1], argv[2], argv[3], &o, &e);
    if (rc < 0) fprintf(stderr, "model_oracle: %s\n", e.msg);
    return rc < 0 ? 1 : 0;
}
