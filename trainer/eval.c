// Held-out evaluation: sampling, verification, reward-model scores, and the
// per-problem tally (trainer/eval_metrics.c).
#include "trainer/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/timer.h"
#include "trainer/setup.h"

static void write_problem(FILE *f, int64_t id, const char *gold, const struct eval_problem *p,
                          int k, const struct eval_outcome *oc) {
    fprintf(f, "{\"id\": %lld, \"gold\": ", (long long)id);
    tokenizer_write_json_string(f, gold, strlen(gold));
    fprintf(f, ", \"correct\": %d, \"pass\": %s, \"maj\": %s", oc->n_correct,
            oc->n_correct > 0 ? "true" : "false", oc->is_maj_correct ? "true" : "false");
    if (p->rm_score)
        fprintf(f, ", \"rm_best\": %d, \"rm\": %s", oc->rm_index,
                oc->is_rm_correct ? "true" : "false");
    fputs(", \"answers\": [", f);
    for (int j = 0; j < k; j++) {
        if (j) fputs(", ", f);
        tokenizer_write_json_string(f, p->verdicts[j].extracted, strlen(p->verdicts[j].extracted));
    }
    fputs("], \"verdicts\": [", f);
    for (int j = 0; j < k; j++) fprintf(f, "%s%d", j ? ", " : "", p->verdicts[j].is_correct);
    fputs("], \"lengths\": [", f);
    for (int j = 0; j < k; j++) fprintf(f, "%s%lld", j ? ", " : "", (long long)p->n_tokens[j]);
    fputs("]", f);
    if (p->rm_score) {
        fputs(", \"rm_scores\": [", f);
        for (int j = 0; j < k; j++) { // JSON has no NaN: a score that is none is null
            if (j) fputs(", ", f);
            if (isfinite(p->rm_score[j]))
                fprintf(f, "%.6g", (double)p->rm_score[j]);
            else
                fputs("null", f);
        }
        fputs("]", f);
    }
    fputs("}\n", f);
}

// Verifies (and with a reward model scores) one rollout batch and adds its problems.
static int tally_batch(const struct rollout_result *ro, const struct tokenizer *tok,
                       const struct dataset *d, const struct eval_scorers *s, struct text_buf *text,
                       struct reward_verdict *vs, int64_t *len, float *rm, FILE *per_problem,
                       struct eval_tally *t, struct err *e) {
    int k = ro->G;
    if (s->rm) TRY(trainer_score_rollout_rm(s->rm, ro, rm, e));
    for (int i = 0; i < ro->n_queries; i++) {
        const char *gold = dataset_gold(d, (size_t)ro->query_id[i]);
        for (int j = 0; j < k; j++) {
            int64_t a = ro->resp_off[i * k + j], b = ro->resp_off[i * k + j + 1];
            text->n = 0;
            TRY(tokenizer_decode(tok, ro->resp_ids + a, (size_t)(b - a), 1, text, e));
            reward_verify(s->verifier, text->n ? text->s : "", text->n, gold, strlen(gold), NULL,
                          &vs[j]);
            len[j] = b - a;
        }
        struct eval_problem p = {.verdicts = vs,
                                 .rm_score = s->rm ? rm + (size_t)i * (size_t)k : NULL,
                                 .n_tokens = len,
                                 .finish = ro->finish + (size_t)i * (size_t)k};
        struct eval_outcome oc;
        eval_tally_add(t, s->equiv, &p, &oc);
        if (per_problem) write_problem(per_problem, ro->query_id[i], gold, &p, k, &oc);
    }
    return 0;
}

int eval_run(struct rollout_engine *eng, const struct tokenizer *tok, const struct dataset *d,
             const struct prompt_set *p, const struct eval_scorers *s, const struct eval_opts *o,
             FILE *per_problem, struct eval_result *out, struct err *e) {
    memset(out, 0, sizeof *out);
    struct timer timer;
    timer_reset(&timer);
    timer_start(&timer);
    int64_t n = (int64_t)p->n_prompts;
    if (o->max_problems > 0 && o->max_problems < n) n = o->max_problems;
    int k = o->k, B = o->batch_queries > 0 ? o->batch_queries : 64;
    struct rollout_query *q = xcalloc((size_t)B, sizeof *q);
    struct reward_verdict *vs = xcalloc((size_t)k, sizeof *vs);
    int64_t *len = xcalloc((size_t)k, sizeof *len);
    float *rm = s->rm ? xcalloc((size_t)B * (size_t)k, sizeof *rm) : NULL;
    struct text_buf text = {0};
    struct eval_tally t;
    eval_tally_init(&t, k, s->rm != NULL);
    int rc = 0;
    for (int64_t q0 = 0; q0 < n && rc == 0; q0 += B) {
        int nq = (int)(n - q0 < B ? n - q0 : B);
        for (int i = 0; i < nq; i++) {
            size_t n_ids;
            q[i].id = p->row[q0 + i];
            q[i].ids = prompt_set_ids(p, (size_t)(q0 + i), &n_ids);
            q[i].n_ids = (int)n_ids;
        }
        struct rollout_result res = {0};
        rc = rollout_generate(eng, q, nq, k, 0, o->seed, &res, e);
        if (rc == 0) rc = tally_batch(&res, tok, d, s, &text, vs, len, rm, per_problem, &t, e);
        rollout_result_free(&res);
    }
    text_buf_free(&text);
    free(rm);
    free(len);
    free(vs);
    free(q);
    if (rc < 0) return rc;
    eval_tally_result(&t, out);
    out->seconds = timer_stop(&timer);
    return 0;
}
