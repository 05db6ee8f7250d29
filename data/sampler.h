// Query order: a deterministic shuffle per epoch, a resumable cursor, and
// the split of each global batch across data-parallel ranks.
//
// Every rank holds the same cursor and computes the same global batch of row
// indices; rank r takes its contiguous slice (data_shard_range). So each row
// is used exactly once per epoch whatever the number of ranks, and a cursor
// saved by any rank resumes the run on any number of ranks.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

// Where the next query comes from: position in the order of epoch. Plain
// integers, stored in checkpoints as they are.
struct data_cursor {
    uint64_t epoch;
    uint64_t position; // in [0, n_rows)
};

// The order of epoch: a permutation of [0, n_rows) drawn by Fisher-Yates from
// the run seed, stream rng_stream_id(RNG_SHUFFLE, epoch, 0, 0); the identity
// when shuffle is 0.
void data_epoch_order(uint32_t *perm, uint32_t n_rows, uint64_t seed, uint64_t epoch, int shuffle);

struct data_sampler {
    uint32_t n_rows;
    uint64_t seed;
    int shuffle;
    uint64_t perm_epoch; // the epoch perm holds, UINT64_MAX: none yet
    uint32_t *perm;      // (n_rows)
};

// Error (ERR_USER): n_rows is 0 or above UINT32_MAX.
int data_sampler_create(size_t n_rows, uint64_t seed, int shuffle, struct data_sampler **out,
                        struct err *e);
void data_sampler_destroy(struct data_sampler **s);

// The next n_queries rows of the global order from *cursor, crossing into
// the next epoch when one ends; advances *cursor. rows: (n_queries).
void data_sampler_next(struct data_sampler *s, struct data_cursor *cursor, size_t n_queries,
                       uint32_t *rows);

// The slice [*lo, *hi) of a global batch of n_queries that rank takes out of
// n_ranks: contiguous, in rank order, sizes differing by at most one.
void data_shard_range(size_t n_queries, int n_ranks, int rank, size_t *lo, size_t *hi);
