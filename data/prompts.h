// Prompt token ids for every row of a data set, encoded once at start-up:
// the chat template applied to each question, prompts longer than
// data.max_prompt_tokens left out (with one warning giving the count).
//
// Sample over prompt_set rows (data_sampler_create(p->n_prompts, ...)), so
// skipped rows never take a place in an epoch; p->row maps back to the data
// set (question, gold answer, file line).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "data/dataset.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"

struct prompt_set {
    size_t n_prompts;
    size_t n_skipped_long; // rows whose prompt exceeded max_prompt_tokens
    uint32_t *row;         // (n_prompts) data set row of each prompt
    uint64_t *off;         // (n_prompts + 1) offsets into ids
    int32_t *ids;          // all prompts' ids, one after another
};

// Errors (ERR_USER): a question the tokenizer refuses (invalid UTF-8), named
// by file and line; no prompt within max_prompt_tokens (> 0).
int prompt_set_build(const struct dataset *d, const char *path, const struct tokenizer *tok,
                     const struct chat_template *t, int64_t max_prompt_tokens,
                     struct prompt_set **out, struct err *e);
void prompt_set_destroy(struct prompt_set **p);

static inline const int32_t *prompt_set_ids(const struct prompt_set *p, size_t i,
                                            size_t *n_tokens) {
    *n_tokens = (size_t)(p->off[i + 1] - p->off[i]);
    return p->ids + p->off[i];
}
