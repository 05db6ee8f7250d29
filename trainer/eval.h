// Evaluation on a held-out set: k samples per problem from the rollout engine,
// each verified against the gold answer. Reports the mean accuracy of all
// samples, pass@k (some sample correct) and maj@k (the most frequent extracted
// answer is correct; ties go to the answer seen first).
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "data/prompts.h"
#include "reward/reward.h"
#include "rollout/rollout.h"

struct eval_opts {
    int k;                // samples per problem
    int64_t max_problems; // 0 = all
    int batch_queries;    // problems per rollout call (memory)
    uint64_t seed;
};

struct eval_result {
    int64_t n_problems, n_samples;
    double accuracy;       // correct samples / samples
    double pass_at_k;      // problems with a correct sample / problems
    double maj_at_k;       // problems whose majority answer is correct / problems
    double no_answer_rate; // samples without an extractable answer / samples
    double mean_len;       // response tokens per sample
    double seconds;
};

// per_problem (may be NULL) gets one JSON line a problem: id, gold, samples'
// extracted answers and verdicts.
int eval_run(struct rollout_engine *eng, const struct tokenizer *tok, const struct dataset *d,
             const struct prompt_set *p, struct reward_verifier *v, const struct eval_opts *o,
             FILE *per_problem, struct eval_result *out, struct err *e);

// The result as one JSON object (no newline).
void eval_result_print_json(const struct eval_result *r, int k, FILE *f);
