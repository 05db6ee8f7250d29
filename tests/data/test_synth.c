// Synthetic arithmetic: the demo's worked format, answers checked by
// recomputing from the question text, digit ranges, determinism.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/synth.h"

static void test_demo_format(void **state) {
    (void)state;
    struct synth_problem p;
    synth_arith_format('+', 882, 164, 3, &p); // the example of demo-notes.md
    assert_string_equal(p.question, "882+164=");
    assert_string_equal(p.answer, "1046");
    assert_string_equal(p.solution, "60 41 01\\boxed{1046}");
    synth_arith_format('-', 882, 164, 3, &p); // 2-4: 8 borrow 1; 8-6-1: 1 borrow 0; 8-1: 7
    assert_string_equal(p.solution, "81 10 70\\boxed{718}");
    synth_arith_format('*', 12, 34, 2, &p);
    assert_string_equal(p.question, "12*34=");
    assert_string_equal(p.solution, "\\boxed{408}");
    synth_arith_format('-', 100, 100, 3, &p);
    assert_string_equal(p.solution, "00 00 00\\boxed{0}");
}

// Re-derives each problem from its question text: operands in range, the
// answer right, the worked digits spell the result (right to left).
static void test_problems_check_out(void **state) {
    (void)state;
    struct err e;
    for (int digits = 1; digits <= 9; digits += 4) {
        struct synth_arith_cfg cfg = {.seed = 42, .n_digits = digits, .ops = "+-*"};
        assert_int_equal(synth_arith_check(&cfg, &e), 0);
        uint64_t lo = digits == 1 ? 0 : 1, hi = 1;
        for (int k = 0; k < digits; k++) hi *= 10;
        for (int k = 1; k < digits; k++) lo *= 10;
        int n_ops[3] = {0};
        for (uint64_t i = 0; i < 300; i++) {
            struct synth_problem p;
            synth_arith_problem(&cfg, i, &p);
            unsigned long long a, b;
            char op, eq;
            assert_int_equal(sscanf(p.question, "%llu%c%llu%c", &a, &op, &b, &eq), 4);
            assert_int_equal(eq, '=');
            assert_true(a >= lo && a < hi && b >= lo && b < hi);
            unsigned long long want = op == '+' ? a + b : op == '-' ? a - b : a * b;
            assert_true(op != '-' || a >= b);
            n_ops[op == '+' ? 0 : op == '-' ? 1 : 2]++;
            char boxed[64];
            snprintf(boxed, sizeof boxed, "\\boxed{%llu}", want);
            assert_non_null(strstr(p.solution, boxed));
            assert_int_equal(strtoull(p.answer, NULL, 10), want);
            if (op == '*') continue;
            // Digits of the pairs, right to left, then a final carry, give the result.
            unsigned long long from_pairs = 0, scale = 1;
            int last_carry = 0;
            for (int col = 0; col < digits; col++) {
                const char *pair = p.solution + 3 * col;
                from_pairs += (unsigned long long)(pair[0] - '0') * scale;
                last_carry = pair[1] - '0';
                scale *= 10;
            }
            if (op == '+')
                from_pairs += (unsigned long long)last_carry * scale;
            else
                assert_int_equal(last_carry, 0);
            assert_int_equal(from_pairs, want);
        }
        for (int k = 0; k < 3; k++) assert_true(n_ops[k] > 50); // all operators drawn
    }
}

static void test_deterministic(void **state) {
    (void)state;
    struct synth_arith_cfg a = {.seed = 7, .n_digits = 3, .ops = "+"}, b = a, c = a;
    c.seed = 8;
    int n_same = 0;
    for (uint64_t i = 0; i < 100; i++) {
        struct synth_problem pa, pb, pc;
        synth_arith_problem(&a, i, &pa);
        synth_arith_problem(&b, i, &pb);
        synth_arith_problem(&c, i, &pc);
        assert_string_equal(pa.question, pb.question);
        n_same += strcmp(pa.question, pc.question) == 0;
    }
    assert_true(n_same < 5);
    struct err e;
    struct synth_arith_cfg bad = {.seed = 1, .n_digits = 0, .ops = "+"};
    assert_int_equal(synth_arith_check(&bad, &e), ERR_USER);
    bad.n_digits = 3, bad.ops = "+/";
    assert_int_equal(synth_arith_check(&bad, &e), ERR_USER);
    assert_string_equal(e.msg, "unknown operator '/' in '+/' (use '+', '-', '*')");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_format),
        cmocka_unit_test(test_problems_check_out),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
