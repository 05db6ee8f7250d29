// The C side of the GRPO PyTorch oracle test (oracle_grpo.py): one learner update as
// trainer/grpo.c does it (packed prompt + response sequences, group-relative advantages, the
// frozen reference model's log-probs, micro-batched forward, grpo_loss, backward with the
// global counts) on Hugging Face directories, writing the loss and every parameter gradient.
//
// usage: grpo_oracle POLICY_DIR REF_DIR IN.safetensors OUT.safetensors key=value ...
//   IN (F32; ids as exact floats): prompt_ids, prompt_cu (B+1), resp_ids, resp_cu (B+1),
//      logp_old (rollout log-prob of each response token, packed like resp_ids), rewards (B)
//   keys: G, agg, kl (enum indices), beta, clip_low, clip_high, entropy_coef,
//      token_sum_norm, micro (sequences per micro-batch), std_norm, adv_eps
//   OUT: loss, adv (B), logp (N), logp_ref (N), mask (N),
//      stats (pg_sum, kl_sum, entropy_sum, clip_low_count, clip_high_count, n_tokens),
//      grad.<name>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "model/cpu/cpu.h"
#include "model/hf.h"
#include "tests/model/testutil.h"
#include "trainer/batch.h"
#include "trainer/grpo_loss.h"

struct opts {
    struct grpo_loss_opts loss;
    struct grpo_adv_opts adv;
    int G, micro;
};

enum {
    K_G,
    K_MICRO,
    K_AGG,
    K_KL,
    K_BETA,
    K_CLIP_LOW,
    K_CLIP_HIGH,
    K_ENT,
    K_TSN,
    K_STD,
    K_EPS,
    N_KEYS
};

static int parse_opts(int argc, char **argv, struct opts *o) {
    static const char *const keys[N_KEYS] = {"G",         "micro",        "agg",
                                             "kl",        "beta",         "clip_low",
                                             "clip_high", "entropy_coef", "token_sum_norm",
                                             "std_norm",  "adv_eps"};
    double v[N_KEYS] = {[K_CLIP_LOW] = 0.2, [K_CLIP_HIGH] = 0.2, [K_STD] = 1, [K_EPS] = 1e-6};
    for (int i = 0; i < argc; i++) {
        char key[32];
        double x;
        if (sscanf(argv[i], "%31[a-z_A-Z]=%lf", key, &x) != 2) return -1;
        int k = 0;
        while (k < N_KEYS && strcmp(keys[k], key)) k++;
        if (k == N_KEYS) return -1;
        v[k] = x;
    }
    *o = (struct opts){.G = (int)v[K_G], .micro = (int)v[K_MICRO]};
    o->loss = (struct grpo_loss_opts){.clip_low = v[K_CLIP_LOW],
                                      .clip_high = v[K_CLIP_HIGH],
                                      .kl_coef = v[K_BETA],
                                      .kl_estimator = (int)v[K_KL],
                                      .entropy_coef = v[K_ENT],
                                      .loss_agg = (int)v[K_AGG],
                                      .token_sum_norm = v[K_TSN]};
    o->adv =
        (struct grpo_adv_opts){.std_norm = v[K_STD] != 0, .std_kind = STD_SAMPLE, .eps = v[K_EPS]};
    return o->G > 0 && o->micro > 0 ? 0 : -1;
}

struct inputs {
    int32_t *prompt_ids, *prompt_cu, *resp_ids, *resp_cu;
    float *logp_old_resp, *rewards;
    int B;
};

static void inputs_read(const struct st_file *f, struct inputs *in) {
    size_t n_cu;
    in->prompt_ids = golden_i32(f, "prompt_ids", NULL);
    in->prompt_cu = golden_i32(f, "prompt_cu", &n_cu);
    in->resp_ids = golden_i32(f, "resp_ids", NULL);
    in->resp_cu = golden_i32(f, "resp_cu", NULL);
    in->logp_old_resp = golden_f32(f, "logp_old", NULL);
    in->rewards = golden_f32(f, "rewards", NULL);
    in->B = (int)n_cu - 1;
}

static void inputs_free(struct inputs *in) {
    free(in->prompt_ids), free(in->prompt_cu), free(in->resp_ids), free(in->resp_cu);
    free(in->logp_old_resp), free(in->rewards);
}

// The update of trainer/grpo.c (build_batch, reference_logprobs, update) on one batch.
struct learner {
    struct packed_batch pb;
    float *logp_old, *logp_ref, *logp, *entropy, *dlogp, *dentropy, *adv;
    struct grpo_loss_stats st;
};

static int learner_step(struct model *policy, struct model *ref, const struct inputs *in,
                        struct opts *o, struct learner *l, struct err *e) {
    int B = in->B, N = in->prompt_cu[B] + in->resp_cu[B];
    packed_batch_init(&l->pb, B, N);
    float **bufs[] = {&l->logp_old, &l->logp_ref, &l->logp, &l->entropy, &l->dlogp, &l->dentropy};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) *bufs[i] = calloc(N, sizeof(float));
    l->adv = calloc((size_t)B, sizeof(float));
    for (int b = 0; b < B; b++) {
        int np = in->prompt_cu[b + 1] - in->prompt_cu[b], nr = in->resp_cu[b + 1] - in->resp_cu[b];
        int t0 = l->pb.n_tokens;
        packed_batch_add(&l->pb, in->prompt_ids + in->prompt_cu[b], np,
                         in->resp_ids + in->resp_cu[b], nr, INT32_MAX);
        for (int k = 0; k < nr; k++)
            l->logp_old[t0 + np - 1 + k] = in->logp_old_resp[in->resp_cu[b] + k];
    }
    grpo_advantages(l->adv, NULL, in->rewards, B / o->G, o->G, &o->adv);
    o->loss.n_seqs_global = B;
    o->loss.n_tokens_global = 0;
    for (int t = 0; t < N; t++) o->loss.n_tokens_global += l->pb.mask[t];

    struct model_acts *a = NULL;
    struct model_acts_cfg ac = {.n_tokens_max = N};
    int rc = 0;
    TRY_FAIL(rc, model_acts_create(policy, &ac, &a, e));
    for (int pass = 0; pass < 2; pass++) { // 0: reference log-probs, 1: the update
        for (int s0 = 0; s0 < B; s0 += o->micro) {
            int s1 = s0 + o->micro < B ? s0 + o->micro : B;
            int32_t cu[s1 - s0 + 1];
            int t0 = packed_batch_micro(&l->pb, s0, s1, cu);
            if (pass == 0) {
                TRY_FAIL(rc, model_forward(ref, a, l->pb.tokens + t0, l->pb.targets + t0, cu,
                                           s1 - s0, l->logp_ref + t0, l->entropy + t0, e));
                continue;
            }
            TRY_FAIL(rc, model_forward(policy, a, l->pb.tokens + t0, l->pb.targets + t0, cu,
                                       s1 - s0, l->logp + t0, l->entropy + t0, e));
            bool has_ent = o->loss.entropy_coef != 0.0;
            grpo_loss(l->dlogp + t0, has_ent ? l->dentropy + t0 : NULL, &l->st, l->logp + t0,
                      l->logp_old + t0, l->logp_ref + t0, l->entropy + t0, l->pb.mask + t0, cu,
                      s1 - s0, l->adv + s0, &o->loss);
            TRY_FAIL(
                rc, model_backward(policy, a, l->dlogp + t0, has_ent ? l->dentropy + t0 : NULL, e));
        }
    }
fail:
    model_acts_destroy(policy, &a);
    return rc;
}

static void learner_free(struct learner *l) {
    packed_batch_free(&l->pb);
    free(l->logp_old), free(l->logp_ref), free(l->logp), free(l->entropy);
    free(l->dlogp), free(l->dentropy), free(l->adv);
}

static int learner_write(const struct model *m, const struct learner *l, const char *path,
                         struct err *e) {
    int N = l->pb.n_tokens, B = l->pb.n_seqs;
    float loss = (float)l->st.loss, *mask = calloc(N, sizeof(float));
    for (int t = 0; t < N; t++) mask[t] = l->pb.mask[t];
    float stats[6] = {(float)l->st.pg_sum,          (float)l->st.kl_sum,
                      (float)l->st.entropy_sum,     (float)l->st.clip_low_count,
                      (float)l->st.clip_high_count, (float)l->st.n_tokens};
    struct st_write_tensor *ts = calloc((size_t)m->n_tensors + 7, sizeof *ts);
    int n = 0;
    ts[n++] = (struct st_write_tensor){"loss", 1, {1}, &loss};
    ts[n++] = (struct st_write_tensor){"adv", 1, {B}, l->adv};
    ts[n++] = (struct st_write_tensor){"logp", 1, {N}, l->logp};
    ts[n++] = (struct st_write_tensor){"logp_ref", 1, {N}, l->logp_ref};
    ts[n++] = (struct st_write_tensor){"mask", 1, {N}, mask};
    ts[n++] = (struct st_write_tensor){"stats", 1, {6}, stats};
    n += oracle_grad_tensors(m, ts + n);
    int rc = safetensors_write_f32(path, ts, n, e);
    oracle_grad_tensors_free(m, ts + 6);
    free(ts);
    free(mask);
    return rc;
}

static int run(char **paths, struct opts *o, struct err *e) {
    struct backend *be = NULL;
    struct mem_ledger ledger = {0};
    struct model *policy = NULL, *ref = NULL;
    struct st_file *f = NULL;
    struct inputs in = {0};
    struct learner l = {0};
    int rc = 0;
    TRY_FAIL(rc, backend_cpu_create(0, &be, e));
    TRY_FAIL(rc, model_load_hf(paths[0], be, &ledger, &policy, e));
    TRY_FAIL(rc, model_load_hf(paths[1], be, &ledger, &ref, e));
    TRY_FAIL(rc, safetensors_open(paths[2], &f, e));
    inputs_read(f, &in);
    if (in.B % o->G) {
        rc = err_user(e, "'%d' sequences are not whole groups of G = %d", in.B, o->G);
        goto fail;
    }
    TRY_FAIL(rc, model_alloc_grads(policy, e));
    TRY_FAIL(rc, learner_step(policy, ref, &in, o, &l, e));
    TRY_FAIL(rc, learner_write(policy, &l, paths[3], e));
fail:
    learner_free(&l);
    inputs_free(&in);
    safetensors_close(&f);
    model_destroy(&policy);
    model_destroy(&ref);
    backend_cpu_destroy(&be);
    return rc;
}

int main(int argc, char **argv) {
    struct opts o;
    if (argc < 5 || parse_opts(argc - 5, argv + 5, &o) < 0) {
        fprintf(stderr, "usage: grpo_oracle POLICY_DIR REF_DIR IN.safetensors OUT.safetensors "
                        "G=N micro=N [agg= kl= beta= clip_low= clip_high= entropy_coef= "
                        "token_sum_norm= std_norm= adv_eps=]\n");
        return 1;
    }
    struct err e = {0};
    int rc = run(argv + 1, &o, &e);
    if (rc < 0) fprintf(stderr, "grpo_oracle: %s\n", e.msg);
    return rc < 0 ? 1 : 0;
}
