// Evaluation on a held-out set: k samples per problem from the rollout engine,
// each verified against the gold answer and, with a reward model, scored by it.
// Metrics (docs/rollout.md, grpo eval), over problems unless said otherwise:
//   accuracy   correct samples / samples
//   pass@j     the unbiased estimator 1 - C(k-c, j) / C(k, j) of "one of j samples
//              is correct" from the k samples drawn (c correct), for j = 1, 2, 4, ..., k
//   maj@k      the most frequent answer is correct; answers are grouped by the
//              verifier's equivalence (1/2 and 0.5 vote together); ties go to the
//              class seen first, no-answer samples do not vote
//   rm@k       the sample with the highest reward-model score is correct (best-of-k)
//   mean_len   response tokens per sample (the stop token included)
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "data/prompts.h"
#include "reward/equiv.h"
#include "reward/reward.h"
#include "reward/rm.h"
#include "rollout/rollout.h"

#define EVAL_MAX_K    4096
#define EVAL_MAX_PASS 14 // pass@j for j = 1, 2, 4, ..., 2^11 (< k) and k: 13 at most

struct eval_opts {
    int k;                // samples per problem
    int64_t max_problems; // 0 = all
    int batch_queries;    // problems per rollout call (memory)
    uint64_t seed;
};

// What scores a sample. verifier is required; equiv (NULL: answers vote by
// exact string) and rm (NULL: no rm@k) are optional. All borrowed.
struct eval_scorers {
    struct reward_verifier *verifier;
    struct reward_equiv *equiv;
    struct reward_rm *rm;
};

struct eval_result {
    int64_t n_problems, n_samples;
    int k;
    double accuracy; // correct samples / samples
    int n_pass;      // pass_j[0..n_pass), ascending, the last is k
    int pass_j[EVAL_MAX_PASS];
    double pass_at[EVAL_MAX_PASS]; // pass@pass_j[i], unbiased estimator
    double maj_at_k;               // problems whose majority answer is correct / problems
    bool has_rm;
    double rm_at_k;        // problems whose best sample by reward model is correct / problems
    double no_answer_rate; // samples without an extractable answer / samples
    double truncated_rate; // samples stopped by the length limit / samples
    double mean_len;       // response tokens per sample
    double seconds;
};

// ---- metrics from scored samples (no model involved) ----

// The unbiased pass@j of n samples of which c are correct (Chen et al. 2021):
// 1 - C(n-c, j) / C(n, j), computed as a product so that large n do not overflow.
double eval_pass_at(int n, int c, int j);

// One problem's k scored samples.
struct eval_problem {
    const struct reward_verdict *verdicts; // (k)
    const float *rm_score;                 // (k) or NULL
    const int64_t *n_tokens;               // (k) response lengths
    const uint8_t *finish;                 // (k) enum rollout_finish, or NULL
};

// Its outcome: index of the majority answer's first sample (-1: no answer at
// all) and of the reward model's pick (-1 without scores).
struct eval_outcome {
    int n_correct, maj_index, rm_index;
    bool is_maj_correct, is_rm_correct;
};

// Running sums over problems.
struct eval_tally {
    int k;
    bool has_rm;
    int64_t n_problems, n_correct, n_no_answer, n_truncated, n_tokens, n_maj, n_rm;
    double sum_pass[EVAL_MAX_PASS];
};

void eval_tally_init(struct eval_tally *t, int k, bool has_rm);
// Adds one problem (k samples; rm_score required when has_rm). equiv may be NULL.
void eval_tally_add(struct eval_tally *t, struct reward_equiv *equiv, const struct eval_problem *p,
                    struct eval_outcome *out);
// The metrics (seconds left 0).
void eval_tally_result(const struct eval_tally *t, struct eval_result *out);

// ---- running ----

// per_problem (may be NULL) gets one JSON line a problem: id, gold, samples'
// extracted answers, verdicts, lengths and reward-model scores.
int eval_run(struct rollout_engine *eng, const struct tokenizer *tok, const struct dataset *d,
             const struct prompt_set *p, const struct eval_scorers *s, const struct eval_opts *o,
             FILE *per_problem, struct eval_result *out, struct err *e);

// ---- reporting ----

// What was evaluated, for the report.
struct eval_meta {
    const char *model, *data, *rm; // rm NULL or "" without a reward model
    double temperature, top_p;
    int64_t top_k, max_new_tokens;
    uint64_t seed;
};

// The result as one JSON object (no newline). meta may be NULL (metrics only).
void eval_result_print_json(const struct eval_result *r, const struct eval_meta *meta, FILE *f);
// The result as a table: a header naming data set, model, k and problems, then
// one "metric value" row each.
void eval_result_print_table(const struct eval_result *r, const struct eval_meta *meta, FILE *f);

// ---- grpo eval ----

struct eval_command {
    int k;
    int64_t max_problems;
    const char *run_dir;     // NULL: run.out_dir/run.name
    const char *per_problem; // NULL: no per-problem file
    bool is_json;            // stdout: the JSON line instead of the table
};

// Loads model.path, data.eval_path, the tokenizer, the verifier and (with
// reward.rm_path) the reward model from cfg, evaluates, prints the table (or
// the JSON line) on stdout and appends the JSON line to RUN_DIR/eval.jsonl.
int eval_command_run(const struct config *cfg, const struct eval_command *c, struct err *e);
