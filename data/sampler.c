// Per-epoch shuffles from the counter RNG, the global cursor, and the
// split of a global batch across ranks.
#include <stdlib.h>

#include "core/check.h"
#include "core/rng.h"
#include "data/sampler.h"

void data_epoch_order(uint32_t *perm, uint32_t n_rows, uint64_t seed, uint64_t epoch, int shuffle) {
    for (uint32_t i = 0; i < n_rows; i++) perm[i] = i;
    if (!shuffle) return;
    struct rng_seq rs;
    rng_seq_init(&rs, seed, rng_stream_id(RNG_SHUFFLE, epoch, 0, 0), 0);
    for (uint32_t i = n_rows; i-- > 1;) { // Fisher-Yates
        uint32_t j = rng_seq_below(&rs, i + 1);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

int data_sampler_create(size_t n_rows, uint64_t seed, int shuffle, struct data_sampler **out,
                        struct err *e) {
    if (n_rows == 0 || n_rows > UINT32_MAX)
        return err_user(e, "cannot sample from %zu rows", n_rows);
    struct data_sampler *s = xcalloc(1, sizeof *s);
    *s = (struct data_sampler){.n_rows = (uint32_t)n_rows,
                               .seed = seed,
                               .shuffle = shuffle,
                               .perm_epoch = UINT64_MAX,
                               .perm = xmalloc(n_rows * sizeof(uint32_t))};
    *out = s;
    return 0;
}

void data_sampler_destroy(struct data_sampler **s) {
    if (!*s) return;
    free((*s)->perm);
    free(*s);
    *s = NULL;
}

void data_sampler_next(struct data_sampler *s, struct data_cursor *cursor, size_t n_queries,
                       uint32_t *rows) {
    for (size_t i = 0; i < n_queries; i++) {
        if (cursor->position >= s->n_rows) { // also repairs a cursor from a larger data set
            cursor->epoch++;
            cursor->position = 0;
        }
        if (s->perm_epoch != cursor->epoch) {
            data_epoch_order(s->perm, s->n_rows, s->seed, cursor->epoch, s->shuffle);
            s->perm_epoch = cursor->epoch;
        }
        rows[i] = s->perm[cursor->position++];
    }
    if (cursor->position >= s->n_rows) {
        cursor->epoch++;
        cursor->position = 0;
    }
}

void data_shard_range(size_t n_queries, int n_ranks, int rank, size_t *lo, size_t *hi) {
    CHECK(n_ranks > 0 && rank >= 0 && rank < n_ranks, "rank %d of %d", rank, n_ranks);
    size_t base = n_queries / (size_t)n_ranks, extra = n_queries % (size_t)n_ranks;
    size_t r = (size_t)rank;
    *lo = r * base + (r < extra ? r : extra);
    *hi = *lo + base + (r < extra ? 1 : 0);
}
