// The GRPO loop (design.md §2): rollouts of G responses per query, rewards
// from the verifier (and reward model), group-relative advantages, and
// ppo_epochs x mini-batches of clipped, KL-penalised policy-gradient updates.
//
// Colocated placement: every rank samples, scores and learns on its share of
// the step's queries; gradients are allreduced. Disaggregated placement:
// learner 0 broadcasts the weights to the rollout workers, rollout workers send
// their groups to reward workers, which send scored groups to the learners
// (trainer/grpo_dist.c).
#pragma once

#include "trainer/run.h"

int grpo_train(struct run *r, struct err *e);
