// A training run: everything grpo sft and grpo train share. Built from the
// config (and a checkpoint when resuming): the compute backend, the policy and
// its AdamW state, the tokenizer and chat template, the training set with its
// shuffled, resumable cursor, the run directory and its metrics file.
//
// RUN_DIR = run.out_dir/run.name holds config.yaml (the effective config),
// metrics.jsonl and checkpoints/ (or trainer.checkpoint_dir).
#pragma once

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "comm/comm.h"
#include "core/config.h"
#include "data/dataset.h"
#include "data/prompts.h"
#include "data/sampler.h"
#include "model/model.h"
#include "model/optim.h"
#include "tokenizer/chat.h"
#include "tokenizer/tokenizer.h"

enum run_mode { RUN_SFT, RUN_GRPO };

struct run_eval;

struct run {
    struct config cfg; // owned copy of the effective config
    enum run_mode mode;
    struct comm_world *world; // borrowed
    struct backend *be;
    struct mem_ledger ledger;
    struct model *policy;
    struct adamw *opt;
    struct lr_schedule sched;
    struct tokenizer *tok;
    struct chat_template *chat;
    struct dataset *train;
    struct prompt_set *prompts;   // GRPO: chat-templated prompts of the training set
    struct data_sampler *sampler; // over the data set's rows (SFT) or prompts (GRPO)
    struct model *ref;            // GRPO with grpo.kl_coef > 0: the frozen reference model
    uint64_t ref_hash;            // its identity (hash of its parameters), kept in checkpoints
    struct data_cursor cursor;    // next query of the training order
    int64_t step;                 // optimiser steps done
    int64_t n_nonfinite;          // consecutive steps skipped for NaN/Inf
    char run_dir[2048], ckpt_dir[2048];
    FILE *metrics;                         // RUN_DIR/metrics.jsonl on world rank 0, else NULL
    float *comm_scratch;                   // (n_params) for the gradient allreduce
    volatile sig_atomic_t *stop_requested; // set by SIGINT/SIGTERM (borrowed, may be NULL)
    struct run_eval *eval;      // world rank 0, with trainer.eval_every (trainer/periodic_eval.c)
    int64_t fault_lo, fault_hi; // test hook: steps whose gradients are poisoned (0 = none)
};

// resume: NULL (start fresh; an existing checkpoint directory with
// checkpoints is an error), "auto" (latest checkpoint if any) or a path.
int run_create(const struct config *cfg, enum run_mode mode, const char *resume,
               struct comm_world *world, struct run **out, struct err *e);
void run_destroy(struct run **r);

// Save RUN_DIR/checkpoints/ckpt-<step>.h5 (world rank 0 writes; every rank
// returns after it is on disk) and apply trainer.keep_checkpoints.
int run_save_checkpoint(struct run *r, struct err *e);

// Sum gradients over the learners (deterministic, rank order). For tests of
// the NaN/Inf handling, GRPO_FAULT_NONFINITE_STEPS=A-B in the environment
// poisons the summed gradient of optimiser steps A..B (1-based).
int run_allreduce_grads(struct run *r, struct err *e);
// Broadcasts the policy's parameters from root over g (MPI on host memory: staged through the
// host when the model lives on a device, run.device cuda).
int run_bcast_params(struct run *r, const struct comm_group *g, int root, struct err *e);

// AdamW step at the scheduled learning rate; a non-finite gradient norm skips
// the update (weights untouched), is logged and counted in r->n_nonfinite
// (reset by a good step). Returns the gradient norm.
double run_optimizer_step(struct run *r);

// After each step: save a checkpoint every trainer.checkpoint_every steps, at
// the last step, and when any rank was asked to stop (SIGINT/SIGTERM); *stop
// is then true on every rank.
int run_end_step(struct run *r, bool *stop, struct err *e);

// Every trainer.eval_every steps (with data.eval_path), on world rank 0: one
// sample per problem of the first trainer.eval_problems held-out problems at
// the rollout settings; *accuracy is NaN on other steps and ranks.
int run_eval_if_due(struct run *r, double *accuracy, struct err *e);
void run_eval_destroy(struct run_eval **v);

// One JSON object per line into metrics.jsonl (rank 0); keys and values are
// given as pairs ("loss", 1.5, ...) after the step, ended by NULL.
void run_log_metrics(struct run *r, const char *first_key, ...);
