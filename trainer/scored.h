// Scored groups: the rollouts of a set of queries with the reward of every
// response. What rollout workers and reward workers hand to learners; flat
// arrays, so one message carries them between ranks.
#pragma once

#include <stdint.h>

#include "core/err.h"
#include "reward/reward.h"
#include "rollout/rollout.h"

enum { SCORED_CORRECT = 1, SCORED_NO_ANSWER = 2, SCORED_BUDGET = 4, SCORED_HAS_RM = 8 };

struct scored_groups {
    struct rollout_result ro; // queries, prompts, responses, log pi_old, finish reasons
    float *reward;            // (n_samples) shaped reward r (what the learner uses)
    float *r_m, *r_overlong;  // (n_samples) reward-model score, overlong penalty
    uint8_t *flags;           // (n_samples) SCORED_* bits of the verdict
    int64_t *version;         // (n_queries) weight version (step) that generated each group
    double seconds_rollout, seconds_reward; // time the workers spent on these groups
};

void scored_groups_free(struct scored_groups *s);

// Score every response of s->ro against the gold answers gold[g] of its
// queries (decoded with tok, special tokens left out); r_m (n_samples, may be
// NULL) are the reward model's scores, shaped with the verdicts.
int scored_groups_score(struct scored_groups *s, const struct tokenizer *tok,
                        struct reward_verifier *v, const struct reward_shaping_opts *shaping,
                        const char *const *gold, const float *r_m, struct err *e);

// Version of the wire format (docs/training.md, "Scored-groups messages"); a message of
// another version is refused.
#define SCORED_WIRE_VERSION 2

// Serialise into one malloc'd buffer / read back (the buffer is checked).
void *scored_groups_pack(const struct scored_groups *s, size_t *n_bytes);
int scored_groups_unpack(struct scored_groups *s, const void *buf, size_t n_bytes, struct err *e);

// dst = queries [q0, q1) of src (a deep copy).
void scored_groups_slice(struct scored_groups *dst, const struct scored_groups *src, int q0,
                         int q1);
// Append src's groups to dst (dst may be empty, zero-initialised); G must match.
void scored_groups_append(struct scored_groups *dst, const struct scored_groups *src);
