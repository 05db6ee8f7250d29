// Supervised fine-tuning (grpo sft): the warm start of GRPO. Each step takes
// sft.batch_seqs (prompt, response) pairs from the shuffled training set, split
// across the learners; the loss is the mean negative log-likelihood of the
// response tokens (and the stop token) over the whole batch, the prompt masked.
#pragma once

#include "trainer/run.h"

int sft_train(struct run *r, struct err *e);
