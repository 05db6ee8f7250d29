// The SFT loop: batch, forward/backward in micro-batches, allreduce, AdamW,
// metrics and checkpoints.
#include "trainer/sft.h"

#include <math.h>
#include <stdlib.h>

#include "core/check.h"
#include "core/log.h"
#include "core/timer.h"
#include "trainer/batch.h"

struct sft_ctx {
    struct run *r;
    struct model_acts *acts;
    struct packed_batch batch;
    struct token_ids prompt, response;
    uint32_t *rows; // (batch_seqs) global batch
    float *logprob, *entropy, *dlogprob;
    int micro, max_len;
};

// Tokenise this rank's share of the global batch into ctx->batch (all of it,
// micro-batches are slices). Returns the number of response targets.
static int build_share(struct sft_ctx *c, size_t lo, size_t hi, double *n_targets, struct err *e) {
    struct run *r = c->r;
    packed_batch_clear(&c->batch);
    *n_targets = 0;
    for (size_t i = lo; i < hi; i++) {
        uint32_t row = c->rows[i];
        c->prompt.n = 0;
        int rc =
            chat_encode_prompt(r->chat, r->tok, dataset_question(r->train, row), &c->prompt, e);
        if (rc == 0)
            rc = sft_encode_response(r->tok, dataset_gold(r->train, row), r->chat->stop_id,
                                     &c->response, e);
        if (rc < 0) return err_prefix(e, "%s:%u: ", r->cfg.data.train_path, r->train->line[row]);
        *n_targets += packed_batch_add(&c->batch, c->prompt.ids, (int)c->prompt.n, c->response.ids,
                                       (int)c->response.n, c->max_len);
    }
    return 0;
}

// Forward/backward over the share in micro-batches; returns Σ -logp of targets.
static int forward_backward(struct sft_ctx *c, double n_global, double *nll, struct err *e) {
    struct run *r = c->r;
    struct packed_batch *b = &c->batch;
    *nll = 0;
    for (int s0 = 0; s0 < b->n_seqs; s0 += c->micro) {
        int s1 = s0 + c->micro < b->n_seqs ? s0 + c->micro : b->n_seqs;
        int32_t cu[s1 - s0 + 1];
        int t0 = packed_batch_micro(b, s0, s1, cu), t1 = b->cu_seqlens[s1];
        TRY(model_forward(r->policy, c->acts, b->tokens + t0, b->targets + t0, cu, s1 - s0,
                          c->logprob, c->entropy, e));
        for (int t = 0; t < t1 - t0; t++) {
            int m = b->mask[t0 + t];
            *nll -= m ? c->logprob[t] : 0.0;
            c->dlogprob[t] = m ? (float)(-1.0 / n_global) : 0.0f;
        }
        TRY(model_backward(r->policy, c->acts, c->dlogprob, NULL, e));
    }
    return 0;
}

static int sft_step(struct sft_ctx *c, struct err *e) {
    struct run *r = c->r;
    struct timer t;
    timer_reset(&t);
    timer_start(&t);
    size_t B = (size_t)r->cfg.sft.batch_seqs, lo, hi;
    data_sampler_next(r->sampler, &r->cursor, B, c->rows);
    data_shard_range(B, r->world->learners.size, r->world->learners.rank, &lo, &hi);
    double counts[2]; // response targets, truncated sequences
    TRY(build_share(c, lo, hi, &counts[0], e));
    counts[1] = c->batch.n_truncated;
    TRY(comm_allreduce_sum_f64(&r->world->learners, counts, 2, e));
    if (counts[0] == 0)
        return err_user(e, "%s: a batch without response tokens", r->cfg.data.train_path);
    model_zero_grads(r->policy);
    double nll;
    TRY(forward_backward(c, counts[0], &nll, e));
    TRY(run_allreduce_grads(r, e));
    TRY(comm_allreduce_sum_f64(&r->world->learners, &nll, 1, e));
    float lr = lr_at(&r->sched, r->step);
    double gnorm = run_optimizer_step(r);
    r->step++;
    double seconds = timer_stop(&t);
    double loss = nll / counts[0], eval_acc;
    TRY(run_eval_if_due(r, &eval_acc, e));
    run_log_metrics(r, "loss", loss, "lr", (double)lr, "grad_norm", gnorm, "tokens", counts[0],
                    "truncated", counts[1], "train_tokens_per_s", counts[0] / seconds, "seconds",
                    seconds, "eval_accuracy", eval_acc, (const char *)NULL);
    if (r->world->rank == 0 &&
        (r->step % r->cfg.trainer.log_every == 0 || r->step == r->cfg.trainer.max_steps))
        LOG_INFO("sft step %lld/%lld  loss %.4f  lr %.3g  grad-norm %.3f  %.0f tok/s",
                 (long long)r->step, (long long)r->cfg.trainer.max_steps, loss, lr, gnorm,
                 counts[0] / seconds);
    if (r->n_nonfinite >= r->cfg.trainer.max_nonfinite_steps)
        return err_user(e,
                        "%lld consecutive steps with NaN/Inf gradients: stopping (the last good "
                        "checkpoint is intact)",
                        (long long)r->n_nonfinite);
    return 0;
}

int sft_train(struct run *r, struct err *e) {
    struct sft_ctx c = {.r = r};
    int rc = 0;
    size_t B = (size_t)r->cfg.sft.batch_seqs;
    int share = (int)((B + (size_t)r->world->learners.size - 1) / (size_t)r->world->learners.size);
    c.micro = r->cfg.sft.micro_batch_seqs > 0 && r->cfg.sft.micro_batch_seqs < share
                  ? (int)r->cfg.sft.micro_batch_seqs
                  : share;
    c.max_len = (int)r->cfg.model.max_seq_len;
    if (c.max_len > r->policy->shape.max_pos) c.max_len = r->policy->shape.max_pos;
    struct model_acts_cfg ac = {.n_tokens_max = c.micro * c.max_len,
                                .is_recompute = r->cfg.model.activation_checkpointing};
    TRY(model_acts_create(r->policy, &ac, &c.acts, e));
    packed_batch_init(&c.batch, share, share * c.max_len);
    c.rows = xcalloc(B, sizeof *c.rows);
    c.logprob = xcalloc((size_t)ac.n_tokens_max, sizeof(float));
    c.entropy = xcalloc((size_t)ac.n_tokens_max, sizeof(float));
    c.dlogprob = xcalloc((size_t)ac.n_tokens_max, sizeof(float));
    while (r->step < r->cfg.trainer.max_steps) {
        TRY_FAIL(rc, sft_step(&c, e));
        bool stop;
        TRY_FAIL(rc, run_end_step(r, &stop, e));
        if (stop) break;
    }
fail:
    free(c.rows);
    free(c.logprob);
    free(c.entropy);
    free(c.dlogprob);
    token_ids_free(&c.prompt);
    token_ids_free(&c.response);
    packed_batch_free(&c.batch);
    model_acts_destroy(r->policy, &c.acts);
    return rc;
}
