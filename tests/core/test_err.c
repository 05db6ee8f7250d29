// Error values: codes, exit statuses, prefixes, one-line messages.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"

static int fails_with_user_error(struct err *e) {
    return err_user(e, "bad value '%s'", "x\ny");
}

static int propagates(struct err *e) {
    TRY(fails_with_user_error(e));
    return 0;
}

static void test_err_values(void **state) {
    (void)state;
    struct err e;
    err_clear(&e);
    int rc = propagates(&e);
    assert_int_equal(rc, ERR_USER);
    assert_string_equal(e.msg, "bad value 'x y'"); // newlines never reach the one-line message
    err_prefix(&e, "%s:%d: ", "exp.yaml", 3);
    assert_string_equal(e.msg, "exp.yaml:3: bad value 'x y'");
    assert_int_equal(err_exit_code(0), 0);
    assert_int_equal(err_exit_code(ERR_USER), 1);
    assert_int_equal(err_exit_code(ERR_INTERNAL), 2);
    assert_int_equal(err_internal(NULL, "no sink"), ERR_INTERNAL);
}

static void test_alloc_aligned_ledger(void **state) {
    (void)state;
    struct mem_ledger ledger = {0};
    float *a = alloc_aligned(&ledger, MEM_PARAMS, 100 * sizeof(float));
    void *b = alloc_aligned(&ledger, MEM_GRADS, 3);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal((uintptr_t)a % ALLOC_ALIGN, 0);
    assert_int_equal((uintptr_t)b % ALLOC_ALIGN, 0);
    for (int i = 0; i < 100; i++) assert_true(a[i] == 0.0f);
    assert_int_equal(ledger.n_bytes[MEM_PARAMS], 400);
    assert_int_equal(mem_ledger_total(&ledger), 403);
    alloc_free(&ledger, MEM_PARAMS, 100 * sizeof(float), (void **)&a);
    assert_null(a);
    assert_int_equal(mem_ledger_total(&ledger), 3);
    assert_int_equal(ledger.peak_bytes, 403);
    alloc_free(&ledger, MEM_GRADS, 3, &b);
    assert_int_equal(mem_ledger_total(&ledger), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_values),
        cmocka_unit_test(test_alloc_aligned_ledger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
