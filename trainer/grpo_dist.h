// Private to the GRPO loop: its state, and how a step's scored groups reach
// the learners under each placement (colocated: in-process; disaggregated:
// weight broadcast, rollout -> reward -> learner messages).
#pragma once

#include <stdint.h>

#include "core/timer.h"
#include "trainer/batch.h"
#include "reward/reward.h"
#include "reward/rm.h"
#include "rollout/rollout.h"
#include "trainer/grpo.h"
#include "trainer/scored.h"

enum { GRPO_T_STEP, GRPO_T_SYNC, GRPO_T_ROLLOUT, GRPO_T_REWARD, GRPO_T_TRAIN, GRPO_N_TIMERS };

// Per-token arrays of one training batch (the learner's share of a step).
struct grpo_buffers {
    struct packed_batch batch; // prompt + response of every kept sample
    float *logp_old, *logp_ref, *adv_seq;
    float *logp, *entropy, *dlogp, *dentropy; // (micro-batch tokens)
    int cap_tokens;
};

struct grpo {
    struct run *r;
    int micro;                        // sequences per forward/backward
    struct model_acts *acts;          // learners: training activations
    struct rollout_engine *engine;    // rollout ranks
    struct reward_verifier *verifier; // reward ranks
    struct model *rm_model;           // reward ranks, with reward.rm_path
    struct reward_rm *rm;
    struct reward_shaping_opts shaping;
    const char **gold; // (n_rows of the data set) gold answers
    MPI_Comm sync;     // disaggregated: learner 0 + rollout workers
    uint32_t *rows;    // (queries_per_step) the step's global batch
    uint64_t batch_hash;
    struct timer timers[GRPO_N_TIMERS];
    struct grpo_buffers buf;
};

int grpo_setup(struct grpo *g, struct err *e);
void grpo_teardown(struct grpo *g);

// Draws the step's next queries_per_step queries and fills out with this learner's share
// of their scored groups (nothing on other ranks), by placement. Round 0 of a step syncs
// the weights; rounds 1, 2, ... refill groups dropped for zero variance.
int grpo_collect(struct grpo *g, int round, struct scored_groups *out, struct err *e);
