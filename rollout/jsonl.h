// `grpo generate`: the rollout engine over JSON lines.
//
// Input, one query per line: {"id": ID, "prompt": "question"} (rendered with the engine's chat
// template) or {"id": ID, "ids": [prompt token ids]} (used as they are). ID is an integer (it
// keys the random streams), a string (keyed by its 64-bit FNV-1a hash), or absent (the 0-based
// index of the query in the input).
// Output, one line per query, in input order:
//   {"id": ID, "samples": [{"ids": [...], "text": "...", "logprobs": [...],
//                           "sample_logprobs": [...], "finish": "stop"|"length"}, ...]}
// logprobs are under the model at temperature 1 (what `grpo logprobs` gives for the same ids),
// sample_logprobs under the distribution sampled from; text is present with a tokenizer.
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "rollout/rollout.h"

struct rollout_jsonl_opts {
    int G; // samples per query
    uint64_t seed;
    int64_t step;      // the GRPO step keying the streams (0 for plain generation)
    int batch_queries; // queries handed to the engine at once (results do not depend on it)
};

int rollout_generate_jsonl(struct rollout_engine *eng, const struct tokenizer *tok,
                           const struct rollout_jsonl_opts *o, FILE *in, const char *in_name,
                           FILE *out, struct err *e);
