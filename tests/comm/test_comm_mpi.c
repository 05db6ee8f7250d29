// Run under mpirun -np 4: role assignment for colocated and disaggregated
// layouts, the layout/world-size error, and collectives that know their own
// answer (nccl-tests style): each rank fills its buffer from (seed, rank) with
// the counter RNG, so every rank can compute the expected rank-order sum.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm.h"
#include "tests/comm/mpi_test.h"
#include "core/rng.h"

static float value(int rank, size_t i) {
    uint32_t out[4];
    rng(out, 1234, rng_stream_id(RNG_TEST, (uint64_t)rank, 0, 0), i);
    return rng_u32_to_unit_f32(out[0]) * 2.0f - 1.0f;
}

static void check_allreduce(const struct comm_group *g, size_t n) {
    float *buf = malloc(n * sizeof *buf), *scratch = malloc(n * sizeof *scratch);
    for (size_t i = 0; i < n; i++) buf[i] = value(g->rank, i);
    struct err e;
    EXPECT(comm_allreduce_sum_f32(g, buf, n, scratch, &e) == 0, "allreduce: %s", e.msg);
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++) {
        float want = value(0, i);
        for (int r = 1; r < g->size; r++) want += value(r, i); // rank order, as documented
        if (memcmp(&want, &buf[i], sizeof want) != 0) wrong++;
    }
    EXPECT(wrong == 0,
           "allreduce of %zu floats over %d ranks: %zu elements differ from the rank-order sum", n,
           g->size, wrong);
    uint64_t h = comm_hash_bytes(buf, n * sizeof *buf), h0 = h;
    MPI_Bcast(&h0, 1, MPI_UINT64_T, 0, g->comm);
    EXPECT(h == h0, "allreduce results differ between ranks");

    double d[3] = {g->rank, 1.0, 0.5 * g->rank};
    EXPECT(comm_allreduce_sum_f64(g, d, 3, &e) == 0, "allreduce f64: %s", e.msg);
    double want_ranks = g->size * (g->size - 1) / 2.0;
    EXPECT(d[0] == want_ranks && d[1] == g->size && d[2] == 0.5 * want_ranks, "f64 sums wrong");

    for (size_t i = 0; i < n; i++) buf[i] = g->rank == g->size - 1 ? value(99, i) : -1.0f;
    EXPECT(comm_bcast_f32(g, buf, n, g->size - 1, &e) == 0, "bcast: %s", e.msg);
    for (size_t i = 0; i < n; i++)
        if (buf[i] != value(99, i)) {
            EXPECT(0, "bcast element %zu wrong", i);
            break;
        }
    free(buf);
    free(scratch);
}

int main(int argc, char **argv) {
    struct err e;
    if (comm_init(&argc, &argv, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    int size;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 4) {
        if (world_rank == 0) fprintf(stderr, "run with mpirun -np 4 (got %d ranks)\n", size);
        comm_finalize();
        return 2;
    }
    struct config cfg;
    struct comm_world *w;

    // Colocated: every rank has every role.
    load_layout(&cfg, "colocated", 0, 0, 0);
    EXPECT(comm_world_create(&cfg, &w, &e) == 0, "colocated: %s", e.msg);
    EXPECT(w->is_learner && w->is_rollout && w->is_reward, "colocated roles");
    EXPECT(w->learners.size == 4 && w->learners.rank == world_rank, "colocated learner group");
    check_allreduce(&w->learners, 1000);
    check_allreduce(&w->learners, 3); // fewer elements than ranks
    comm_world_destroy(&w);
    config_destroy(&cfg);

    // Disaggregated 2 + 1 + 1.
    load_layout(&cfg, "disaggregated", 2, 1, 1);
    EXPECT(comm_world_create(&cfg, &w, &e) == 0, "2+1+1: %s", e.msg);
    EXPECT(w->is_learner == (world_rank < 2), "learner role");
    EXPECT(w->is_rollout == (world_rank == 2), "rollout role");
    EXPECT(w->is_reward == (world_rank == 3), "reward role");
    EXPECT(!w->is_learner || (w->learners.size == 2 && w->learners.rank == world_rank),
           "learner group");
    if (w->is_learner) check_allreduce(&w->learners, 4097);
    comm_world_destroy(&w);
    config_destroy(&cfg);

    // Disaggregated 1 + 2 + 1.
    load_layout(&cfg, "disaggregated", 1, 2, 1);
    EXPECT(comm_world_create(&cfg, &w, &e) == 0, "1+2+1: %s", e.msg);
    EXPECT(w->is_rollout == (world_rank == 1 || world_rank == 2), "rollout role 1+2+1");
    EXPECT(!w->is_rollout || w->rollout.rank == world_rank - 1, "rollout rank");
    if (w->is_rollout) check_allreduce(&w->rollout, 10);
    comm_world_destroy(&w);
    config_destroy(&cfg);

    // Counts that do not add up to the world size: one clear user error, on every rank.
    load_layout(&cfg, "disaggregated", 1, 1, 1);
    int rc = comm_world_create(&cfg, &w, &e);
    EXPECT(rc == ERR_USER, "1+1+1 on 4 ranks must fail (rc %d)", rc);
    EXPECT(strstr(e.msg, "--set 'cluster.learners=1': cluster.learners 1 + rollout_workers 1 + "
                         "reward_workers 1 = 3 ranks, but the job has 4") != NULL,
           "message: %s", e.msg);
    config_destroy(&cfg);

    int total = 0;
    MPI_Allreduce(&n_failed, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (world_rank == 0)
        printf("%s: %d failed checks over 4 ranks\n", total ? "FAIL" : "ok", total);
    comm_finalize();
    return total ? 1 : 0;
}
