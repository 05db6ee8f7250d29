// Synthetic verifiable arithmetic problems for the tiny end-to-end demo.
//
// Problem i of a seed is a pure function of (seed, i, digits, ops): operands
// have exactly n_digits digits (100..999 for 3), the operator is drawn from
// ops. Formats (see /work/shared/demo-notes.md):
//   +  question "882+164="  solution "60 41 01\boxed{1046}"
//      one "digit carry" pair per column, right to left, then the boxed sum;
//   -  question "882-164="  solution "81 10 70\boxed{718}"
//      one "digit borrow" pair per column (operands ordered so a >= b);
//   *  question "12*34="    solution "\boxed{408}" (answer only).
#pragma once

#include <stdint.h>

#include "core/err.h"

#define SYNTH_MAX_DIGITS 9

struct synth_arith_cfg {
    uint64_t seed;
    int n_digits;    // 1..SYNTH_MAX_DIGITS
    const char *ops; // a non-empty subset of "+-*", e.g. "+"
};

struct synth_problem {
    char question[32];  // "882+164="
    char answer[32];    // "1046"
    char solution[128]; // "60 41 01\boxed{1046}"
};

// Error (ERR_USER) naming a bad digit count or operator.
int synth_arith_check(const struct synth_arith_cfg *cfg, struct err *e);

// Problem `index` of cfg (cfg must pass synth_arith_check).
void synth_arith_problem(const struct synth_arith_cfg *cfg, uint64_t index,
                         struct synth_problem *out);

// The problem a op b, each of n_digits digits (a >= b for '-').
void synth_arith_format(char op, uint64_t a, uint64_t b, int n_digits, struct synth_problem *out);
