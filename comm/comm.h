// MPI world and role communicators, and collectives over flat buffers.
//
// Roles (design.md §2): with placement colocated every rank is learner,
// rollout worker and reward worker; with disaggregated the world is split in
// rank order into learners [0, L), rollout workers [L, L+R) and reward
// workers [L+R, L+R+W), and L + R + W must equal the world size.
//
// Reductions are deterministic: the sum of each element is taken in rank
// order 0, 1, ..., n-1 whatever MPI's algorithm, so results are bitwise equal
// on every rank and across runs with the same layout.
#pragma once

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"

// One role's communicator; comm is MPI_COMM_NULL where this rank has not got
// the role (then rank is -1).
struct comm_group {
    MPI_Comm comm;
    int rank, size;
};

struct comm_world {
    int rank, size; // in MPI_COMM_WORLD
    int placement;  // enum placement
    struct comm_group world, learners, rollout, reward;
    bool is_learner, is_rollout, is_reward;
};

// MPI_Init_thread (funneled); safe to call when MPI is already initialised.
int comm_init(int *argc, char ***argv, struct err *e);
// MPI_Finalize unless already finalised.
void comm_finalize(void);
// Abort every rank of the job (after an error on one rank) with this status.
_Noreturn void comm_abort(int status);

// Split MPI_COMM_WORLD into role communicators as cfg->cluster says. A layout
// that does not match the world size is an ERR_USER naming the config keys.
int comm_world_create(const struct config *cfg, struct comm_world **out, struct err *e);
void comm_world_destroy(struct comm_world **w);

// In-place sum over the group, in rank order. scratch holds n floats.
int comm_allreduce_sum_f32(const struct comm_group *g, float *buf, size_t n, float *scratch,
                           struct err *e);
// In-place sum of doubles (metrics, token counts), in rank order.
int comm_allreduce_sum_f64(const struct comm_group *g, double *buf, size_t n, struct err *e);
// In-place elementwise maximum of doubles.
int comm_allreduce_max_f64(const struct comm_group *g, double *buf, size_t n, struct err *e);
// Broadcast n floats from root to the group.
int comm_bcast_f32(const struct comm_group *g, float *buf, size_t n, int root, struct err *e);
int comm_barrier(const struct comm_group *g, struct err *e);

// Ranks of this job on this node (shared-memory domain), for thread counts.
int comm_local_size(const struct comm_world *w);

// 64-bit FNV-1a of a buffer's bytes (replica consistency checks).
uint64_t comm_hash_bytes(const void *buf, size_t n_bytes);

// NCCL version (e.g. 22703) when built with CUDA, else 0.
int comm_nccl_version(void);
