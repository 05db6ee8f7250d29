// The reward service's rule-based side: verdicts (extraction + equivalence,
// r_v in {0, 1}), reward shaping, and the per-response records and metrics the
// service produces. Reward-model scoring (r_m) plugs in through the r_m
// argument of reward_shape(); it needs the model module and lives elsewhere.
//
// Shaping modes (design.md §2, Qwen2.5-Math):
//   rule:      r = r_v
//   rm:        r = r_m
//   qwen:      r = sigmoid(alpha * r_m) + (r_v - 1)   (alpha = 0.5); a correct
//              answer always outranks a wrong one, since sigmoid is in (0, 1)
//   weighted:  r = w_v * r_v + w_m * r_m
// Without a reward-model score every mode falls back to r = r_v. The optional
// overlong penalty (DAPO's soft overlong punishment) is added on top.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "reward/equiv.h"
#include "reward/extract.h"

// ---- verdicts ----

struct reward_verifier_opts {
    enum reward_mode mode;              // default extraction style ("boxed")
    struct reward_extract_opts extract; // fallbacks and input bounds
    struct reward_equiv_opts equiv;     // tolerance, random points, budgets
};

void reward_verifier_opts_default(struct reward_verifier_opts *o, enum reward_mode mode);

#define REWARD_EXTRACTED_MAX 512 // bytes of the extracted answer kept in a verdict

struct reward_verdict {
    bool is_correct;         // r_v = 1
    bool is_no_answer;       // nothing extractable (wrong, counted apart)
    bool is_budget_exceeded; // undecided within the bounds (wrong, counted apart)
    enum reward_answer_source source;
    char extracted[REWARD_EXTRACTED_MAX]; // the answer as found, cut to fit (NUL-terminated)
    const char *reason; // static string: "equal numbers", "no answer", "budget exceeded: ..."
};

// A verifier owns the scratch of its checks: one per thread (it is not shared;
// reward_verify never allocates).
struct reward_verifier;

int reward_verifier_create(const struct reward_verifier_opts *opts, struct reward_verifier **out,
                           struct err *e);
void reward_verifier_destroy(struct reward_verifier **v);

// Verdict for one response against a gold answer. The gold is taken as the
// answer itself, or, if it holds a \boxed{}, the last boxed content. extract
// may be NULL (the verifier's options) or override the fallbacks for this
// call (a per-row "mode"). Never fails: bad input is a wrong verdict.
void reward_verify(struct reward_verifier *v, const char *response, size_t n_response,
                   const char *gold, size_t n_gold, const struct reward_extract_opts *extract,
                   struct reward_verdict *out);

// ---- shaping ----

enum reward_shaping_mode {
    REWARD_SHAPING_RULE = 0,
    REWARD_SHAPING_RM,
    REWARD_SHAPING_QWEN,
    REWARD_SHAPING_WEIGHTED,
};

struct reward_shaping_opts {
    enum reward_shaping_mode mode; // qwen
    double alpha;                  // qwen: sigmoid(alpha * r_m) (0.5)
    double w_v, w_m;               // weighted (1, 1)
    // DAPO soft overlong punishment: 0 up to max_tokens - buffer_tokens, then
    // linear down to -factor at max_tokens, -factor beyond.
    bool has_overlong_penalty;  // false
    int overlong_max_tokens;    // the generation limit (0: use the rollout's max_new_tokens)
    int overlong_buffer_tokens; // 0 = off
    double overlong_factor;     // 1
};

void reward_shaping_opts_default(struct reward_shaping_opts *o);
bool reward_shaping_mode_parse(const char *name, enum reward_shaping_mode *mode);
const char *reward_shaping_mode_name(enum reward_shaping_mode mode);
int reward_shaping_opts_check(const struct reward_shaping_opts *o, struct err *e);

// The shaped reward without penalties; r_m is NULL when no reward model
// scored the response (then r = r_v in every mode).
double reward_shape(const struct reward_shaping_opts *o, double r_v, const double *r_m);

// DAPO's soft overlong penalty (<= 0) for a response of n_tokens.
double reward_overlong_penalty(const struct reward_shaping_opts *o, int n_tokens);

// ---- the reward service's records ----

// One response to score: borrowed pointers, valid during the call.
struct reward_request {
    uint64_t query_id;
    uint32_t sample_index; // within its group
    const char *response;
    size_t n_response;
    const char *gold;
    size_t n_gold;
    int n_tokens; // response length in tokens (overlong penalty)
};

// Every component of the reward, reported separately in the metrics.
struct reward_components {
    double r_v; // 0 or 1
    double r_m; // reward-model score (0 when has_rm is false)
    bool has_rm;
    double r_overlong; // <= 0
    double r;          // shaped reward + penalties: what the learner uses
};

// Verify and shape one response; r_m as in reward_shape().
void reward_score(struct reward_verifier *v, const struct reward_shaping_opts *shaping,
                  const struct reward_request *req, const double *r_m,
                  struct reward_verdict *verdict, struct reward_components *out);

// Running sums for the step's metrics line.
struct reward_stats {
    int64_t n, n_correct, n_no_answer, n_budget_exceeded, n_rm;
    double sum_r, sum_r2, sum_r_v, sum_r_m, sum_overlong;
};

void reward_stats_add(struct reward_stats *s, const struct reward_verdict *v,
                      const struct reward_components *c);
// Fold b into a (reward ranks -> learner).
void reward_stats_merge(struct reward_stats *a, const struct reward_stats *b);
