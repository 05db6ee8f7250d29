// Token samplers over one row of logits: temperature, top-k, top-p (nucleus), min-p and greedy,
// with the log-probability of the drawn token under the distribution actually sampled from and
// under the model itself (temperature 1, no truncation: what GRPO uses as log pi_old).
//
// With logits z (V), w_i = exp(z_i / T - max) restricted to the allowed ids i < n_allowed:
//   top-k  keeps the k largest w (ties: lower id first),
//   top-p  then keeps the shortest prefix of the kept ids sorted by w (desc, id asc) whose mass
//          reaches top_p times the kept mass (at least one id),
//   min-p  then keeps the ids with w_i >= min_p * max w,
// and the token is the first kept id (walked in a fixed order) whose cumulative weight exceeds
// u * (kept mass), u uniform in [0, 1). T = 0 is greedy: the lowest id of maximal logit, with a
// sampled log-probability of 0 (a point mass).
#pragma once

#include <stdint.h>

struct sampler_cfg {
    float temperature; // 0 = greedy
    float top_p;       // 1 = off
    float min_p;       // 0 = off
    int top_k;         // 0 = off
};

// Scratch of one row: V floats and V ids (sampler_scratch_floats/ids of them).
struct sampler_scratch {
    float *w;     // (V)
    int32_t *ids; // (V)
};

struct sampler_out {
    int32_t token;
    float logprob;       // log p(token) under the truncated, tempered distribution sampled from
    float logprob_model; // log softmax(z)[token]: the model at temperature 1, all V ids
};

// Checks ranges (temperature >= 0, top_p in (0, 1], min_p in [0, 1], top_k >= 0); a user
// error naming the value.
struct err;
int sampler_cfg_check(const struct sampler_cfg *c, struct err *e);

// Draws one token from logits z (V); ids >= n_allowed (1 <= n_allowed <= V) are never drawn
// (a tokenizer smaller than the model's vocabulary). u in [0, 1). Pure: the same inputs give
// the same output.
void sampler_sample(const struct sampler_cfg *c, const float *z, int V, int n_allowed, double u,
                    struct sampler_scratch *s, struct sampler_out *out);
