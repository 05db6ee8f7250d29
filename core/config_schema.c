// The schema of experiment files: every section and key, its type, default,
// range and documentation. configs/reference.yaml and docs/config.md document
// the same keys (a unit test checks that none is missing there).
#include <stddef.h>
#include <string.h>

#include "core/config_internal.h"

static const char *const devices[] = {"cpu", "cuda", NULL};
static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const dtypes[] = {"fp32", "bf16", NULL};
static const char *const tokenizer_kinds[] = {"bpe", "byte", NULL};
static const char *const chat_templates[] = {"chatml", "raw", NULL};
static const char *const answer_formats[] = {"raw", "gsm8k", "boxed", "first", "number", NULL};
static const char *const verifiers[] = {"math", "none", NULL};
static const char *const shapings[] = {"rule", "rm", "qwen", "weighted", NULL};
static const char *const tristates[] = {"auto", "on", "off", NULL};
static const char *const kl_estimators[] = {"k1", "k2", "k3", NULL};
static const char *const loss_aggs[] = {"seq-mean-token-mean", "token-mean",
                                        "seq-mean-token-sum-norm", NULL};
static const char *const std_kinds[] = {"sample", "population", NULL};
static const char *const schedules[] = {"constant", "linear", "cosine", NULL};
static const char *const placements[] = {"colocated", "disaggregated", NULL};

#define BIG 9.0e15 // integers are exact in double up to 2^53
#define S(sec, k, def, doc)                                                                        \
    { #sec, #k, CFG_STRING, offsetof(struct config, sec.k), def, 0, 0, NULL, doc }
#define I(sec, k, def, lo, hi, doc)                                                                \
    { #sec, #k, CFG_INT, offsetof(struct config, sec.k), def, lo, hi, NULL, doc }
#define R(sec, k, def, lo, hi, doc)                                                                \
    { #sec, #k, CFG_FLOAT, offsetof(struct config, sec.k), def, lo, hi, NULL, doc }
#define B(sec, k, def, doc)                                                                        \
    { #sec, #k, CFG_BOOL, offsetof(struct config, sec.k), def, 0, 0, NULL, doc }
#define E(sec, k, def, ch, doc)                                                                    \
    { #sec, #k, CFG_ENUM, offsetof(struct config, sec.k), def, 0, 0, ch, doc }
#define L(sec, k, def, doc)                                                                        \
    { #sec, #k, CFG_STR_LIST, offsetof(struct config, sec.k), def, 0, 0, NULL, doc }

const struct cfg_field config_fields[] = {
    S(run, name, NULL, "name of the run (required); outputs go to RUN_DIR = out_dir/name"),
    S(run, out_dir, "runs", "directory that holds run directories"),
    I(run, seed, "1", 0, BIG, "seed of every random stream (init, shuffling, sampling)"),
    E(run, device, "cpu", devices, "compute backend"),
    I(run, threads, "0", 0, 4096,
      "CPU threads per rank; 0 = OMP_NUM_THREADS, else cores / ranks on the node"),
    E(run, log_level, "info", log_levels, "least severe log level printed"),

    S(model, path, "",
      "Hugging Face directory or grpo checkpoint (.h5) to start from; empty = new model from the "
      "sizes below"),
    I(model, hidden_size, "0", 0, 1 << 20, "C, width of the residual stream (new models)"),
    I(model, intermediate_size, "0", 0, 1 << 22, "F, width of the SwiGLU MLP (new models)"),
    I(model, num_layers, "0", 0, 4096, "L, number of transformer blocks (new models)"),
    I(model, num_heads, "0", 0, 4096, "H, attention heads (new models)"),
    I(model, num_kv_heads, "0", 0, 4096,
      "Hkv, key/value heads for grouped-query attention; 0 = num_heads"),
    I(model, vocab_size, "0", 0, 1 << 24, "V; 0 = the tokenizer's vocabulary size"),
    I(model, max_seq_len, "2048", 1, 1 << 24, "longest prompt + response in tokens"),
    R(model, rope_theta, "10000", 1, 1e12, "base of the rotary position embedding (new models)"),
    R(model, rms_norm_eps, "1e-06", 1e-12, 1, "epsilon of RMSNorm (new models)"),
    R(model, init_std, "0.02", 0, 10, "standard deviation of the initial weights (new models)"),
    B(model, tie_embeddings, "true", "share the token embedding with the LM head (new models)"),
    B(model, activation_checkpointing, "false",
      "recompute block activations in backward to save memory"),
    E(model, dtype, "fp32", dtypes,
      "weights and activations; master weights and AdamW state stay fp32"),
    S(model, reference_path, "",
      "frozen reference model for the KL term; empty = the initial policy"),

    E(tokenizer, kind, "bpe", tokenizer_kinds,
      "byte-level BPE from tokenizer.json, or 256 bytes + special tokens"),
    S(tokenizer, path, "", "tokenizer.json or its directory (bpe); empty = model.path"),
    E(tokenizer, chat_template, "chatml", chat_templates,
      "prompt format: Qwen ChatML, or the raw question (stop at the eos token)"),
    S(tokenizer, system_prompt, "cot",
      "'cot', 'tir', 'none', or the literal text of a system prompt"),

    S(data, train_path, "", "JSONL file of training queries"),
    S(data, eval_path, "", "JSONL file of held-out queries"),
    L(data, question_key, "[question]",
      "key of the question, or a list of keys joined with a space"),
    S(data, answer_key, "answer", "key of the gold answer"),
    E(data, answer_format, "raw", answer_formats,
      "how to read the gold answer: as is, after '####', last \\boxed{}, first list element, JSON "
      "number"),
    B(data, shuffle, "true", "reshuffle the queries every epoch (from run.seed)"),
    I(data, max_prompt_tokens, "1024", 1, 1 << 24, "longer prompts are skipped with a warning"),

    I(rollout, group_size, "32", 1, 65536, "G, responses sampled per query"),
    I(rollout, max_new_tokens, "1024", 1, 1 << 24,
      "longest response; longer ones end with finish 'length'"),
    R(rollout, temperature, "1", 0, 100, "sampling temperature; 0 = greedy"),
    R(rollout, top_p, "1", 0, 1, "nucleus sampling mass; 1 = off"),
    I(rollout, top_k, "0", 0, 1 << 24, "sample among the k most likely tokens; 0 = off"),
    R(rollout, min_p, "0", 0, 1, "drop tokens below min_p times the top probability; 0 = off"),
    L(rollout, stop, "[]", "extra stop strings; the template's end-of-turn token always stops"),
    I(rollout, kv_cache_mb, "1024", 1, 1 << 24, "KV-cache memory budget per rollout worker, MiB"),
    I(rollout, max_batch_seqs, "256", 1, 1 << 20, "most sequences decoded in one batched step"),

    E(reward, verifier, "math", verifiers, "rule-based verifier giving r_v in {0, 1}"),
    E(reward, last_number_fallback, "auto", tristates,
      "take the last number when no answer is marked; auto = on for gsm8k/number gold answers"),
    R(reward, rel_tol, "0.0001", 0, 1, "relative tolerance for non-integer numeric answers"),
    S(reward, rm_path, "", "reward model (Hugging Face directory or .h5); empty = verifier only"),
    R(reward, rm_alpha, "0.5", 0, 1000,
      "alpha of the shaping r = sigmoid(alpha * r_m) + (r_v - 1)"),
    E(reward, shaping, "qwen", shapings,
      "r from r_v and r_m: r_v | r_m | sigmoid(rm_alpha r_m) + r_v - 1 | w_v r_v + w_m r_m; r_v "
      "without a reward model"),
    R(reward, w_v, "1", -1000, 1000, "weight of r_v (shaping: weighted)"),
    R(reward, w_m, "1", -1000, 1000, "weight of r_m (shaping: weighted)"),
    I(reward, overlong_buffer_tokens, "0", 0, 1 << 24,
      "DAPO soft overlong penalty: 0 up to max_new_tokens - buffer, then down to -overlong_factor; "
      "0 = off"),
    R(reward, overlong_factor, "1", 0, 1000, "the overlong penalty at max_new_tokens"),
    R(reward, format_penalty, "0", 0, 1000,
      "subtracted from responses without an extractable answer"),
    I(reward, rm_batch_size, "16", 1, 1 << 20, "responses scored per reward-model forward"),

    I(grpo, queries_per_step, "16", 1, 1 << 24,
      "queries per rollout batch (each gives a group of G)"),
    I(grpo, ppo_epochs, "1", 1, 1000, "passes over each rollout batch"),
    I(grpo, mini_batch_queries, "0", 0, 1 << 24,
      "queries per optimiser step; 0 = queries_per_step (one update per batch)"),
    I(grpo, micro_batch_seqs, "8", 1, 1 << 24,
      "sequences per forward/backward (gradient accumulation)"),
    R(grpo, kl_coef, "0.001", 0, 1000,
      "beta of the KL penalty against the reference model; 0 = no reference"),
    E(grpo, kl_estimator, "k3", kl_estimators, "per-token KL estimator"),
    R(grpo, clip_low, "0.2", 0, 1, "epsilon_low: ratio clipped below at 1 - clip_low"),
    R(grpo, clip_high, "0.2", 0, 100,
      "epsilon_high: ratio clipped above at 1 + clip_high (DAPO: 0.28)"),
    E(grpo, loss_agg, "seq-mean-token-mean", loss_aggs,
      "loss aggregation (DeepSeekMath, DAPO, Dr. GRPO)"),
    B(grpo, std_norm, "true", "divide advantages by the group's standard deviation"),
    E(grpo, std_kind, "sample", std_kinds,
      "standard deviation with n - 1 (sample) or n (population)"),
    R(grpo, adv_eps, "0.0001", 0, 1, "epsilon added to the group std"),
    R(grpo, entropy_coef, "0", 0, 1000, "weight of the entropy bonus"),
    B(grpo, filter_zero_variance, "false", "drop groups whose rewards are all equal"),
    B(grpo, resample_zero_variance, "false",
      "drop groups whose rewards are all equal and refill the batch with new queries (DAPO "
      "dynamic sampling)"),
    I(grpo, resample_max_rounds, "10", 1, 1 << 20,
      "with resample_zero_variance: most rollout rounds per step, the first included"),

    R(optim, lr, "1e-05", 0, 10, "peak learning rate of AdamW"),
    R(optim, beta1, "0.9", 0, 0.999999, "AdamW beta1"),
    R(optim, beta2, "0.999", 0, 0.999999999, "AdamW beta2"),
    R(optim, eps, "1e-08", 0, 1, "AdamW epsilon"),
    R(optim, weight_decay, "0", 0, 100, "decoupled weight decay"),
    R(optim, grad_clip, "1", 0, 1e12, "clip the global gradient norm; 0 = off"),
    E(optim, schedule, "constant", schedules, "learning-rate schedule after warm-up"),
    I(optim, warmup_steps, "0", 0, BIG, "linear warm-up steps"),
    R(optim, min_lr_ratio, "0", 0, 1, "final lr as a fraction of lr (linear, cosine)"),

    I(trainer, max_steps, "100", 1, BIG, "optimiser steps of the run"),
    I(trainer, checkpoint_every, "50", 0, BIG, "save every N steps; 0 = only at the end"),
    I(trainer, keep_checkpoints, "3", 0, BIG, "keep the last K checkpoints; 0 = keep all"),
    S(trainer, checkpoint_dir, "", "where checkpoints go; empty = RUN_DIR/checkpoints"),
    I(trainer, eval_every, "0", 0, BIG, "evaluate on data.eval_path every N steps; 0 = never"),
    I(trainer, eval_problems, "500", 0, BIG, "problems of data.eval_path per evaluation; 0 = all"),
    I(trainer, log_every, "1", 1, BIG,
      "progress line every N steps (metrics.jsonl gets every step)"),
    I(trainer, max_nonfinite_steps, "3", 1, BIG,
      "stop after this many consecutive steps with NaN/Inf"),

    I(sft, batch_seqs, "64", 1, 1 << 24,
      "sequences per optimiser step of grpo sft (split across learners)"),
    I(sft, micro_batch_seqs, "0", 0, 1 << 24,
      "sequences per forward/backward of grpo sft; 0 = the rank's whole share"),

    E(cluster, placement, "colocated", placements,
      "every rank does every role, or ranks split into roles"),
    I(cluster, learners, "0", 0, 1 << 20, "learner ranks (disaggregated)"),
    I(cluster, rollout_workers, "0", 0, 1 << 20, "rollout-worker ranks (disaggregated)"),
    I(cluster, reward_workers, "0", 0, 1 << 20, "reward-worker ranks (disaggregated)"),
};

const int config_n_fields = (int)(sizeof config_fields / sizeof config_fields[0]);

const char *const config_sections[] = {"run",  "model", "tokenizer", "data", "rollout", "reward",
                                       "grpo", "optim", "trainer",   "sft",  "cluster", NULL};

int config_field_index(const char *section, const char *key) {
    for (int i = 0; i < config_n_fields; i++)
        if (strcmp(config_fields[i].section, section) == 0 &&
            strcmp(config_fields[i].key, key) == 0)
            return i;
    return -1;
}

const char *config_enum_name(const char *section, const char *key, int value) {
    int i = config_field_index(section, key);
    if (i < 0 || config_fields[i].type != CFG_ENUM || value < 0) return "?";
    for (int k = 0; config_fields[i].choices[k]; k++)
        if (k == value) return config_fields[i].choices[k];
    return "?";
}
