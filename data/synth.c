// Synthetic arithmetic problems with worked, verifiable solutions (synth.h).
#include <stdio.h>
#include <string.h>

#include "core/check.h"
#include "core/rng.h"
#include "data/synth.h"

// Stream purpose for synthetic data (core/rng.h has none for it; kept far from
// the listed purposes).
enum { RNG_PURPOSE_SYNTH = 100 };

int synth_arith_check(const struct synth_arith_cfg *cfg, struct err *e) {
    if (cfg->n_digits < 1 || cfg->n_digits > SYNTH_MAX_DIGITS)
        return err_user(e, "digits %d out of range [1, %d]", cfg->n_digits, SYNTH_MAX_DIGITS);
    if (!cfg->ops || !cfg->ops[0]) return err_user(e, "no operator given (use a subset of '+-*')");
    for (const char *p = cfg->ops; *p; p++)
        if (!strchr("+-*", *p))
            return err_user(e, "unknown operator '%c' in '%s' (use '+', '-', '*')", *p, cfg->ops);
    return 0;
}

static uint64_t pow10u(int n) {
    uint64_t x = 1;
    while (n-- > 0) x *= 10;
    return x;
}

void synth_arith_format(char op, uint64_t a, uint64_t b, int n_digits, struct synth_problem *out) {
    snprintf(out->question, sizeof out->question, "%llu%c%llu=", (unsigned long long)a, op,
             (unsigned long long)b);
    uint64_t result = op == '+' ? a + b : op == '-' ? a - b : a * b;
    snprintf(out->answer, sizeof out->answer, "%llu", (unsigned long long)result);
    size_t n = 0;
    if (op != '*') { // worked columns, right to left
        int carry = 0;
        for (int col = 0; col < n_digits; col++) {
            int da = (int)(a / pow10u(col) % 10), db = (int)(b / pow10u(col) % 10), digit;
            if (op == '+') {
                int s = da + db + carry;
                digit = s % 10, carry = s / 10;
            } else {
                int s = da - db - carry;
                carry = s < 0;
                digit = s + 10 * carry;
            }
            n += (size_t)snprintf(out->solution + n, sizeof out->solution - n, "%s%d%d",
                                  col ? " " : "", digit, carry);
        }
    }
    snprintf(out->solution + n, sizeof out->solution - n, "\\boxed{%s}", out->answer);
}

void synth_arith_problem(const struct synth_arith_cfg *cfg, uint64_t index,
                         struct synth_problem *out) {
    struct rng_seq s;
    rng_seq_init(&s, cfg->seed, rng_stream_id(RNG_PURPOSE_SYNTH, index, 0, 0), 0);
    char op = cfg->ops[rng_seq_below(&s, (uint32_t)strlen(cfg->ops))];
    uint64_t lo = cfg->n_digits == 1 ? 0 : pow10u(cfg->n_digits - 1),
             hi = pow10u(cfg->n_digits) - 1;
    uint64_t a = lo + rng_seq_below(&s, (uint32_t)(hi - lo + 1));
    uint64_t b = lo + rng_seq_below(&s, (uint32_t)(hi - lo + 1));
    if (op == '-' && a < b) {
        uint64_t t = a;
        a = b, b = t;
    }
    synth_arith_format(op, a, b, cfg->n_digits, out);
}
