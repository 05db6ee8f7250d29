// Math equivalence of an extracted answer and a gold answer (LaTeX or plain
// text). Both are normalised (reward/normalize.c), split into structures
// (lists, sets, tuples, intervals and unions, matrices, equations) and leaves
// that are expressions or text. Expressions are compared by value: constants
// with a relative tolerance (exactly when the gold is an integer), and
// expressions with variables at random points drawn from core/rng.h
// (purpose RNG_VERIFY), so x^2+2x+1 equals (x+1)^2. docs/reward.md lists every rule.
//
// All work happens in the scratch of a struct reward_equiv made once; a check
// never allocates, and its cost is bounded by the options below: past a bound
// the answer is wrong with the result REWARD_EQUIV_BUDGET.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct reward_equiv_opts {
    double rel_tol;          // relative tolerance for non-integer values (1e-4)
    uint64_t seed;           // seed of the random evaluation points (0)
    int n_points;            // random points that must agree (6)
    int max_nodes;           // expression nodes per check, answer and gold together (4096)
    int max_depth;           // nesting depth of expressions and structures (128)
    size_t max_answer_bytes; // longer answers or golds are refused (4096)
};

void reward_equiv_opts_default(struct reward_equiv_opts *o);

enum reward_equiv_result {
    REWARD_EQUIV_DIFFERENT = 0,
    REWARD_EQUIV_EQUAL = 1,
    REWARD_EQUIV_BUDGET = 2, // not decided within the bounds: counts as wrong
};

struct reward_equiv;

// Allocates the scratch for checks under opts (copied). Returns 0 or ERR_USER
// for options out of range.
int reward_equiv_create(const struct reward_equiv_opts *opts, struct reward_equiv **out,
                        struct err *e);
void reward_equiv_destroy(struct reward_equiv **q);

// Is answer[0..n_answer) equivalent to gold[0..n_gold)? *reason (may be NULL)
// receives a static string naming the rule that decided ("equal numbers",
// "different tuples", "budget exceeded: answer too long", ...).
enum reward_equiv_result reward_equiv_check(struct reward_equiv *q, const char *answer,
                                            size_t n_answer, const char *gold, size_t n_gold,
                                            const char **reason);
