// Where a step's scored groups come from. Colocated: this rank samples and
// scores its own share of the queries. Disaggregated: learner 0 broadcasts the
// weights to the rollout workers; rollout worker j samples query slice j and
// sends it to reward worker j mod W; reward workers score and send each
// learner the part of slice j it owns; learners take the slices in j order,
// so the assembled batch does not depend on message timing.
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/log.h"
#include "model/ckpt.h"
#include "trainer/grpo_dist.h"
#include "trainer/setup.h"

// Tags of the point-to-point messages; the payload is a packed scored_groups.
enum { TAG_SIZE = 1 << 20, TAG_DATA = 2 << 20 };

static int mpi_fail(struct err *e, const char *what, int code) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, msg, &len);
    return err_internal(e, "%s failed: %s", what, msg);
}

static int send_groups(const struct scored_groups *s, int dest, int tag, struct err *e) {
    size_t n;
    void *buf = scored_groups_pack(s, &n);
    uint64_t n64 = n;
    int rc = MPI_Send(&n64, 1, MPI_UINT64_T, dest, TAG_SIZE + tag, MPI_COMM_WORLD);
    if (rc == MPI_SUCCESS)
        rc = MPI_Send(buf, (int)n, MPI_BYTE, dest, TAG_DATA + tag, MPI_COMM_WORLD);
    free(buf);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(e, "MPI_Send", rc);
}

static int recv_groups(struct scored_groups *s, int source, int tag, struct err *e) {
    uint64_t n;
    int rc =
        MPI_Recv(&n, 1, MPI_UINT64_T, source, TAG_SIZE + tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return mpi_fail(e, "MPI_Recv", rc);
    if (n > (uint64_t)INT32_MAX)
        return err_internal(e, "scored groups message of %llu bytes", (unsigned long long)n);
    void *buf = xmalloc(n ? n : 1);
    rc = MPI_Recv(buf, (int)n, MPI_BYTE, source, TAG_DATA + tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    int out = rc == MPI_SUCCESS ? scored_groups_unpack(s, buf, n, e) : mpi_fail(e, "MPI_Recv", rc);
    free(buf);
    return out;
}

int grpo_setup(struct grpo *g, struct err *e) {
    struct run *r = g->r;
    struct comm_world *w = r->world;
    const struct config *cfg = &r->cfg;
    g->sync = MPI_COMM_NULL;
    g->rows = xcalloc((size_t)cfg->grpo.queries_per_step, sizeof *g->rows);
    if (w->placement == PLACE_DISAGGREGATED) {
        int in_sync = w->rank == 0 || w->is_rollout;
        if (MPI_Comm_split(MPI_COMM_WORLD, in_sync ? 0 : MPI_UNDEFINED, w->rank, &g->sync) !=
            MPI_SUCCESS)
            return err_internal(e, "MPI_Comm_split for weight sync failed");
    }
    if (w->is_learner) {
        g->micro = (int)cfg->grpo.micro_batch_seqs;
        int max_len = r->policy->shape.max_pos;
        struct model_acts_cfg ac = {.n_tokens_max = g->micro * max_len,
                                    .is_recompute = cfg->model.activation_checkpointing};
        TRY(model_acts_create(r->policy, &ac, &g->acts, e));
        size_t n = (size_t)ac.n_tokens_max;
        g->buf.logp = xcalloc(n, sizeof(float));
        g->buf.entropy = xcalloc(n, sizeof(float));
        g->buf.dlogp = xcalloc(n, sizeof(float));
        g->buf.dentropy = xcalloc(n, sizeof(float));
    }
    if (w->is_rollout) {
        struct rollout_cfg rc;
        rollout_cfg_from_config(&rc, &cfg->rollout);
        rc.plan_prompt_tokens = (int)cfg->data.max_prompt_tokens;
        TRY(rollout_engine_create(r->policy, r->tok, r->chat, &rc, &r->ledger, &g->engine, e));
        if (w->rank == 0 || (w->rollout.rank == 0 && w->placement == PLACE_DISAGGREGATED))
            rollout_plan_print(rollout_engine_plan(g->engine), &rc, stderr);
    }
    if (w->is_reward) {
        TRY(trainer_make_verifier(cfg, &g->verifier, e));
        reward_shaping_opts_default(&g->shaping);
        const struct reward_section *rw = &cfg->reward;
        g->shaping.mode = (enum reward_shaping_mode)rw->shaping; // same order as the schema
        g->shaping.alpha = rw->rm_alpha;
        g->shaping.w_v = rw->w_v;
        g->shaping.w_m = rw->w_m;
        g->shaping.has_overlong_penalty = rw->overlong_buffer_tokens > 0;
        g->shaping.overlong_max_tokens = (int)cfg->rollout.max_new_tokens;
        g->shaping.overlong_buffer_tokens = (int)rw->overlong_buffer_tokens;
        g->shaping.overlong_factor = rw->overlong_factor;
        g->shaping.format_penalty = rw->format_penalty;
        TRY(reward_shaping_opts_check(&g->shaping, e));
        if (cfg->reward.rm_path[0])
            TRY(trainer_open_rm(cfg, r->be, &r->ledger, r->tok, r->policy->shape.max_pos,
                                &g->rm_model, &g->rm, e));
    }
    size_t n_rows = r->train->n_rows;
    g->gold = xcalloc(n_rows, sizeof *g->gold);
    for (size_t i = 0; i < n_rows; i++) g->gold[i] = dataset_gold(r->train, i);
    return 0;
}

void grpo_teardown(struct grpo *g) {
    model_acts_destroy(g->r->policy, &g->acts);
    rollout_engine_destroy(&g->engine);
    reward_verifier_destroy(&g->verifier);
    reward_rm_destroy(&g->rm);
    model_destroy(&g->rm_model);
    if (g->sync != MPI_COMM_NULL) MPI_Comm_free(&g->sync);
    free(g->gold);
    free(g->rows);
}

// Sample G responses for the global batch's queries [lo, hi).
static int rollout_slice(struct grpo *g, int round, size_t lo, size_t hi, struct scored_groups *out,
                         struct err *e) {
    struct run *r = g->r;
    int n = (int)(hi - lo);
    struct rollout_query *q = xcalloc((size_t)n + 1, sizeof *q);
    for (int i = 0; i < n; i++) {
        uint32_t p = g->rows[lo + (size_t)i];
        size_t n_ids;
        q[i].id = r->prompts->row[p];
        q[i].ids = prompt_set_ids(r->prompts, p, &n_ids);
        q[i].n_ids = (int)n_ids;
    }
    timer_start(&g->timers[GRPO_T_ROLLOUT]);
    // Refill rounds (grpo.resample_zero_variance) sample under their own key, so a query
    // drawn again in the same step gets new responses.
    int64_t key = r->step + ((int64_t)round << 48);
    int rc = rollout_generate(g->engine, q, n, (int)r->cfg.rollout.group_size, key,
                              (uint64_t)r->cfg.run.seed, &out->ro, e);
    out->seconds_rollout = timer_stop(&g->timers[GRPO_T_ROLLOUT]);
    out->version = xmalloc(((size_t)n + 1) * sizeof *out->version);
    for (int i = 0; i < n; i++) out->version[i] = r->step; // the weights synced for this step
    free(q);
    return rc;
}

static int score(struct grpo *g, struct scored_groups *s, struct err *e) {
    struct run *r = g->r;
    const char **gold = xcalloc((size_t)s->ro.n_queries + 1, sizeof *gold);
    for (int q = 0; q < s->ro.n_queries; q++) gold[q] = g->gold[s->ro.query_id[q]];
    timer_start(&g->timers[GRPO_T_REWARD]);
    float *r_m = NULL;
    int rc = 0;
    if (g->rm) { // r_m of (prompt, response) for every sample
        r_m = xcalloc((size_t)s->ro.n_samples + 1, sizeof *r_m);
        rc = trainer_score_rollout_rm(g->rm, &s->ro, r_m, e);
    }
    if (rc == 0) rc = scored_groups_score(s, r->tok, g->verifier, &g->shaping, gold, r_m, e);
    free(r_m);
    s->seconds_reward = timer_stop(&g->timers[GRPO_T_REWARD]);
    free(gold);
    return rc;
}

// Learner 0's weights to every rollout worker, tagged with the step.
static int sync_weights(struct grpo *g, struct err *e) {
    if (g->sync == MPI_COMM_NULL) return 0;
    struct run *r = g->r;
    timer_start(&g->timers[GRPO_T_SYNC]);
    int64_t version = r->step;
    int rc = MPI_Bcast(&version, 1, MPI_INT64_T, 0, g->sync);
    if (rc == MPI_SUCCESS && version != r->step)
        return err_internal(e, "weight sync: learner 0 is at step %lld, this rank at %lld",
                            (long long)version, (long long)r->step);
    struct comm_group sg = {.comm = g->sync};
    MPI_Comm_rank(g->sync, &sg.rank);
    MPI_Comm_size(g->sync, &sg.size);
    if (rc != MPI_SUCCESS) return mpi_fail(e, "MPI_Bcast", rc);
    TRY(run_bcast_params(r, &sg, 0, e)); // host-staged on a device backend
    timer_stop(&g->timers[GRPO_T_SYNC]);
    return 0;
}

static int collect_disaggregated(struct grpo *g, int round, struct scored_groups *out,
                                 struct err *e) {
    struct run *r = g->r;
    struct comm_world *w = r->world;
    size_t Q = (size_t)r->cfg.grpo.queries_per_step;
    int L = w->placement == PLACE_DISAGGREGATED ? (int)r->cfg.cluster.learners : 0;
    int R = (int)r->cfg.cluster.rollout_workers, W = (int)r->cfg.cluster.reward_workers;
    if (round == 0) TRY(sync_weights(g, e));
    if (w->is_rollout) {
        int j = w->rollout.rank;
        size_t lo, hi;
        data_shard_range(Q, R, j, &lo, &hi);
        struct scored_groups s = {0};
        int rc = rollout_slice(g, round, lo, hi, &s, e);
        if (rc == 0) rc = send_groups(&s, L + R + j % W, j, e);
        scored_groups_free(&s);
        TRY(rc);
    }
    if (w->is_reward) {
        for (int j = w->reward.rank; j < R; j += W) {
            struct scored_groups s = {0};
            size_t lo, hi;
            data_shard_range(Q, R, j, &lo, &hi);
            int rc = recv_groups(&s, L + j, j, e);
            if (rc == 0) rc = score(g, &s, e);
            for (int l = 0; rc == 0 && l < L; l++) {
                size_t a, b;
                data_shard_range(Q, L, l, &a, &b);
                size_t q0 = a > lo ? a : lo, q1 = b < hi ? b : hi;
                if (q1 < q0) q1 = q0;
                struct scored_groups part;
                scored_groups_slice(&part, &s, (int)(q0 - lo), (int)(q1 - lo));
                rc = send_groups(&part, l, j, e);
                scored_groups_free(&part);
            }
            scored_groups_free(&s);
            TRY(rc);
        }
    }
    if (w->is_learner) {
        for (int j = 0; j < R; j++) {
            struct scored_groups part = {0};
            TRY(recv_groups(&part, L + R + j % W, j, e));
            scored_groups_append(out, &part);
            scored_groups_free(&part);
        }
        g->timers[GRPO_T_ROLLOUT].total_s += out->seconds_rollout;
        g->timers[GRPO_T_REWARD].total_s += out->seconds_reward;
    }
    return 0;
}

// Learners train on-policy: every group must come from the weights of this step.
static int check_versions(const struct grpo *g, const struct scored_groups *s, struct err *e) {
    for (int q = 0; q < s->ro.n_queries; q++)
        if (s->version[q] != g->r->step)
            return err_internal(e,
                                "a group of query %lld was generated by weights of step %lld "
                                "during step %lld",
                                (long long)s->ro.query_id[q], (long long)s->version[q],
                                (long long)g->r->step);
    return 0;
}

int grpo_collect(struct grpo *g, int round, struct scored_groups *out, struct err *e) {
    struct run *r = g->r;
    struct comm_world *w = r->world;
    size_t Q = (size_t)r->cfg.grpo.queries_per_step;
    // Every rank draws the same global batch, so the cursors stay in step.
    data_sampler_next(r->sampler, &r->cursor, Q, g->rows);
    uint64_t h = comm_hash_bytes(g->rows, Q * sizeof *g->rows) ^ (uint64_t)r->step;
    g->batch_hash = round == 0 ? h : g->batch_hash * 31 + h;
    if (w->placement == PLACE_DISAGGREGATED) {
        TRY(collect_disaggregated(g, round, out, e));
        return w->is_learner ? check_versions(g, out, e) : 0;
    }
    size_t lo, hi;
    data_shard_range(Q, w->size, w->rank, &lo, &hi);
    TRY(rollout_slice(g, round, lo, hi, out, e));
    return score(g, out, e);
}
