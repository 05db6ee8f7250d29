// Packing sequences into a training batch.
#include "trainer/batch.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"

void packed_batch_init(struct packed_batch *b, int cap_seqs, int cap_tokens) {
    memset(b, 0, sizeof *b);
    b->cap_seqs = cap_seqs;
    b->cap_tokens = cap_tokens;
    b->tokens = xcalloc((size_t)cap_tokens, sizeof *b->tokens);
    b->targets = xcalloc((size_t)cap_tokens, sizeof *b->targets);
    b->mask = xcalloc((size_t)cap_tokens, 1);
    b->cu_seqlens = xcalloc((size_t)cap_seqs + 1, sizeof *b->cu_seqlens);
}

void packed_batch_free(struct packed_batch *b) {
    free(b->tokens);
    free(b->targets);
    free(b->mask);
    free(b->cu_seqlens);
    memset(b, 0, sizeof *b);
}

void packed_batch_clear(struct packed_batch *b) {
    b->n_seqs = b->n_tokens = b->n_truncated = 0;
    b->cu_seqlens[0] = 0;
}

int packed_batch_add(struct packed_batch *b, const int32_t *prompt, int n_prompt,
                     const int32_t *response, int n_response, int max_len) {
    int n = n_prompt + n_response;
    if (n > max_len) {
        n = max_len;
        b->n_truncated++;
    }
    CHECK(b->n_seqs < b->cap_seqs && b->n_tokens + n <= b->cap_tokens, "packed batch overflow");
    int32_t *tok = b->tokens + b->n_tokens;
    int32_t *tgt = b->targets + b->n_tokens;
    uint8_t *mask = b->mask + b->n_tokens;
    int kept = 0;
    for (int t = 0; t < n; t++) tok[t] = t < n_prompt ? prompt[t] : response[t - n_prompt];
    for (int t = 0; t < n; t++) {
        tgt[t] = t + 1 < n ? tok[t + 1] : -1;
        mask[t] = t + 1 < n && t + 1 >= n_prompt; // predicts a response token
        kept += mask[t];
    }
    b->n_tokens += n;
    b->cu_seqlens[++b->n_seqs] = b->n_tokens;
    return kept;
}

int packed_batch_micro(const struct packed_batch *b, int s0, int s1, int32_t *cu) {
    int t0 = b->cu_seqlens[s0];
    for (int s = s0; s <= s1; s++) cu[s - s0] = b->cu_seqlens[s] - t0;
    return t0;
}

int sft_encode_response(const struct tokenizer *tok, const char *text, int32_t stop_id,
                        struct token_ids *out, struct err *e) {
    out->n = 0;
    TRY(tokenizer_encode(tok, text, strlen(text), out, e));
    token_ids_push(out, stop_id);
    return 0;
}
