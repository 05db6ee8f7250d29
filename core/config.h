// The experiment config: one YAML file with sections run, model, tokenizer,
// data, rollout, reward, grpo, optim, trainer, cluster (design.md §5).
//
// The schema is one table (core/config_schema.c) of (section, key, type,
// default, range, doc); loading, validation, `--set` overrides, printing and
// the reference documentation all follow from it. Every error is one line
//
//     exp.yaml:12:3: unknown key 'lerning_rate' in section 'optim' (did you mean 'lr'?)
//
// naming the file, line and column (1-based), or the --set argument at fault.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

// A list of strings (YAML sequence or a single scalar).
struct str_list {
    int n;
    char **items;
};

enum cfg_run_device { DEVICE_CPU, DEVICE_CUDA };
enum cfg_model_dtype { DTYPE_FP32, DTYPE_BF16 };
enum cfg_tokenizer_kind { CFG_TOKENIZER_BPE, CFG_TOKENIZER_BYTE };
enum cfg_chat_template { CFG_CHAT_CHATML, CFG_CHAT_RAW };
enum cfg_answer_format { ANSWER_RAW, ANSWER_GSM8K, ANSWER_BOXED, ANSWER_FIRST, ANSWER_NUMBER };
enum cfg_verifier_kind { VERIFIER_MATH, VERIFIER_NONE };
enum cfg_tristate { TRI_AUTO, TRI_ON, TRI_OFF };
enum cfg_kl_estimator { KL_K1, KL_K2, KL_K3 };
enum cfg_loss_agg { AGG_SEQ_MEAN_TOKEN_MEAN, AGG_TOKEN_MEAN, AGG_SEQ_MEAN_TOKEN_SUM_NORM };
enum cfg_std_kind { STD_SAMPLE, STD_POPULATION };
enum cfg_lr_schedule { SCHED_CONSTANT, SCHED_LINEAR, SCHED_COSINE };
enum cfg_placement { PLACE_COLOCATED, PLACE_DISAGGREGATED };

// Strings are owned by the config (NUL-terminated, "" when unset); enums hold
// the index of the chosen name in the schema's choice list (same order as the
// C enums above).
struct run_section {
    char *name;
    char *out_dir;
    int64_t seed;
    int device; // enum cfg_run_device
    int64_t threads;
    int log_level; // enum log_level
};

struct model_section {
    char *path;
    int64_t hidden_size, intermediate_size, num_layers, num_heads, num_kv_heads, vocab_size;
    int64_t max_seq_len;
    double rope_theta, rms_norm_eps, init_std;
    bool tie_embeddings, activation_checkpointing;
    int dtype; // enum cfg_model_dtype
    char *reference_path;
};

struct tokenizer_section {
    int kind; // enum cfg_tokenizer_kind
    char *path;
    int chat_template; // enum cfg_chat_template
    char *system_prompt;
};

struct data_section {
    char *train_path, *eval_path;
    struct str_list question_key;
    char *answer_key;
    int answer_format; // enum cfg_answer_format
    bool shuffle;
    int64_t max_prompt_tokens;
};

struct rollout_section {
    int64_t group_size, max_new_tokens, top_k, kv_cache_mb, max_batch_seqs;
    double temperature, top_p, min_p;
    struct str_list stop;
};

enum cfg_shaping { SHAPING_RULE, SHAPING_RM, SHAPING_QWEN, SHAPING_WEIGHTED };

struct reward_section {
    int verifier; // enum cfg_verifier_kind
    int shaping;  // enum cfg_shaping
    double w_v, w_m, overlong_factor, format_penalty;
    int64_t overlong_buffer_tokens;
    int last_number_fallback; // enum cfg_tristate
    double rel_tol;
    char *rm_path;
    double rm_alpha;
    int64_t rm_batch_size;
};

struct grpo_section {
    int64_t queries_per_step, ppo_epochs, mini_batch_queries, micro_batch_seqs;
    int64_t resample_max_rounds;
    double kl_coef, clip_low, clip_high, adv_eps, entropy_coef;
    int kl_estimator; // enum cfg_kl_estimator
    int loss_agg;     // enum cfg_loss_agg
    bool std_norm;
    int std_kind; // enum cfg_std_kind
    bool filter_zero_variance, resample_zero_variance;
};

struct optim_section {
    double lr, beta1, beta2, eps, weight_decay, grad_clip, min_lr_ratio;
    int schedule; // enum cfg_lr_schedule
    int64_t warmup_steps;
};

struct trainer_section {
    int64_t max_steps, checkpoint_every, keep_checkpoints, eval_every, eval_problems, log_every;
    int64_t max_nonfinite_steps;
    char *checkpoint_dir;
};

struct sft_section {
    int64_t batch_seqs, micro_batch_seqs;
};

struct cluster_section {
    int placement; // enum cfg_placement
    int64_t learners, rollout_workers, reward_workers;
};

// Where a field's value came from, for errors found after loading
// (for example a layout that does not match the MPI world size).
struct config_origin {
    int line, col; // 1-based; 0 when the value is the default
    char *set_arg; // the --set argument, or NULL
};

#define CONFIG_MAX_FIELDS 128

struct config {
    struct run_section run;
    struct model_section model;
    struct tokenizer_section tokenizer;
    struct data_section data;
    struct rollout_section rollout;
    struct reward_section reward;
    struct grpo_section grpo;
    struct optim_section optim;
    struct trainer_section trainer;
    struct sft_section sft;
    struct cluster_section cluster;
    char *path;                                     // the file it was loaded from ("" for defaults)
    struct config_origin origin[CONFIG_MAX_FIELDS]; // indexed like the schema
};

// Fill cfg with the schema's defaults (required keys stay unset).
void config_init_defaults(struct config *cfg);

// Load a YAML experiment file, apply the overrides ("section.key=value", as
// given to --set; may be NULL when n_sets is 0), check required keys and
// validate. On error cfg holds nothing (no need to destroy it).
int config_load_file(struct config *cfg, const char *path, const char *const *sets, int n_sets,
                     struct err *e);
// Same, from a buffer (fuzzing, tests); name is used in error messages.
int config_load_string(struct config *cfg, const char *name, const char *text, size_t n_bytes,
                       const char *const *sets, int n_sets, struct err *e);

// Apply one override "section.key=value" (value is YAML: a scalar or a flow
// list like [a, b]) and re-validate.
int config_set(struct config *cfg, const char *assignment, struct err *e);

// Cross-field checks (also run by the loaders and config_set).
int config_validate(const struct config *cfg, struct err *e);

// The effective config as YAML that loads back to the same values.
int config_write_yaml(const struct config *cfg, FILE *f);
// The same into a malloc'd string (stored in checkpoints); never NULL.
char *config_to_yaml(const struct config *cfg);

// Copy (deep) and free.
void config_copy(struct config *dst, const struct config *src);
void config_destroy(struct config *cfg);

// The name of value of an enum key ("data", "answer_format", 1 -> "gsm8k");
// "?" when the key is not an enum or the value is out of range.
const char *config_enum_name(const char *section, const char *key, int value);

// "file:line:col: " (or "--set k=v: ") prefix for an error about a field,
// given its "section.key". Writes "" when the field is unknown.
void config_where(const struct config *cfg, const char *section_key, char *buf, size_t n);
