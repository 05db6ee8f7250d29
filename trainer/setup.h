// Building the pieces of a run from the config, shared by grpo sft, grpo
// train and grpo eval.
#pragma once

#include "core/config.h"
#include "data/dataset.h"
#include "reward/reward.h"
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
int trainer_make_verifier(const struct config *cfg, struct reward_verifier **out, struct err *e);
