// Verdicts: extract the answer of a response, take the gold's own answer, and
// decide their equivalence within the verifier's budgets.
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "reward/reward.h"

struct reward_verifier {
    struct reward_verifier_opts o;
    struct reward_equiv *equiv;
};

void reward_verifier_opts_default(struct reward_verifier_opts *o, enum reward_mode mode) {
    o->mode = mode;
    reward_extract_opts_default(&o->extract, mode);
    reward_equiv_opts_default(&o->equiv);
    o->extract.max_answer_bytes = o->equiv.max_answer_bytes;
}

int reward_verifier_create(const struct reward_verifier_opts *opts, struct reward_verifier **out,
                           struct err *e) {
    *out = NULL;
    struct reward_equiv *q;
    TRY(reward_equiv_create(&opts->equiv, &q, e));
    struct reward_verifier *v = xcalloc(1, sizeof *v);
    v->o = *opts;
    v->equiv = q;
    *out = v;
    return 0;
}

void reward_verifier_destroy(struct reward_verifier **v) {
    if (!*v) return;
    reward_equiv_destroy(&(*v)->equiv);
    free(*v);
    *v = NULL;
}

// Copy at most cap - 1 bytes, not cutting a UTF-8 sequence.
static void copy_cut(char *dst, size_t cap, const char *src, size_t n) {
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--;
    }
    memcpy(dst, src, n);
    dst[n] = 0;
}

void reward_verify(struct reward_verifier *v, const char *response, size_t n_response,
                   const char *gold, size_t n_gold, const struct reward_extract_opts *extract,
                   struct reward_verdict *out) {
    const struct reward_extract_opts *ex = extract ? extract : &v->o.extract;
    *out = (struct reward_verdict){.source = REWARD_SOURCE_NONE};
    size_t start = 0, len = 0;
    out->source = reward_extract_answer(response, n_response, ex, &start, &len);
    if (out->source == REWARD_SOURCE_NONE) {
        out->is_no_answer = true;
        out->reason = "no answer";
        return;
    }
    copy_cut(out->extracted, sizeof out->extracted, response + start, len);
    // a gold written as a solution with \boxed{} stands for its boxed content
    struct reward_extract_opts boxed_only = *ex;
    boxed_only.use_hashes = boxed_only.use_answer_is = boxed_only.use_chinese = false;
    boxed_only.use_last_number = boxed_only.use_final_statement = false;
    size_t g_start, g_len;
    if (reward_extract_answer(gold, n_gold, &boxed_only, &g_start, &g_len) != REWARD_SOURCE_NONE) {
        gold += g_start;
        n_gold = g_len;
    }
    enum reward_equiv_result r =
        reward_equiv_check(v->equiv, response + start, len, gold, n_gold, &out->reason);
    out->is_correct = r == REWARD_EQUIV_EQUAL;
    out->is_budget_exceeded = r == REWARD_EQUIV_BUDGET;
}
