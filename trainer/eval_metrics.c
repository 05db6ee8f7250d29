// Evaluation metrics from scored samples: pass@j (unbiased), maj@k by
// equivalence classes, rm@k (best-of-k), accuracy and lengths.
#include <math.h>
#include <string.h>

#include "core/check.h"
#include "trainer/eval.h"

// 1 - C(n-c, j)/C(n, j) = 1 - prod_{i=n-c+1}^{n} (1 - j/i)  (Chen et al. 2021, Codex).
double eval_pass_at(int n, int c, int j) {
    if (c <= 0) return 0;
    if (n - c < j) return 1;
    double none = 1;
    for (int i = n - c + 1; i <= n; i++) none *= 1.0 - (double)j / (double)i;
    return 1.0 - none;
}

// The j of pass@j reported for k samples: powers of two below k, then k.
static int pass_js(int k, int *js) {
    int n = 0;
    for (int j = 1; j < k; j *= 2) js[n++] = j;
    js[n++] = k;
    return n;
}

void eval_tally_init(struct eval_tally *t, int k, bool has_rm) {
    CHECK(k >= 1 && k <= EVAL_MAX_K, "eval: k %d out of range", k);
    memset(t, 0, sizeof *t);
    t->k = k;
    t->has_rm = has_rm;
}

// The first group (groups are named by their first sample) whose answer equals
// a: by equivalence, or by exact string when equiv is NULL; -1 if none.
static int find_group(struct reward_equiv *equiv, const struct reward_verdict *vs, const int *first,
                      int n_groups, const char *a) {
    for (int c = 0; c < n_groups; c++) {
        const char *rep = vs[first[c]].extracted;
        bool is_same = equiv ? reward_equiv_check(equiv, a, strlen(a), rep, strlen(rep), NULL) ==
                                   REWARD_EQUIV_EQUAL
                             : strcmp(a, rep) == 0;
        if (is_same) return c;
    }
    return -1;
}

// The first sample of the largest class of equivalent answers (ties: the class
// seen first), or -1 when no sample has an answer. A class is represented by its
// first sample; a later answer joins the first class it is equivalent to.
// Identical strings are grouped first, so that the equivalence checks (the
// cost: docs/rollout.md) run between distinct answers only.
static int majority(struct reward_equiv *equiv, const struct reward_verdict *vs, int k) {
    int uniq[EVAL_MAX_K], uniq_count[EVAL_MAX_K], n_uniq = 0;
    for (int j = 0; j < k; j++) {
        if (vs[j].is_no_answer) continue;
        int u = find_group(NULL, vs, uniq, n_uniq, vs[j].extracted);
        if (u < 0) u = n_uniq++, uniq[u] = j, uniq_count[u] = 0;
        uniq_count[u]++;
    }
    int rep[EVAL_MAX_K], count[EVAL_MAX_K], n_classes = 0;
    for (int u = 0; u < n_uniq; u++) {
        int c = equiv ? find_group(equiv, vs, rep, n_classes, vs[uniq[u]].extracted) : -1;
        if (c < 0) c = n_classes++, rep[c] = uniq[u], count[c] = 0;
        count[c] += uniq_count[u];
    }
    int best = -1, best_count = 0;
    for (int c = 0; c < n_classes; c++)
        if (count[c] > best_count) best = rep[c], best_count = count[c];
    return best;
}

// The sample with the highest score (ties: the first; NaN never wins).
static int argmax(const float *score, int k) {
    int best = -1;
    for (int j = 0; j < k; j++)
        if (!isnan(score[j]) && (best < 0 || score[j] > score[best])) best = j;
    return best;
}

void eval_tally_add(struct eval_tally *t, struct reward_equiv *equiv, const struct eval_problem *p,
                    struct eval_outcome *out) {
    int k = t->k;
    memset(out, 0, sizeof *out);
    for (int j = 0; j < k; j++) {
        out->n_correct += p->verdicts[j].is_correct;
        t->n_no_answer += p->verdicts[j].is_no_answer;
        t->n_tokens += p->n_tokens[j];
        t->n_truncated += p->finish && p->finish[j] == ROLLOUT_FINISH_LENGTH;
    }
    t->n_correct += out->n_correct;
    int js[EVAL_MAX_PASS], n_pass = pass_js(k, js);
    for (int i = 0; i < n_pass; i++) t->sum_pass[i] += eval_pass_at(k, out->n_correct, js[i]);
    out->maj_index = majority(equiv, p->verdicts, k);
    out->is_maj_correct = out->maj_index >= 0 && p->verdicts[out->maj_index].is_correct;
    t->n_maj += out->is_maj_correct;
    out->rm_index = -1;
    if (t->has_rm) {
        out->rm_index = argmax(p->rm_score, k);
        out->is_rm_correct = out->rm_index >= 0 && p->verdicts[out->rm_index].is_correct;
        t->n_rm += out->is_rm_correct;
    }
    t->n_problems++;
}

void eval_tally_result(const struct eval_tally *t, struct eval_result *out) {
    memset(out, 0, sizeof *out);
    out->k = t->k;
    out->n_problems = t->n_problems;
    out->n_samples = t->n_problems * t->k;
    double np = t->n_problems > 0 ? (double)t->n_problems : 1;
    double ns = out->n_samples > 0 ? (double)out->n_samples : 1;
    out->accuracy = (double)t->n_correct / ns;
    out->n_pass = pass_js(t->k, out->pass_j);
    for (int i = 0; i < out->n_pass; i++) out->pass_at[i] = t->sum_pass[i] / np;
    out->maj_at_k = (double)t->n_maj / np;
    out->has_rm = t->has_rm;
    out->rm_at_k = t->has_rm ? (double)t->n_rm / np : 0;
    out->no_answer_rate = (double)t->n_no_answer / ns;
    out->truncated_rate = (double)t->n_truncated / ns;
    out->mean_len = (double)t->n_tokens / ns;
}
