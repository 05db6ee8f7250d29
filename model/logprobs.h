// `grpo logprobs`: per-token log-probabilities and entropies of token sequences.
#pragma once

#include <stdio.h>

#include "core/err.h"
#include "model/model.h"

// Reads JSON lines {"ids": [...]} from in and writes {"logprobs": [...], "entropy": [...]}
// per line to out: logprobs[i] = log p(ids[i+1] | ids[0..i]), entropy[i] the entropy of that
// next-token distribution (both n-1 long), of softmax(logits / temperature) when temperature > 0.
// in_name names the input in errors ("stdin:3: ...").
int model_logprobs_jsonl(struct model *m, float temperature, FILE *in, const char *in_name,
                         FILE *out, struct err *e);
