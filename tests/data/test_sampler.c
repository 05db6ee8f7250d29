// Shuffling, sharding and the cursor as pure functions: for 1 to 4 ranks,
// every row is used exactly once per epoch; the global order does not depend
// on the rank count; a saved cursor resumes exactly.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "data/sampler.h"

enum { N_ROWS = 30, BATCH = 7, N_EPOCHS = 3, N_STEPS = (N_ROWS * N_EPOCHS + BATCH - 1) / BATCH };

// Runs N_STEPS steps on n_ranks simulated ranks; global[] gets the row of
// each global position, assembled from the ranks' slices only.
static void run_ranks(int n_ranks, uint64_t seed, uint32_t *global) {
    struct data_sampler *s[4];
    struct data_cursor c[4] = {{0}};
    struct err e;
    for (int r = 0; r < n_ranks; r++)
        assert_int_equal(data_sampler_create(N_ROWS, seed, 1, &s[r], &e), 0);
    for (int step = 0; step < N_STEPS; step++) {
        for (int r = 0; r < n_ranks; r++) {
            uint32_t rows[BATCH];
            data_sampler_next(s[r], &c[r], BATCH, rows);
            size_t lo, hi;
            data_shard_range(BATCH, n_ranks, r, &lo, &hi);
            for (size_t i = lo; i < hi; i++) global[step * BATCH + i] = rows[i];
        }
        for (int r = 1; r < n_ranks; r++) { // every rank holds the same cursor
            assert_int_equal(c[r].epoch, c[0].epoch);
            assert_int_equal(c[r].position, c[0].position);
        }
    }
    for (int r = 0; r < n_ranks; r++) data_sampler_destroy(&s[r]);
}

static void test_exactly_once_per_epoch(void **state) {
    (void)state;
    uint32_t ref[N_STEPS * BATCH];
    for (int n_ranks = 1; n_ranks <= 4; n_ranks++) {
        uint32_t global[N_STEPS * BATCH];
        memset(global, 0xff, sizeof global);
        run_ranks(n_ranks, 1234, global);
        for (int ep = 0; ep < N_EPOCHS; ep++) {
            int seen[N_ROWS] = {0};
            for (int i = 0; i < N_ROWS; i++) {
                uint32_t row = global[ep * N_ROWS + i];
                assert_true(row < N_ROWS);
                seen[row]++;
            }
            for (int i = 0; i < N_ROWS; i++) assert_int_equal(seen[i], 1);
        }
        if (n_ranks == 1)
            memcpy(ref, global, sizeof ref);
        else
            assert_memory_equal(global, ref, sizeof ref);
    }
    // Shuffled, differently each epoch and for each seed.
    assert_memory_not_equal(ref, ref + N_ROWS, N_ROWS * sizeof *ref);
    int identity = 1;
    for (int i = 0; i < N_ROWS; i++) identity &= ref[i] == (uint32_t)i;
    assert_false(identity);
    uint32_t other[N_STEPS * BATCH];
    run_ranks(2, 1235, other);
    assert_memory_not_equal(ref, other, N_ROWS * sizeof *ref);
}

static void test_shard_range(void **state) {
    (void)state;
    for (size_t n = 0; n < 20; n++) {
        for (int ranks = 1; ranks <= 5; ranks++) {
            size_t expect_lo = 0;
            for (int r = 0; r < ranks; r++) {
                size_t lo, hi;
                data_shard_range(n, ranks, r, &lo, &hi);
                assert_int_equal(lo, expect_lo); // contiguous, in rank order
                assert_true(hi - lo == n / (size_t)ranks || hi - lo == n / (size_t)ranks + 1);
                expect_lo = hi;
            }
            assert_int_equal(expect_lo, n);
        }
    }
}

static void test_cursor_resume(void **state) {
    (void)state;
    struct err e;
    struct data_sampler *a = NULL, *b = NULL;
    assert_int_equal(data_sampler_create(N_ROWS, 7, 1, &a, &e), 0);
    struct data_cursor ca = {0};
    uint32_t straight[20 * BATCH], resumed[20 * BATCH];
    for (int step = 0; step < 20; step++) data_sampler_next(a, &ca, BATCH, straight + step * BATCH);
    assert_int_equal(ca.epoch, 20 * BATCH / N_ROWS);
    assert_int_equal(ca.position, 20 * BATCH % N_ROWS);
    data_sampler_destroy(&a);

    assert_int_equal(data_sampler_create(N_ROWS, 7, 1, &a, &e), 0);
    struct data_cursor c = {0};
    for (int step = 0; step < 9; step++) data_sampler_next(a, &c, BATCH, resumed + step * BATCH);
    uint64_t saved_epoch = c.epoch, saved_position = c.position; // what a checkpoint stores
    data_sampler_destroy(&a);
    assert_int_equal(data_sampler_create(N_ROWS, 7, 1, &b, &e), 0);
    struct data_cursor c2 = {saved_epoch, saved_position};
    for (int step = 9; step < 20; step++) data_sampler_next(b, &c2, BATCH, resumed + step * BATCH);
    assert_memory_equal(straight, resumed, sizeof straight);
    data_sampler_destroy(&b);
    assert_null(b);

    // No shuffle: file order. An exact epoch end moves the cursor to the next epoch.
    assert_int_equal(data_sampler_create(3, 7, 0, &a, &e), 0);
    struct data_cursor c3 = {0};
    uint32_t rows[4];
    data_sampler_next(a, &c3, 3, rows);
    assert_int_equal(c3.epoch, 1);
    assert_int_equal(c3.position, 0);
    data_sampler_next(a, &c3, 4, rows);
    assert_int_equal(rows[0], 0);
    assert_int_equal(rows[3], 0);
    data_sampler_destroy(&a);
    assert_int_equal(data_sampler_create(0, 7, 1, &a, &e), ERR_USER);
}

// Fisher-Yates over the counter RNG is unbiased: every row lands at position
// 0 about equally often over many epochs (binomial, 3000 draws of p = 1/6:
// mean 500, sd ~20; 6 sd bounds keep a false failure below 1e-8).
static void test_order_uniform(void **state) {
    (void)state;
    int count[6] = {0};
    uint32_t perm[6];
    for (uint64_t ep = 0; ep < 3000; ep++) {
        data_epoch_order(perm, 6, 99, ep, 1);
        count[perm[0]]++;
    }
    for (int i = 0; i < 6; i++) assert_true(count[i] > 380 && count[i] < 620);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exactly_once_per_epoch),
        cmocka_unit_test(test_shard_range),
        cmocka_unit_test(test_cursor_resume),
        cmocka_unit_test(test_order_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
