// MPI world, role split and deterministic collectives.
#include "comm/comm.h"

#include <stdlib.h>
#include <string.h>

#include "comm/comm_internal.h"
#include "core/check.h"

// MPI counts are ints: large buffers move in segments of this many elements.
#define SEGMENT_ELEMS ((size_t)1 << 28)

int comm_mpi_error(struct err *e, const char *what, int code) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, msg, &len);
    return err_internal(e, "%s failed: %s", what, msg);
}

int comm_init(int *argc, char ***argv, struct err *e) {
    int ready = 0;
    MPI_Initialized(&ready);
    if (ready) return 0;
    int provided;
    TRY_MPI(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    // Errors come back as codes, turned into struct err, rather than aborting.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return 0;
}

void comm_finalize(void) {
    int ready = 0, done = 0;
    MPI_Initialized(&ready);
    MPI_Finalized(&done);
    if (ready && !done) MPI_Finalize();
}

_Noreturn void comm_abort(int status) {
    int ready = 0;
    MPI_Initialized(&ready);
    if (ready) MPI_Abort(MPI_COMM_WORLD, status);
    exit(status);
}

static void group_none(struct comm_group *g) {
    g->comm = MPI_COMM_NULL;
    g->rank = -1;
    g->size = 0;
}

static int group_from(struct comm_group *g, MPI_Comm comm, struct err *e) {
    group_none(g);
    if (comm == MPI_COMM_NULL) return 0;
    g->comm = comm;
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    TRY_MPI(MPI_Comm_rank(comm, &g->rank), "MPI_Comm_rank");
    TRY_MPI(MPI_Comm_size(comm, &g->size), "MPI_Comm_size");
    return 0;
}

// A communicator of the ranks in [lo, hi) of world (MPI_COMM_NULL elsewhere).
static int split_range(MPI_Comm world, int rank, int lo, int hi, MPI_Comm *out, struct err *e) {
    int inside = rank >= lo && rank < hi;
    TRY_MPI(MPI_Comm_split(world, inside ? 0 : MPI_UNDEFINED, rank, out), "MPI_Comm_split");
    return 0;
}

int comm_world_create(const struct config *cfg, struct comm_world **out, struct err *e) {
    *out = NULL;
    struct comm_world *w = xcalloc(1, sizeof *w);
    int rc;
    MPI_Comm world;
    TRY_FAIL(rc, MPI_Comm_dup(MPI_COMM_WORLD, &world) == MPI_SUCCESS
                     ? 0
                     : err_internal(e, "MPI_Comm_dup failed"));
    TRY_FAIL(rc, group_from(&w->world, world, e));
    w->rank = w->world.rank;
    w->size = w->world.size;
    const struct cluster_section *c = &cfg->cluster;
    w->placement = c->placement;
    group_none(&w->learners);
    group_none(&w->rollout);
    group_none(&w->reward);
    if (c->placement == PLACE_COLOCATED) {
        MPI_Comm a, b, d;
        TRY_FAIL(rc, MPI_Comm_dup(world, &a) == MPI_SUCCESS &&
                             MPI_Comm_dup(world, &b) == MPI_SUCCESS &&
                             MPI_Comm_dup(world, &d) == MPI_SUCCESS
                         ? 0
                         : err_internal(e, "MPI_Comm_dup failed"));
        TRY_FAIL(rc, group_from(&w->learners, a, e));
        TRY_FAIL(rc, group_from(&w->rollout, b, e));
        TRY_FAIL(rc, group_from(&w->reward, d, e));
    } else {
        int64_t total = c->learners + c->rollout_workers + c->reward_workers;
        if (total != w->size) {
            char where[600];
            config_where(cfg, "cluster.learners", where, sizeof where);
            rc = err_user(
                e,
                "%scluster.learners %lld + rollout_workers %lld + reward_workers %lld = %lld "
                "ranks, but the job has %d (mpirun -np %lld)",
                where, (long long)c->learners, (long long)c->rollout_workers,
                (long long)c->reward_workers, (long long)total, w->size, (long long)total);
            goto fail;
        }
        int l = (int)c->learners, r = (int)c->rollout_workers;
        MPI_Comm a, b, d;
        TRY_FAIL(rc, split_range(world, w->rank, 0, l, &a, e));
        TRY_FAIL(rc, split_range(world, w->rank, l, l + r, &b, e));
        TRY_FAIL(rc, split_range(world, w->rank, l + r, w->size, &d, e));
        TRY_FAIL(rc, group_from(&w->learners, a, e));
        TRY_FAIL(rc, group_from(&w->rollout, b, e));
        TRY_FAIL(rc, group_from(&w->reward, d, e));
    }
    w->is_learner = w->learners.comm != MPI_COMM_NULL;
    w->is_rollout = w->rollout.comm != MPI_COMM_NULL;
    w->is_reward = w->reward.comm != MPI_COMM_NULL;
    *out = w;
    return 0;
fail:
    comm_world_destroy(&w);
    return rc;
}

void comm_world_destroy(struct comm_world **wp) {
    struct comm_world *w = *wp;
    if (!w) return;
    struct comm_group *groups[] = {&w->learners, &w->rollout, &w->reward, &w->world};
    for (int i = 0; i < 4; i++)
        if (groups[i]->comm != MPI_COMM_NULL) MPI_Comm_free(&groups[i]->comm);
    free(w);
    *wp = NULL;
}

// Deterministic sum of one segment of n <= SEGMENT_ELEMS floats: the buffer
// is cut into size blocks; block j goes to rank j (all-to-all), which adds the
// size contributions in rank order, and the sums are gathered back to all.
static int allreduce_segment(const struct comm_group *g, float *buf, size_t n, float *scratch,
                             struct err *e) {
    int p = g->size;
    size_t block = (n + (size_t)p - 1) / (size_t)p;
    int counts[p], displs[p], rcounts[p], rdispls[p];
    for (int j = 0; j < p; j++) {
        size_t lo = (size_t)j * block < n ? (size_t)j * block : n;
        size_t hi = lo + block < n ? lo + block : n;
        counts[j] = (int)(hi - lo);
        displs[j] = (int)lo;
    }
    int mine = counts[g->rank];
    for (int j = 0; j < p; j++) {
        rcounts[j] = mine;
        rdispls[j] = j * mine;
    }
    TRY_MPI(MPI_Alltoallv(buf, counts, displs, MPI_FLOAT, scratch, rcounts, rdispls, MPI_FLOAT,
                          g->comm),
            "MPI_Alltoallv");
    float *out = buf + displs[g->rank];
    for (int i = 0; i < mine; i++) {
        float s = scratch[i];
        for (int j = 1; j < p; j++) s += scratch[(size_t)j * (size_t)mine + (size_t)i];
        out[i] = s;
    }
    TRY_MPI(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, buf, counts, displs, MPI_FLOAT, g->comm),
            "MPI_Allgatherv");
    return 0;
}

int comm_allreduce_sum_f32(const struct comm_group *g, float *buf, size_t n, float *scratch,
                           struct err *e) {
    if (g->size <= 1) return 0;
    for (size_t off = 0; off < n; off += SEGMENT_ELEMS) {
        size_t len = n - off < SEGMENT_ELEMS ? n - off : SEGMENT_ELEMS;
        TRY(allreduce_segment(g, buf + off, len, scratch, e));
    }
    return 0;
}

int comm_allreduce_sum_f64(const struct comm_group *g, double *buf, size_t n, struct err *e) {
    if (g->size <= 1) return 0;
    // Small buffers (metrics): gather everything, add in rank order locally.
    double *all = xmalloc(n * (size_t)g->size * sizeof *all);
    int rc = 0;
    int mpi_rc = MPI_Allgather(buf, (int)n, MPI_DOUBLE, all, (int)n, MPI_DOUBLE, g->comm);
    if (mpi_rc != MPI_SUCCESS) {
        rc = comm_mpi_error(e, "MPI_Allgather", mpi_rc);
    } else {
        for (size_t i = 0; i < n; i++) {
            double s = all[i];
            for (int j = 1; j < g->size; j++) s += all[(size_t)j * n + i];
            buf[i] = s;
        }
    }
    free(all);
    return rc;
}

int comm_allreduce_max_f64(const struct comm_group *g, double *buf, size_t n, struct err *e) {
    if (g->size <= 1) return 0;
    TRY_MPI(MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_DOUBLE, MPI_MAX, g->comm),
            "MPI_Allreduce");
    return 0;
}

int comm_bcast_f32(const struct comm_group *g, float *buf, size_t n, int root, struct err *e) {
    if (g->size <= 1) return 0;
    for (size_t off = 0; off < n; off += SEGMENT_ELEMS) {
        int len = (int)(n - off < SEGMENT_ELEMS ? n - off : SEGMENT_ELEMS);
        TRY_MPI(MPI_Bcast(buf + off, len, MPI_FLOAT, root, g->comm), "MPI_Bcast");
    }
    return 0;
}

int comm_barrier(const struct comm_group *g, struct err *e) {
    if (g->comm == MPI_COMM_NULL) return 0;
    TRY_MPI(MPI_Barrier(g->comm), "MPI_Barrier");
    return 0;
}

int comm_local_size(const struct comm_world *w) {
    MPI_Comm local;
    if (MPI_Comm_split_type(w->world.comm, MPI_COMM_TYPE_SHARED, w->rank, MPI_INFO_NULL, &local) !=
        MPI_SUCCESS)
        return 1;
    int n = 1;
    MPI_Comm_size(local, &n);
    MPI_Comm_free(&local);
    return n;
}

uint64_t comm_hash_bytes(const void *buf, size_t n_bytes) {
    const unsigned char *p = buf;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n_bytes; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
