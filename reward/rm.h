// Reward-model scoring (r_m): a model with a reward head (model/: Qwen2.5-Math-RM's
// score.0/ReLU/score.2, or Qwen2ForSequenceClassification's score.weight) reads each
// (query, response) as one token sequence, the prompt rendered with the policy's chat
// template, and scores its last token. Sequences go through the model in batches of
// at most max_batch; the score of a sequence does not depend on the batch it is in
// (up to the fp32 rounding of batched GEMMs).
#pragma once

#include <stdint.h>

#include "core/err.h"
#include "model/model.h"

struct reward_rm;

// model (borrowed) must have a reward head. max_len bounds prompt + response tokens.
int reward_rm_create(struct model *model, int max_batch, int max_len, struct reward_rm **out,
                     struct err *e);
void reward_rm_destroy(struct reward_rm **r);

// score[i] = r_m of the sequence prompt[i] followed by response[i].
int reward_rm_score(struct reward_rm *r, const int32_t *const *prompt, const int *n_prompt,
                    const int32_t *const *response, const int *n_response, int n, float *score,
                    struct err *e);
