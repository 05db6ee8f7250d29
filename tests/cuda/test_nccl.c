// NCCL communicators from an MPI group on device buffers: each rank fills its buffer from
// (seed, rank) with the counter RNG, so every rank knows the whole answer; the allreduce must
// equal the sum in rank order (NCCL sums in its own order: within fp32 rounding) and the
// broadcast must copy root's buffer bit for bit. Run under mpirun with one GPU per rank;
// exits 77 (skip) when the node has fewer GPUs than ranks.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm_nccl.h"
#include "core/rng.h"
#include "model/cuda/cuda.h"

// n floats summed over a few ranks in another order: a few ulps of the largest term.
#define TOL_ALLREDUCE 1e-6

static void fill(float *x, size_t n, int rank) {
    struct rng_seq s;
    rng_seq_init(&s, 17, rng_stream_id(RNG_TEST, 11, (uint64_t)rank, 0), 0);
    for (size_t i = 0; i < n; i++) x[i] = (float)rng_seq_normal(&s);
}

int main(int argc, char **argv) {
    struct err e = {0};
    if (comm_init(&argc, &argv, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    struct comm_group g = {.comm = MPI_COMM_WORLD};
    MPI_Comm_rank(MPI_COMM_WORLD, &g.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g.size);
    int n_dev = cuda_device_count();
    if (n_dev < g.size) {
        if (g.rank == 0)
            printf("no CUDA device for each of the %d ranks (%d visible): skipping\n", g.size,
                   n_dev);
        comm_finalize();
        return 77;
    }
    int bad = 0;
    struct comm_nccl *c = NULL;
    struct backend *be = NULL;
    if (comm_nccl_create(&g, g.rank, &c, &e) != 0 || backend_cuda_create(g.rank, &be, &e) != 0) {
        fprintf(stderr, "rank %d: %s\n", g.rank, e.msg);
        comm_abort(1);
    }
    size_t n = 1000003;
    float *h = malloc(n * sizeof *h), *ref = calloc(n, sizeof *ref), *tmp = malloc(n * sizeof *tmp);
    for (int r = 0; r < g.size; r++) {
        fill(tmp, n, r);
        for (size_t i = 0; i < n; i++) ref[i] += tmp[i];
    }
    fill(h, n, g.rank);
    float *d = NULL;
    if (cuda_malloc((void **)&d, n * sizeof *d, &e) != 0) comm_abort(1);
    cuda_copy_to_device(be, d, h, n * sizeof *d);
    if (comm_nccl_allreduce_sum_f32(c, d, n, backend_cuda_stream(be), &e) != 0) comm_abort(1);
    cuda_copy_to_host(be, h, d, n * sizeof *d);
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)h[i] - ref[i]) * ((double)h[i] - ref[i]);
        den += (double)ref[i] * ref[i];
    }
    double rel = sqrt(num / den);
    if (!(rel <= TOL_ALLREDUCE)) bad++;
    if (g.rank == 0)
        printf("nccl allreduce of %zu floats on %d ranks: rel err %.2e\n", n, g.size, rel);
    // broadcast from the last rank; the others start from NaN
    int root = g.size - 1;
    fill(h, n, 100 + g.rank);
    if (g.rank == root)
        cuda_copy_to_device(be, d, h, n * sizeof *d);
    else
        cuda_fill_bytes(be, d, 0xff, n * sizeof *d);
    if (comm_nccl_bcast_f32(c, d, n, root, backend_cuda_stream(be), &e) != 0) comm_abort(1);
    cuda_copy_to_host(be, h, d, n * sizeof *d);
    fill(tmp, n, 100 + root);
    if (memcmp(h, tmp, n * sizeof *h)) bad++;
    if (g.rank == 0) printf("nccl broadcast from rank %d: %s\n", root, bad ? "WRONG" : "exact");
    cuda_free(d);
    free(h), free(ref), free(tmp);
    comm_nccl_destroy(&c);
    backend_cuda_destroy(&be);
    int any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    comm_finalize();
    return any ? 1 : 0;
}
