// The scored-groups wire format: a pack/unpack round trip keeps every array,
// slices and appends keep groups whole, and a message of another wire version,
// without the magic, or of the wrong length is refused.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "trainer/scored.h"

// Two queries of G = 2 with prompts of 3 and 1 ids and responses of 2, 0, 1, 3 ids.
static void make_groups(struct scored_groups *s) {
    memset(s, 0, sizeof *s);
    struct rollout_result *ro = &s->ro;
    static const int64_t qid[] = {7, 11}, ver[] = {5, 5}, poff[] = {0, 3, 4},
                         roff[] = {0, 2, 2, 3, 6};
    static const int32_t pids[] = {1, 2, 3, 4}, rids[] = {10, 11, 12, 13, 14, 15};
    static const float lp[] = {-1, -2, -3, -4, -5, -6}, rw[] = {1, 0, 0.5f, -1};
    static const uint8_t fin[] = {0, 1, 0, 1}, fl[] = {1, 2, 0, 8};
    ro->n_queries = 2, ro->G = 2, ro->n_samples = 4, ro->cap = 6;
#define DUP(dst, src) (dst = xmalloc(sizeof src), memcpy(dst, src, sizeof src))
    DUP(ro->query_id, qid);
    DUP(s->version, ver);
    DUP(ro->prompt_off, poff);
    DUP(ro->prompt_ids, pids);
    DUP(ro->resp_off, roff);
    DUP(ro->resp_ids, rids);
    DUP(ro->logprob, lp);
    DUP(ro->logprob_model, lp);
    DUP(ro->finish, fin);
    DUP(s->reward, rw);
    DUP(s->r_m, rw);
    DUP(s->r_overlong, rw);
    DUP(s->flags, fl);
#undef DUP
    s->seconds_rollout = 1.5, s->seconds_reward = 0.25;
}

static void assert_same(const struct scored_groups *a, const struct scored_groups *b) {
    const struct rollout_result *x = &a->ro, *y = &b->ro;
    assert_int_equal(x->n_queries, y->n_queries);
    assert_int_equal(x->G, y->G);
    assert_int_equal(x->n_samples, y->n_samples);
    size_t nq = (size_t)x->n_queries, ns = (size_t)x->n_samples;
    size_t np = (size_t)x->prompt_off[nq], nr = (size_t)x->resp_off[ns];
    assert_memory_equal(x->query_id, y->query_id, nq * sizeof(int64_t));
    assert_memory_equal(a->version, b->version, nq * sizeof(int64_t));
    assert_memory_equal(x->prompt_off, y->prompt_off, (nq + 1) * sizeof(int64_t));
    assert_memory_equal(x->resp_off, y->resp_off, (ns + 1) * sizeof(int64_t));
    if (np) assert_memory_equal(x->prompt_ids, y->prompt_ids, np * sizeof(int32_t));
    if (nr) {
        assert_memory_equal(x->resp_ids, y->resp_ids, nr * sizeof(int32_t));
        assert_memory_equal(x->logprob, y->logprob, nr * sizeof(float));
        assert_memory_equal(x->logprob_model, y->logprob_model, nr * sizeof(float));
    }
    assert_memory_equal(x->finish, y->finish, ns);
    assert_memory_equal(a->reward, b->reward, ns * sizeof(float));
    assert_memory_equal(a->r_m, b->r_m, ns * sizeof(float));
    assert_memory_equal(a->r_overlong, b->r_overlong, ns * sizeof(float));
    assert_memory_equal(a->flags, b->flags, ns);
}

static void test_round_trip(void **state) {
    (void)state;
    struct scored_groups s, t;
    make_groups(&s);
    size_t n;
    void *buf = scored_groups_pack(&s, &n);
    struct err e = {0};
    assert_int_equal(scored_groups_unpack(&t, buf, n, &e), 0);
    assert_same(&s, &t);
    assert_true(t.seconds_rollout == 1.5 && t.seconds_reward == 0.25);
    free(buf);
    scored_groups_free(&t);
    scored_groups_free(&s);
}

static void test_slice_append(void **state) {
    (void)state;
    struct scored_groups s, a, b, joined = {0};
    make_groups(&s);
    scored_groups_slice(&a, &s, 0, 1);
    scored_groups_slice(&b, &s, 1, 2);
    assert_int_equal(b.ro.prompt_off[1], 1);
    assert_int_equal(b.version[0], 5);
    scored_groups_append(&joined, &a);
    scored_groups_append(&joined, &b);
    assert_same(&s, &joined);
    scored_groups_free(&a), scored_groups_free(&b), scored_groups_free(&joined);
    scored_groups_free(&s);
}

static void expect_refused(void *buf, size_t n, const char *what) {
    struct scored_groups t;
    struct err e = {0};
    assert_int_equal(scored_groups_unpack(&t, buf, n, &e), ERR_INTERNAL);
    assert_non_null(strstr(e.msg, what));
}

static void test_refused(void **state) {
    (void)state;
    struct scored_groups s;
    make_groups(&s);
    size_t n;
    char *buf = scored_groups_pack(&s, &n);
    int64_t h[2];
    memcpy(h, buf, sizeof h);
    expect_refused(buf, n - 1, "bytes, expected");
    expect_refused(buf, 8, "bytes");
    int64_t other = h[1] + 1;
    memcpy(buf + 8, &other, 8);
    expect_refused(buf, n, "wire version");
    memcpy(buf + 8, &h[1], 8);
    buf[0] ^= 1;
    expect_refused(buf, n, "magic");
    free(buf);
    scored_groups_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_slice_append),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
