// Held-out evaluation: sampling, verification, accuracy, pass@k and maj@k.
#include "trainer/eval.h"

#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/timer.h"

// One problem's k verdicts -> (correct samples, pass, majority correct).
static void tally(struct reward_verdict *vs, int k, int *n_correct, int *pass, int *maj) {
    *n_correct = 0;
    int best = -1, best_count = 0;
    for (int j = 0; j < k; j++) {
        *n_correct += vs[j].is_correct;
        if (vs[j].is_no_answer) continue;
        int count = 0;
        for (int i = 0; i < k; i++)
            count += !vs[i].is_no_answer && strcmp(vs[i].extracted, vs[j].extracted) == 0;
        if (count > best_count) best = j, best_count = count;
    }
    *pass = *n_correct > 0;
    *maj = best >= 0 && vs[best].is_correct;
}

int eval_run(struct rollout_engine *eng, const struct tokenizer *tok, const struct dataset *d,
             const struct prompt_set *p, struct reward_verifier *v, const struct eval_opts *o,
             FILE *per_problem, struct eval_result *out, struct err *e) {
    memset(out, 0, sizeof *out);
    struct timer t;
    timer_reset(&t);
    timer_start(&t);
    int64_t n = (int64_t)p->n_prompts;
    if (o->max_problems > 0 && o->max_problems < n) n = o->max_problems;
    int k = o->k, B = o->batch_queries > 0 ? o->batch_queries : 64;
    struct rollout_query *q = xcalloc((size_t)B, sizeof *q);
    struct reward_verdict *vs = xcalloc((size_t)k, sizeof *vs);
    struct text_buf text = {0};
    double sum_correct = 0, sum_pass = 0, sum_maj = 0, sum_none = 0, sum_len = 0;
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
        for (int i = 0; rc == 0 && i < nq; i++) {
            const char *gold = dataset_gold(d, (size_t)q[i].id);
            for (int j = 0; rc == 0 && j < k; j++) {
                int s = i * k + j;
                int64_t a = res.resp_off[s], b = res.resp_off[s + 1];
                text.n = 0;
                rc = tokenizer_decode(tok, res.resp_ids + a, (size_t)(b - a), 1, &text, e);
                if (rc == 0)
                    reward_verify(v, text.n ? text.s : "", text.n, gold, strlen(gold), NULL,
                                  &vs[j]);
                sum_len += (double)(b - a);
                sum_none += vs[j].is_no_answer;
            }
            int n_correct, pass, maj;
            tally(vs, k, &n_correct, &pass, &maj);
            sum_correct += n_correct;
            sum_pass += pass;
            sum_maj += maj;
            if (per_problem && rc == 0) {
                fprintf(per_problem, "{\"id\": %lld, \"gold\": ", (long long)q[i].id);
                tokenizer_write_json_string(per_problem, gold, strlen(gold));
                fprintf(per_problem, ", \"correct\": %d, \"pass\": %s, \"maj\": %s, \"answers\": [",
                        n_correct, pass ? "true" : "false", maj ? "true" : "false");
                for (int j = 0; j < k; j++) {
                    if (j) fputs(", ", per_problem);
                    tokenizer_write_json_string(per_problem, vs[j].extracted,
                                                strlen(vs[j].extracted));
                }
                fputs("]}\n", per_problem);
            }
        }
        rollout_result_free(&res);
    }
    text_buf_free(&text);
    free(vs);
    free(q);
    if (rc < 0) return rc;
    out->n_problems = n;
    out->n_samples = n * k;
    double ns = out->n_samples > 0 ? (double)out->n_samples : 1, np = n > 0 ? (double)n : 1;
    out->accuracy = sum_correct / ns;
    out->pass_at_k = sum_pass / np;
    out->maj_at_k = sum_maj / np;
    out->no_answer_rate = sum_none / ns;
    out->mean_len = sum_len / ns;
    out->seconds = timer_stop(&t);
    return 0;
}

void eval_result_print_json(const struct eval_result *r, int k, FILE *f) {
    fprintf(
        f,
        "{\"problems\": %lld, \"k\": %d, \"accuracy\": %.4f, \"pass@%d\": %.4f, \"maj@%d\": %.4f, "
        "\"no_answer_rate\": %.4f, \"mean_len\": %.2f, \"seconds\": %.2f}",
        (long long)r->n_problems, k, r->accuracy, k, r->pass_at_k, k, r->maj_at_k,
        r->no_answer_rate, r->mean_len, r->seconds);
}
