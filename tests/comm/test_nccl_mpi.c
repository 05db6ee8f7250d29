// Run under mpirun -np 2 or -np 3: NCCL communicators from the MPI role
// groups, colocated over every rank, then (3 ranks) disaggregated with one
// learner, one rollout worker and one reward worker, which joins no NCCL
// communicator. The gradient allreduce over the learners is checked against
// the CPU rank-order comm_allreduce_sum_f32 of the same buffers (nccl-tests
// style: every rank fills its buffer from (seed, rank), so each knows the
// answer), the weight broadcast learner 0 -> rollout workers bitwise, and the
// error paths (bad root, host pointer, no device, two ranks on one device).
//
// Without a CUDA device (or CUDA) every rank learns it in comm_device_bind,
// which is collective, checks that comm_nccl_create fails on every rank
// without hanging, and all ranks exit 77 (skip) together. On a machine with
// fewer GPUs than ranks per node the multi-rank checks are replaced by the
// "shared device" error check plus single-rank communicators (said on stdout).
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm.h"
#include "comm/nccl.h"
#include "core/rng.h"
#include "grpo_build.h"
#include "tests/comm/mpi_test.h"

#if GRPO_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

#define SKIP_STATUS 77
// fp32 sums of at most 3 values in [-1, 1] in another order than rank order:
// each element differs by at most 2 roundings of its partial sums (u = 6e-8),
// so the norm-wise relative difference stays near 1e-7.
#define F32_SUM_RTOL 1e-6

// No device: creating a communicator must fail on every member, not hang.
static void check_no_device(const struct comm_world *w, const struct comm_device *dev) {
    EXPECT(dev->device == -1 && dev->why[0] != '\0', "no device: device %d, why '%s'", dev->device,
           dev->why);
    if (!w->is_learner) return;
    struct comm_nccl *c = (struct comm_nccl *)1;
    struct err e = {0};
    int rc = comm_nccl_create(&w->learners, &c, &e);
    EXPECT(rc == ERR_USER && c == NULL, "comm_nccl_create without a device: rc %d", rc);
    if (world_rank == 0) printf("comm_nccl_create without a device: %s\n", e.msg);
    EXPECT(strstr(e.msg, "CUDA") != NULL, "no-device message does not say why: '%s'", e.msg);
#if !GRPO_HAVE_CUDA
    rc = comm_nccl_allreduce_sum(NULL, NULL, 1, COMM_F32, NULL, &e);
    EXPECT(rc == ERR_USER && strstr(e.msg, "built without CUDA"), "stub allreduce: %d '%s'", rc,
           e.msg);
    rc = comm_nccl_bcast(NULL, NULL, 1, COMM_F32, 0, NULL, &e);
    EXPECT(rc == ERR_USER && strstr(e.msg, "built without CUDA"), "stub bcast: %d '%s'", rc, e.msg);
#endif
}

#if GRPO_HAVE_CUDA

// The weight-sync group as trainer/grpo_dist.c makes it: learner 0 (world
// rank 0) and every rollout worker; the whole world when colocated.
static struct comm_group sync_group(const struct comm_world *w) {
    struct comm_group g = {.comm = MPI_COMM_NULL, .rank = -1, .size = 0};
    int in_sync = w->placement == PLACE_COLOCATED || w->rank == 0 || w->is_rollout;
    MPI_Comm_split(w->world.comm, in_sync ? 0 : MPI_UNDEFINED, w->rank, &g.comm);
    if (g.comm != MPI_COMM_NULL) {
        MPI_Comm_rank(g.comm, &g.rank);
        MPI_Comm_size(g.comm, &g.size);
    }
    return g;
}

static float value(int rank, size_t i) {
    uint32_t out[4];
    rng(out, 4321, rng_stream_id(RNG_TEST, (uint64_t)rank, 7, 0), i);
    return rng_u32_to_unit_f32(out[0]) * 2.0f - 1.0f;
}

// Small integers: exact in fp32 and bf16 sums whatever the order.
static float small_int(int rank, size_t i) {
    return (float)((int)((i * 7 + (size_t)rank * 3) % 11) - 5);
}

#define CUDA_OK(call)                                                                              \
    do {                                                                                           \
        cudaError_t rc_ = (call);                                                                  \
        if (rc_ != cudaSuccess) {                                                                  \
            fprintf(stderr, "rank %d: %s:%d: %s: %s\n", world_rank, __FILE__, __LINE__, #call,     \
                    cudaGetErrorString(rc_));                                                      \
            MPI_Abort(MPI_COMM_WORLD, 2);                                                          \
        }                                                                                          \
    } while (0)

static uint16_t to_bf16(float x) { // exact for the small integers used here
    uint32_t u;
    memcpy(&u, &x, 4);
    return (uint16_t)(u >> 16);
}

static float from_bf16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

static void *upload(const void *host, size_t n_bytes) {
    void *d = NULL;
    CUDA_OK(cudaMalloc(&d, n_bytes));
    CUDA_OK(cudaMemcpy(d, host, n_bytes, cudaMemcpyHostToDevice));
    return d;
}

// Whether two members of g on one node hold the same device (then NCCL
// cannot have them in one communicator). Computed here, apart from nccl.c.
static int group_shares_device(const struct comm_group *g, int device) {
    MPI_Comm local;
    MPI_Comm_split_type(g->comm, MPI_COMM_TYPE_SHARED, g->rank, MPI_INFO_NULL, &local);
    int n = 0;
    MPI_Comm_size(local, &n);
    int *all = malloc((size_t)n * sizeof *all);
    MPI_Allgather(&device, 1, MPI_INT, all, 1, MPI_INT, local);
    MPI_Comm_free(&local);
    int shared = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) shared |= all[i] == all[j];
    free(all);
    int any = 0;
    MPI_Allreduce(&shared, &any, 1, MPI_INT, MPI_MAX, g->comm);
    return any;
}

// The gradient allreduce: random fp32 against the CPU rank-order sum, small
// integers in fp32 and bf16 exactly, enqueued on the communicator's stream
// after an upload on a separate "compute" stream.
static void check_allreduce(struct comm_nccl *c, const struct comm_group *g, size_t n) {
    struct err e = {0};
    float *host = malloc(n * sizeof *host), *cpu = malloc(n * sizeof *cpu);
    float *scratch = malloc(n * sizeof *scratch), *got = malloc(n * sizeof *got);
    for (size_t i = 0; i < n; i++) host[i] = cpu[i] = value(g->rank, i);
    EXPECT(comm_allreduce_sum_f32(g, cpu, n, scratch, &e) == 0, "cpu allreduce: %s", e.msg);

    cudaStream_t compute;
    CUDA_OK(cudaStreamCreateWithFlags(&compute, cudaStreamNonBlocking));
    float *d = NULL;
    CUDA_OK(cudaMalloc((void **)&d, n * sizeof *d));
    CUDA_OK(cudaMemsetAsync(d, 0xff, n * sizeof *d, compute)); // NaN poison
    CUDA_OK(cudaMemcpyAsync(d, host, n * sizeof *d, cudaMemcpyHostToDevice, compute));
    void *s = comm_nccl_stream(c);
    EXPECT(comm_nccl_stream_wait(c, s, compute, &e) == 0, "stream_wait: %s", e.msg);
    EXPECT(comm_nccl_allreduce_sum(c, d, n, COMM_F32, s, &e) == 0, "allreduce: %s", e.msg);
    EXPECT(comm_nccl_wait(c, s, &e) == 0, "wait: %s", e.msg);
    CUDA_OK(cudaMemcpy(got, d, n * sizeof *d, cudaMemcpyDeviceToHost));
    double diff2 = 0, ref2 = 0;
    size_t n_diff = 0;
    for (size_t i = 0; i < n; i++) {
        double dd = (double)got[i] - (double)cpu[i];
        diff2 += isnan(dd) ? INFINITY : dd * dd;
        ref2 += (double)cpu[i] * cpu[i];
        n_diff += memcmp(&got[i], &cpu[i], sizeof got[i]) != 0;
    }
    double rel = sqrt(diff2 / ref2);
    EXPECT(rel < F32_SUM_RTOL, "allreduce of %zu floats over %d ranks: relative error %.3g", n,
           g->size, rel);
    if (g->size <= 2) // a + b is the same float in either order
        EXPECT(n_diff == 0, "allreduce over %d ranks: %zu elements differ from the CPU sum",
               g->size, n_diff);
    uint64_t h = comm_hash_bytes(got, n * sizeof *got), h0 = h;
    MPI_Bcast(&h0, 1, MPI_UINT64_T, 0, g->comm);
    EXPECT(h == h0, "the ranks received different reduced buffers");

    // Small integers, fp32 and bf16, on the legacy default stream: exact.
    for (size_t i = 0; i < n; i++) host[i] = small_int(g->rank, i);
    CUDA_OK(cudaMemcpy(d, host, n * sizeof *d, cudaMemcpyHostToDevice));
    EXPECT(comm_nccl_allreduce_sum(c, d, n, COMM_F32, NULL, &e) == 0, "allreduce: %s", e.msg);
    EXPECT(comm_nccl_wait(c, NULL, &e) == 0, "wait: %s", e.msg);
    CUDA_OK(cudaMemcpy(got, d, n * sizeof *d, cudaMemcpyDeviceToHost));
    uint16_t *h16 = malloc(n * sizeof *h16);
    for (size_t i = 0; i < n; i++) h16[i] = to_bf16(small_int(g->rank, i));
    uint16_t *d16 = upload(h16, n * sizeof *h16);
    // A pageable upload may still be in flight on the legacy stream.
    EXPECT(comm_nccl_stream_wait(c, s, NULL, &e) == 0, "stream_wait: %s", e.msg);
    EXPECT(comm_nccl_allreduce_sum(c, d16, n, COMM_BF16, s, &e) == 0, "bf16: %s", e.msg);
    EXPECT(comm_nccl_wait(c, s, &e) == 0, "wait: %s", e.msg);
    CUDA_OK(cudaMemcpy(h16, d16, n * sizeof *h16, cudaMemcpyDeviceToHost));
    size_t wrong = 0, wrong16 = 0;
    for (size_t i = 0; i < n; i++) {
        float want = 0;
        for (int r = 0; r < g->size; r++) want += small_int(r, i);
        wrong += got[i] != want;
        wrong16 += from_bf16(h16[i]) != want;
    }
    EXPECT(wrong == 0 && wrong16 == 0, "integer sums wrong: %zu fp32, %zu bf16 of %zu", wrong,
           wrong16, n);

    // A host pointer is refused before NCCL sees it.
    int rc = comm_nccl_allreduce_sum(c, host, n, COMM_F32, s, &e);
    EXPECT(rc == ERR_INTERNAL && strstr(e.msg, "not device memory"), "host pointer: %d '%s'", rc,
           e.msg);
    CUDA_OK(cudaFree(d16));
    CUDA_OK(cudaFree(d));
    CUDA_OK(cudaStreamDestroy(compute));
    free(h16);
    free(host);
    free(cpu);
    free(scratch);
    free(got);
}

// The weight broadcast: root's flat buffer reaches every rank bitwise; a root
// outside the group is an error on every rank.
static void check_bcast(struct comm_nccl *c, const struct comm_group *g, size_t n, int root) {
    struct err e = {0};
    float *host = malloc(n * sizeof *host);
    for (size_t i = 0; i < n; i++) host[i] = g->rank == root ? value(99, i) : NAN;
    float *d = upload(host, n * sizeof *host);
    void *s = comm_nccl_stream(c);
    EXPECT(comm_nccl_stream_wait(c, s, NULL, &e) == 0, "stream_wait: %s", e.msg);
    EXPECT(comm_nccl_bcast(c, d, n, COMM_F32, root, s, &e) == 0, "bcast: %s", e.msg);
    EXPECT(comm_nccl_wait(c, s, &e) == 0, "wait: %s", e.msg);
    CUDA_OK(cudaMemcpy(host, d, n * sizeof *host, cudaMemcpyDeviceToHost));
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++) {
        float want = value(99, i);
        wrong += memcmp(&want, &host[i], sizeof want) != 0;
    }
    EXPECT(wrong == 0, "bcast of %zu floats from root %d: %zu elements wrong on group rank %d", n,
           root, wrong, g->rank);
    for (int bad = -1; bad <= g->size; bad += g->size + 1) {
        int rc = comm_nccl_bcast(c, d, n, COMM_F32, bad, s, &e);
        EXPECT(rc == ERR_INTERNAL && strstr(e.msg, "outside the group"), "root %d: %d '%s'", bad,
               rc, e.msg);
    }
    CUDA_OK(cudaFree(d));
    free(host);
}

// Communicator over g, or the shared-device error expected on every member.
static void check_group(const struct comm_group *g, int device, const char *what, int root) {
    struct err e = {0};
    struct comm_nccl *c = NULL;
    int shares = group_shares_device(g, device);
    int rc = comm_nccl_create(g, &c, &e);
    if (shares) {
        EXPECT(rc == ERR_USER && c == NULL && strstr(e.msg, "shares CUDA device"),
               "%s: ranks share a device, comm_nccl_create gave %d '%s'", what, rc, e.msg);
        if (g->rank == 0 && (g->size > 1 || world_rank == 0))
            printf("%s: %d ranks share a GPU: the %d-rank NCCL checks did not run, the "
                   "shared-device error did\n",
                   what, g->size, g->size);
        return;
    }
    EXPECT(rc == 0, "%s: comm_nccl_create: %s", what, e.msg);
    if (rc != 0) return;
    EXPECT(comm_nccl_rank(c) == g->rank && comm_nccl_size(c) == g->size, "%s: rank/size", what);
    check_allreduce(c, g, 4099);
    check_allreduce(c, g, 2); // fewer elements than ranks
    check_bcast(c, g, 10007, root);
    comm_nccl_destroy(&c);
    EXPECT(c == NULL, "destroy leaves the pointer");
    if (g->rank == 0 && (g->size > 1 || world_rank == 0))
        printf("%s: %d-rank NCCL checks ran\n", what, g->size);
}

static void check_device(const struct comm_world *w, const struct comm_device *dev) {
    EXPECT(dev->device >= 0 && dev->device < dev->n_devices, "device %d of %d", dev->device,
           dev->n_devices);
    int cur = -1;
    CUDA_OK(cudaGetDevice(&cur));
    EXPECT(cur == dev->device, "current device %d, bound %d", cur, dev->device);
    // Single-rank communicators run even where every rank shares one GPU.
    struct comm_group self = {.comm = MPI_COMM_SELF, .rank = 0, .size = 1};
    check_group(&self, dev->device, "single-rank", 0);
    if (w->is_learner) check_group(&w->learners, dev->device, "learners", 0);
    struct comm_group sg = sync_group(w);
    // Colocated: from the last rank, to test a root other than 0.
    if (sg.comm != MPI_COMM_NULL) {
        check_group(&sg, dev->device, "weight sync",
                    w->placement == PLACE_COLOCATED ? sg.size - 1 : 0);
        MPI_Comm_free(&sg.comm);
    }
}

#endif

int main(int argc, char **argv) {
    struct err e;
    if (comm_init(&argc, &argv, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    int size;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 2 && size != 3) {
        if (world_rank == 0) fprintf(stderr, "run with mpirun -np 2 or 3 (got %d ranks)\n", size);
        comm_finalize();
        return 2;
    }
    // Colocated over every rank, then (3 ranks) disaggregated 1 + 1 + 1.
    int skip = 0;
    struct comm_device dev = {0};
    for (int layout = 0; layout < (size == 3 ? 2 : 1) && !skip; layout++) {
        struct config cfg;
        if (layout == 0)
            load_layout(&cfg, "colocated", 0, 0, 0);
        else
            load_layout(&cfg, "disaggregated", 1, 1, 1);
        struct comm_world *w = NULL;
        if (comm_world_create(&cfg, &w, &e) != 0) {
            fprintf(stderr, "rank %d: %s\n", world_rank, e.msg);
            comm_abort(2);
        }
        if (layout == 0) {
            EXPECT(comm_device_bind(w, &dev, &e) == 0, "comm_device_bind: %s", e.msg);
            EXPECT(dev.local_size >= 1 && dev.local_rank >= 0 && dev.local_rank < dev.local_size,
                   "local rank %d of %d", dev.local_rank, dev.local_size);
            skip = dev.min_devices == 0;
        }
        if (skip) {
            check_no_device(w, &dev);
        } else {
#if GRPO_HAVE_CUDA
            check_device(w, &dev);
#else
            EXPECT(0, "a build without CUDA reported %d devices", dev.min_devices);
#endif
        }
        comm_world_destroy(&w);
        config_destroy(&cfg);
    }
    int failed = n_failed, any_failed = 0;
    MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (world_rank == 0) {
        if (any_failed)
            printf("FAIL (see the ranks' messages)\n");
        else if (skip)
            printf("SKIP: %s (the no-device error paths passed on all %d ranks)\n", dev.why, size);
        else
            printf("OK: NCCL %d, %d devices on rank 0%s\n", comm_nccl_version(), dev.n_devices,
                   dev.is_shared ? " (shared by several ranks)" : "");
    }
    comm_finalize();
    return any_failed ? 1 : skip ? SKIP_STATUS : 0;
}
