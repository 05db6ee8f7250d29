// NCCL communicators from MPI groups (see comm/comm_nccl.h).
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdlib.h>

#include "comm/comm_nccl.h"
#include "core/check.h"

struct comm_nccl {
    ncclComm_t comm;
    int rank, size, device;
};

int comm_nccl_create(const struct comm_group *g, int device, struct comm_nccl **out,
                     struct err *e) {
    *out = NULL;
    if (g->comm == MPI_COMM_NULL) return err_internal(e, "nccl: this rank is not in the group");
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess) {
        cudaGetLastError();
        n_dev = 0;
    }
    if (device < 0 || device >= n_dev)
        return err_user(e, "nccl: cuda device '%d' not available (%d visible)", device, n_dev);
    ncclUniqueId id;
    if (g->rank == 0 && ncclGetUniqueId(&id) != ncclSuccess)
        return err_internal(e, "ncclGetUniqueId failed");
    if (MPI_Bcast(&id, (int)sizeof id, MPI_BYTE, 0, g->comm) != MPI_SUCCESS)
        return err_internal(e, "nccl: MPI_Bcast of the unique id failed");
    cudaError_t crc = cudaSetDevice(device);
    if (crc != cudaSuccess)
        return err_internal(e, "cudaSetDevice(%d): %s", device, cudaGetErrorString(crc));
    struct comm_nccl *c = xcalloc(1, sizeof *c);
    c->rank = g->rank;
    c->size = g->size;
    c->device = device;
    ncclResult_t rc = ncclCommInitRank(&c->comm, g->size, id, g->rank);
    if (rc != ncclSuccess) {
        free(c);
        return err_internal(e, "ncclCommInitRank (rank %d of %d): %s", g->rank, g->size,
                            ncclGetErrorString(rc));
    }
    *out = c;
    return 0;
}

void comm_nccl_destroy(struct comm_nccl **c) {
    if (!c || !*c) return;
    ncclCommDestroy((*c)->comm);
    free(*c);
    *c = NULL;
}

int comm_nccl_allreduce_sum_f32(struct comm_nccl *c, float *buf, size_t n, void *stream,
                                struct err *e) {
    ncclResult_t rc =
        ncclAllReduce(buf, buf, n, ncclFloat32, ncclSum, c->comm, (cudaStream_t)stream);
    if (rc != ncclSuccess) return err_internal(e, "ncclAllReduce: %s", ncclGetErrorString(rc));
    return 0;
}

int comm_nccl_bcast_f32(struct comm_nccl *c, float *buf, size_t n, int root, void *stream,
                        struct err *e) {
    ncclResult_t rc = ncclBroadcast(buf, buf, n, ncclFloat32, root, c->comm, (cudaStream_t)stream);
    if (rc != ncclSuccess) return err_internal(e, "ncclBroadcast: %s", ncclGetErrorString(rc));
    return 0;
}
