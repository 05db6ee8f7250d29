// Error values: codes, exit statuses, prefixes, one-line messages.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timer.h"

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

// Log lines carry the rank and level; lines below the level are dropped.
static void test_log_format(void **state) {
    (void)state;
    char path[] = "/tmp/grpo-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    log_init(3, LOG_INFO);
    LOG_DEBUG("hidden %d", 1);
    LOG_INFO("step %d done", 7);
    LOG_WARN("careful");
    log_init(-1, LOG_ERROR);
    LOG_WARN("hidden too");
    LOG_ERROR("bad");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[512] = {0};
    lseek(fd, 0, SEEK_SET);
    assert_true(read(fd, buf, sizeof buf - 1) > 0);
    close(fd);
    unlink(path);
    char rank[8], level[16], rest[64];
    double t;
    char *line = strtok(buf, "\n");
    assert_int_equal(sscanf(line, "[r%7[0-9] +%lfs] %15[a-z]: %63[^\n]", rank, &t, level, rest), 4);
    assert_string_equal(rank, "3");
    assert_string_equal(level, "info");
    assert_string_equal(rest, "step 7 done");
    line = strtok(NULL, "\n");
    assert_non_null(strstr(line, "] warn: careful"));
    line = strtok(NULL, "\n");
    assert_int_equal(line[1], '+'); // no rank prefix after log_init(-1, ...)
    assert_non_null(strstr(line, "] error: bad"));
    assert_null(strtok(NULL, "\n"));
    enum log_level lv;
    assert_int_equal(log_level_parse("warn", &lv), 0);
    assert_int_equal(lv, LOG_WARN);
    assert_int_equal(log_level_parse("loud", &lv), -1);
}

static void test_timer(void **state) {
    (void)state;
    struct timer t;
    timer_reset(&t);
    timer_start(&t);
    double t0 = time_now_s();
    while (time_now_s() - t0 < 0.01) {
    }
    double lap = timer_stop(&t);
    assert_true(lap >= 0.01 && lap < 5.0);
    assert_int_equal(t.n_laps, 1);
    assert_true(t.total_s == lap);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_values),
        cmocka_unit_test(test_alloc_aligned_ledger),
        cmocka_unit_test(test_log_format),
        cmocka_unit_test(test_timer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
