// The GRPO step: rollouts, rewards, advantages, clipped policy-gradient updates.
#include "trainer/grpo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/log.h"
#include "core/timer.h"
#include "trainer/batch.h"
#include "trainer/grpo_dist.h"
#include "trainer/grpo_loss.h"
#include "trainer/scored.h"

static void buffers_grow(struct grpo_buffers *b, int n_seqs, int n_tokens) {
    // (An empty first batch, every group filtered, still needs the arrays.)
    if (n_tokens > b->cap_tokens || n_seqs > b->batch.cap_seqs || !b->batch.cu_seqlens) {
        packed_batch_free(&b->batch);
        int cs = n_seqs > b->batch.cap_seqs ? n_seqs : b->batch.cap_seqs;
        int ct = n_tokens > b->cap_tokens ? n_tokens : b->cap_tokens;
        packed_batch_init(&b->batch, cs, ct);
        b->cap_tokens = ct;
        b->logp_old = xrealloc(b->logp_old, (size_t)ct * sizeof(float));
        b->logp_ref = xrealloc(b->logp_ref, (size_t)ct * sizeof(float));
        b->adv_seq = xrealloc(b->adv_seq, (size_t)cs * sizeof(float));
    }
}

static void buffers_free(struct grpo_buffers *b) {
    packed_batch_free(&b->batch);
    free(b->logp_old), free(b->logp_ref), free(b->adv_seq);
    free(b->logp), free(b->entropy), free(b->dlogp), free(b->dentropy);
    memset(b, 0, sizeof *b);
}

// Sums of a step, over all learners (one allreduce of this struct as doubles).
struct step_sums {
    double n_seqs, n_tokens; // kept sequences and their response tokens (loss counts)
    double pg, kl, entropy, ratio, clip_low, clip_high, n_loss_tokens, loss;
    double n_zero_var_groups, n_groups;
    double resp_len_sum, resp_len_max, n_truncated, n_samples;
    double reward_sum, reward_sq, r_v_sum, r_m_sum, n_no_answer, n_correct, overlong_sum;
};
#define N_SUMS (sizeof(struct step_sums) / sizeof(double))

// Lay out the kept samples of s (zero-variance groups dropped when asked) as
// packed sequences, with their rollout log-probs and advantages.
static void build_batch(struct grpo *g, const struct scored_groups *s, const float *adv,
                        const uint8_t *zero_var, int g0, int g1, struct grpo_buffers *b) {
    const struct rollout_result *ro = &s->ro;
    int G = ro->G, n_seqs = 0, n_tokens = 0;
    for (int q = g0; q < g1; q++) {
        if (zero_var[q] && g->r->cfg.grpo.filter_zero_variance) continue;
        int64_t np = ro->prompt_off[q + 1] - ro->prompt_off[q];
        for (int j = 0; j < G; j++) {
            int i = q * G + j;
            n_tokens += (int)(np + ro->resp_off[i + 1] - ro->resp_off[i]);
            n_seqs++;
        }
    }
    buffers_grow(b, n_seqs, n_tokens);
    packed_batch_clear(&b->batch);
    for (int q = g0; q < g1; q++) {
        if (zero_var[q] && g->r->cfg.grpo.filter_zero_variance) continue;
        const int32_t *prompt = ro->prompt_ids + ro->prompt_off[q];
        int np = (int)(ro->prompt_off[q + 1] - ro->prompt_off[q]);
        for (int j = 0; j < G; j++) {
            int i = q * G + j;
            int64_t a = ro->resp_off[i];
            int nr = (int)(ro->resp_off[i + 1] - a);
            int t0 = b->batch.n_tokens;
            b->adv_seq[b->batch.n_seqs] = adv[i];
            packed_batch_add(&b->batch, prompt, np, ro->resp_ids + a, nr, INT32_MAX);
            // Token t predicts t + 1: the response's k-th id is predicted at np - 1 + k.
            for (int t = 0; t < np + nr; t++) b->logp_old[t0 + t] = 0.0f;
            for (int k = 0; k < nr; k++) b->logp_old[t0 + np - 1 + k] = ro->logprob_model[a + k];
        }
    }
}

// log pi_ref of every target of the batch (the frozen reference model).
static int reference_logprobs(struct grpo *g, struct grpo_buffers *b, struct err *e) {
    struct packed_batch *pb = &b->batch;
    for (int s0 = 0; s0 < pb->n_seqs; s0 += g->micro) {
        int s1 = s0 + g->micro < pb->n_seqs ? s0 + g->micro : pb->n_seqs;
        int32_t cu[s1 - s0 + 1];
        int t0 = packed_batch_micro(pb, s0, s1, cu);
        TRY(model_forward(g->r->ref, g->acts, pb->tokens + t0, pb->targets + t0, cu, s1 - s0,
                          b->logp_ref + t0, b->entropy, e));
    }
    return 0;
}

// One optimiser step on the batch: micro-batched forward/backward of the GRPO loss.
static int update(struct grpo *g, struct grpo_buffers *b, const double *global,
                  struct step_sums *sums, double *gnorm, struct err *e) {
    struct run *r = g->r;
    const struct grpo_section *c = &r->cfg.grpo;
    struct grpo_loss_opts o = {.clip_low = c->clip_low,
                               .clip_high = c->clip_high,
                               .kl_coef = r->ref ? c->kl_coef : 0.0,
                               .kl_estimator = c->kl_estimator,
                               .entropy_coef = c->entropy_coef,
                               .loss_agg = c->loss_agg,
                               .n_seqs_global = global[0],
                               .n_tokens_global = global[1],
                               .token_sum_norm = (double)r->cfg.rollout.max_new_tokens};
    struct grpo_loss_stats st = {0};
    struct packed_batch *pb = &b->batch;
    model_zero_grads(r->policy);
    for (int s0 = 0; s0 < pb->n_seqs; s0 += g->micro) {
        int s1 = s0 + g->micro < pb->n_seqs ? s0 + g->micro : pb->n_seqs;
        int32_t cu[s1 - s0 + 1];
        int t0 = packed_batch_micro(pb, s0, s1, cu);
        TRY(model_forward(r->policy, g->acts, pb->tokens + t0, pb->targets + t0, cu, s1 - s0,
                          b->logp, b->entropy, e));
        grpo_loss(b->dlogp, c->entropy_coef != 0.0 ? b->dentropy : NULL, &st, b->logp,
                  b->logp_old + t0, r->ref ? b->logp_ref + t0 : NULL, b->entropy, pb->mask + t0, cu,
                  s1 - s0, b->adv_seq + s0, &o);
        TRY(model_backward(r->policy, g->acts, b->dlogp,
                           c->entropy_coef != 0.0 ? b->dentropy : NULL, e));
    }
    TRY(run_allreduce_grads(r, e));
    *gnorm = run_optimizer_step(r);
    sums->pg += st.pg_sum;
    sums->kl += st.kl_sum;
    sums->entropy += st.entropy_sum;
    sums->ratio += st.ratio_sum;
    sums->clip_low += st.clip_low_count;
    sums->clip_high += st.clip_high_count;
    sums->n_loss_tokens += st.n_tokens;
    sums->loss += st.loss;
    return 0;
}

// ppo_epochs passes over the learner's groups, split into mini-batches.
static int learn(struct grpo *g, const struct scored_groups *s, struct step_sums *sums,
                 double *gnorm, struct err *e) {
    struct run *r = g->r;
    const struct rollout_result *ro = &s->ro;
    int n_groups = ro->n_queries, G = ro->G;
    float *adv = xmalloc(((size_t)ro->n_samples + 1) * sizeof *adv);
    uint8_t *zero_var = xmalloc((size_t)n_groups + 1);
    struct grpo_adv_opts ao = {.std_norm = r->cfg.grpo.std_norm,
                               .std_kind = r->cfg.grpo.std_kind,
                               .eps = r->cfg.grpo.adv_eps};
    grpo_advantages(adv, zero_var, s->reward, n_groups, G, &ao);
    int64_t Q = r->cfg.grpo.queries_per_step, M = r->cfg.grpo.mini_batch_queries;
    int n_mini = M > 0 ? (int)(Q / M) : 1;
    int rc = 0;
    for (int epoch = 0; epoch < r->cfg.grpo.ppo_epochs; epoch++) {
        for (int k = 0; k < n_mini; k++) {
            size_t g0, g1;
            data_shard_range((size_t)n_groups, n_mini, k, &g0, &g1);
            build_batch(g, s, adv, zero_var, (int)g0, (int)g1, &g->buf);
            if (r->ref) TRY_FAIL(rc, reference_logprobs(g, &g->buf, e));
            double global[2] = {g->buf.batch.n_seqs, 0};
            for (int t = 0; t < g->buf.batch.n_tokens; t++) global[1] += g->buf.batch.mask[t];
            if (epoch == 0) sums->n_seqs += global[0], sums->n_tokens += global[1];
            TRY_FAIL(rc, comm_allreduce_sum_f64(&r->world->learners, global, 2, e));
            if (global[0] == 0) continue; // every group of the mini-batch had zero variance
            TRY_FAIL(rc, update(g, &g->buf, global, sums, gnorm, e));
        }
    }
fail:
    free(adv);
    free(zero_var);
    return rc;
}

// Rollout and reward statistics of every group generated in the step (kept or not).
static void add_rollout_sums(const struct scored_groups *s, struct step_sums *sums) {
    const struct rollout_result *ro = &s->ro;
    for (int q = 0; q < ro->n_queries; q++)
        sums->n_zero_var_groups +=
            !grpo_group_has_variance(s->reward + (size_t)q * (size_t)ro->G, ro->G);
    sums->n_groups += ro->n_queries;
    for (int i = 0; i < ro->n_samples; i++) {
        double len = (double)(ro->resp_off[i + 1] - ro->resp_off[i]);
        sums->resp_len_sum += len;
        if (len > sums->resp_len_max) sums->resp_len_max = len;
        sums->n_truncated += ro->finish[i] == ROLLOUT_FINISH_LENGTH;
        sums->reward_sum += s->reward[i];
        sums->reward_sq += (double)s->reward[i] * s->reward[i];
    }
    for (int i = 0; i < ro->n_samples; i++) {
        sums->r_v_sum += (s->flags[i] & SCORED_CORRECT) != 0;
        sums->n_correct += (s->flags[i] & SCORED_CORRECT) != 0;
        sums->n_no_answer += (s->flags[i] & SCORED_NO_ANSWER) != 0;
        sums->r_m_sum += s->r_m[i];
        sums->overlong_sum += s->r_overlong[i];
    }
    sums->n_samples += ro->n_samples;
}

// Appends the groups of part with reward variance to kept, as long as fewer than
// queries_per_step groups are kept over all learners (n_kept, updated); the order is
// round, then learner, then query, so the batch does not depend on timing.
static int keep_varied_groups(struct grpo *g, struct scored_groups *kept,
                              const struct scored_groups *part, double *n_kept, struct err *e) {
    const struct comm_group *lg = &g->r->world->learners;
    const struct rollout_result *ro = &part->ro;
    double Q = (double)g->r->cfg.grpo.queries_per_step;
    double *counts = xcalloc((size_t)lg->size, sizeof *counts);
    for (int q = 0; q < ro->n_queries; q++)
        counts[lg->rank] +=
            grpo_group_has_variance(part->reward + (size_t)q * (size_t)ro->G, ro->G);
    int rc = comm_allreduce_sum_f64(lg, counts, (size_t)lg->size, e);
    double at = *n_kept, total = *n_kept; // at: this learner's first place in the batch
    for (int l = 0; l < lg->size; l++) total += counts[l], at += l < lg->rank ? counts[l] : 0;
    free(counts);
    TRY(rc);
    for (int q = 0; q < ro->n_queries && at < Q; q++) {
        if (!grpo_group_has_variance(part->reward + (size_t)q * (size_t)ro->G, ro->G)) continue;
        struct scored_groups one;
        scored_groups_slice(&one, part, q, q + 1);
        scored_groups_append(kept, &one);
        scored_groups_free(&one);
        at++;
    }
    *n_kept = total < Q ? total : Q;
    return 0;
}

// This learner's groups of the step. With grpo.resample_zero_variance (DAPO's dynamic
// sampling), groups whose rewards are all equal are dropped and new queries are drawn,
// round after round, until queries_per_step groups are kept or resample_max_rounds rounds
// have run; learner 0 tells every rank whether another round follows.
static int gather_groups(struct grpo *g, struct scored_groups *s, struct step_sums *sums,
                         int *n_rounds, struct err *e) {
    struct run *r = g->r;
    bool refill = r->cfg.grpo.resample_zero_variance;
    double n_kept = 0;
    for (int round = 0;; round++) {
        struct scored_groups part = {0};
        int rc = grpo_collect(g, round, refill ? &part : s, e); // rollouts + rewards
        if (rc == 0 && r->world->is_learner) {
            add_rollout_sums(refill ? &part : s, sums);
            if (refill) rc = keep_varied_groups(g, s, &part, &n_kept, e);
        }
        scored_groups_free(&part);
        TRY(rc);
        *n_rounds = round + 1;
        if (!refill) return 0;
        int more = n_kept < (double)r->cfg.grpo.queries_per_step &&
                   round + 1 < r->cfg.grpo.resample_max_rounds;
        if (MPI_Bcast(&more, 1, MPI_INT, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return err_internal(e, "MPI_Bcast of the refill decision failed");
        if (!more) return 0;
    }
}

static void log_step(struct grpo *g, const struct step_sums *s, double gnorm, double eval_acc,
                     int n_rounds, const struct timer *t) {
    struct run *r = g->r;
    // Per-token means are null (NaN) in a step that trained no token (every
    // group filtered for zero variance), not a misleading 0.
    double n = s->n_samples > 0 ? s->n_samples : 1,
           nt = s->n_loss_tokens > 0 ? s->n_loss_tokens : NAN;
    double mean = s->reward_sum / n, var = s->reward_sq / n - mean * mean;
    double total_s = t[GRPO_T_STEP].total_s;
    run_log_metrics(
        r, "reward_mean", mean, "reward_std", sqrt(var > 0 ? var : 0), "r_v_mean", s->r_v_sum / n,
        "r_m_mean", s->r_m_sum / n, "r_overlong_mean", s->overlong_sum / n, "accuracy",
        s->n_correct / n, "no_answer_rate", s->n_no_answer / n, "zero_var_frac",
        s->n_zero_var_groups / (s->n_groups ? s->n_groups : 1), "kl", s->kl / nt, "entropy",
        s->entropy / nt, "ratio_mean", s->ratio / nt, "clip_low_frac", s->clip_low / nt,
        "clip_high_frac", s->clip_high / nt, "pg_loss", s->pg / nt, "loss", s->loss, "grad_norm",
        gnorm, "lr", (double)lr_at(&r->sched, r->step - 1), "resp_len_mean", s->resp_len_sum / n,
        "resp_len_max", s->resp_len_max, "truncation_rate", s->n_truncated / n,
        "rollout_tokens_per_s",
        s->resp_len_sum / (t[GRPO_T_ROLLOUT].total_s > 0 ? t[GRPO_T_ROLLOUT].total_s : 1),
        "train_tokens_per_s",
        s->n_tokens * r->cfg.grpo.ppo_epochs /
            (t[GRPO_T_TRAIN].total_s > 0 ? t[GRPO_T_TRAIN].total_s : 1),
        "t_rollout", t[GRPO_T_ROLLOUT].total_s, "t_reward", t[GRPO_T_REWARD].total_s, "t_train",
        t[GRPO_T_TRAIN].total_s, "t_sync", t[GRPO_T_SYNC].total_s, "t_step", total_s,
        "eval_accuracy", eval_acc, "gen_rounds", (double)n_rounds, "train_seqs", s->n_seqs,
        "batch_hash", (double)(g->batch_hash & ((1ull << 52) - 1)), (const char *)NULL);
    if (r->world->rank == 0 &&
        (r->step % r->cfg.trainer.log_every == 0 || r->step == r->cfg.trainer.max_steps)) {
        double eta = total_s * (double)(r->cfg.trainer.max_steps - r->step);
        LOG_INFO("grpo step %lld/%lld  reward %.3f  acc %.3f  kl %.4f  entropy %.3f  len %.1f  "
                 "%.2fs/step  eta %.0fs",
                 (long long)r->step, (long long)r->cfg.trainer.max_steps, mean, s->n_correct / n,
                 s->kl / nt, s->entropy / nt, s->resp_len_sum / n, total_s, eta);
    }
}

static int grpo_step(struct grpo *g, struct err *e) {
    struct run *r = g->r;
    for (int i = 0; i < GRPO_N_TIMERS; i++) timer_reset(&g->timers[i]);
    timer_start(&g->timers[GRPO_T_STEP]);
    struct step_sums sums = {0};
    struct scored_groups s = {0};
    double gnorm = 0;
    int rc, n_rounds = 0;
    TRY_FAIL(rc, gather_groups(g, &s, &sums, &n_rounds, e));
    if (r->world->is_learner) {
        timer_start(&g->timers[GRPO_T_TRAIN]);
        TRY_FAIL(rc, learn(g, &s, &sums, &gnorm, e));
        timer_stop(&g->timers[GRPO_T_TRAIN]);
        double max_len = sums.resp_len_max; // a max, not a sum
        TRY_FAIL(rc, comm_allreduce_sum_f64(&r->world->learners, (double *)&sums, N_SUMS, e));
        TRY_FAIL(rc, comm_allreduce_max_f64(&r->world->learners, &max_len, 1, e));
        sums.resp_len_max = max_len;
    }
    r->step++;
    timer_stop(&g->timers[GRPO_T_STEP]);
    double eval_acc;
    TRY_FAIL(rc, run_eval_if_due(r, &eval_acc, e));
    log_step(g, &sums, gnorm, eval_acc, n_rounds, g->timers);
    if (r->n_nonfinite >= r->cfg.trainer.max_nonfinite_steps)
        rc = err_user(e,
                      "%lld consecutive steps with NaN/Inf gradients: stopping (the last good "
                      "checkpoint is intact)",
                      (long long)r->n_nonfinite);
fail:
    scored_groups_free(&s);
    return rc;
}

int grpo_train(struct run *r, struct err *e) {
    struct grpo g = {.r = r};
    int rc;
    TRY_FAIL(rc, grpo_setup(&g, e));
    while (r->step < r->cfg.trainer.max_steps) {
        TRY_FAIL(rc, grpo_step(&g, e));
        bool stop;
        TRY_FAIL(rc, run_end_step(r, &stop, e));
        if (stop) break;
    }
fail:
    buffers_free(&g.buf);
    grpo_teardown(&g);
    return rc;
}
