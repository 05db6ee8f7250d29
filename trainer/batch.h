// Packed training batches: sequences laid end to end with per-token targets
// and a loss mask, as model_forward takes them.
#pragma once

#include <stdint.h>

#include "core/err.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"

struct packed_batch {
    int n_seqs, n_tokens; // B, N
    int cap_seqs, cap_tokens;
    int32_t *tokens;     // (N)
    int32_t *targets;    // (N) next token, -1 at each sequence's end
    uint8_t *mask;       // (N) 1 where the target is a response token
    int32_t *cu_seqlens; // (B + 1)
    int n_truncated;     // sequences cut at max_len
};

void packed_batch_init(struct packed_batch *b, int cap_seqs, int cap_tokens);
void packed_batch_free(struct packed_batch *b);
void packed_batch_clear(struct packed_batch *b);

// Appends prompt + response (the response tokens are the loss targets), cut
// to max_len tokens. Returns the number of response targets kept.
int packed_batch_add(struct packed_batch *b, const int32_t *prompt, int n_prompt,
                     const int32_t *response, int n_response, int max_len);

// Micro-batch [s0, s1) of b: writes its sequence offsets, relative to its
// first token, into cu (s1 - s0 + 1) and returns that first token's index.
int packed_batch_micro(const struct packed_batch *b, int s0, int s1, int32_t *cu);

// The response tokens of one SFT example: encode(text) followed by stop_id.
int sft_encode_response(const struct tokenizer *tok, const char *text, int32_t stop_id,
                        struct token_ids *out, struct err *e);
