// Building the pieces of a run from the config, shared by grpo sft, grpo
// train and grpo eval.
#pragma once

#include "core/config.h"
#include "data/dataset.h"
#include "model/model.h"
#include "reward/reward.h"
#include "reward/rm.h"
#include "rollout/rollout.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"

// The tokenizer (tokenizer.kind, .path, else model.path) and chat template.
int trainer_open_tokenizer(const struct config *cfg, struct tokenizer **tok,
                           struct chat_template **chat, struct err *e);
// A data set at path, read with the data section's keys and answer format.
int trainer_open_dataset(const struct config *cfg, const char *path, struct dataset **out,
                         struct err *e);
// The rule-based verifier: GSM8K-style extraction for gsm8k/number gold
// answers (last-number fallback), MATH-style otherwise; reward.* overrides.
void trainer_verifier_opts(const struct config *cfg, struct reward_verifier_opts *vo);
int trainer_make_verifier(const struct config *cfg, struct reward_verifier **out, struct err *e);
// The reward model reward.rm_path (it must have a reward head and cover the
// tokenizer's vocabulary) and its scorer for sequences of up to max_len tokens.
// On error both are NULL.
int trainer_open_rm(const struct config *cfg, const struct backend *be, struct mem_ledger *ledger,
                    const struct tokenizer *tok, int max_len, struct model **model,
                    struct reward_rm **rm, struct err *e);
// score[s] = r_m of sample s of a rollout batch: its query's prompt followed by
// its response (ro->n_samples scores).
int trainer_score_rollout_rm(struct reward_rm *rm, const struct rollout_result *ro, float *score,
                             struct err *e);
