// NCCL communicators over MPI role groups and the device collectives (CUDA
// builds only; comm/no_nccl.c stands in for CPU-only builds).
#include "comm/nccl.h"

#include <cuda_runtime_api.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm/comm_internal.h"
#include "core/check.h"

struct comm_nccl {
    ncclComm_t comm;
    cudaStream_t stream; // the communicator's own, non-blocking
    cudaEvent_t event;   // reused by comm_nccl_stream_wait
    int rank, size;
};

static int cuda_fail(struct err *e, const char *call, cudaError_t rc) {
    return err_internal(e, "%s failed: %s", call, cudaGetErrorString(rc));
}

// NCCL's error string, and its last message on the communicator when there
// is one (it names the argument or peer at fault).
static int nccl_fail(struct err *e, const struct comm_nccl *c, const char *call, ncclResult_t rc) {
    const char *detail = c && c->comm ? ncclGetLastError(c->comm) : NULL;
    if (detail && detail[0])
        return err_internal(e, "%s failed: %s (%s)", call, ncclGetErrorString(rc), detail);
    return err_internal(e, "%s failed: %s", call, ncclGetErrorString(rc));
}

#define TRY_CUDA(call, name)                                                                       \
    do {                                                                                           \
        cudaError_t cuda_rc_ = (call);                                                             \
        if (cuda_rc_ != cudaSuccess) return cuda_fail(e, name, cuda_rc_);                          \
    } while (0)

#define TRY_NCCL(c, call, name)                                                                    \
    do {                                                                                           \
        ncclResult_t nccl_rc_ = (call);                                                            \
        if (nccl_rc_ != ncclSuccess) return nccl_fail(e, c, name, nccl_rc_);                       \
    } while (0)

void comm_cuda_count_devices(int *n, char *why, size_t why_size) {
    *n = 0;
    cudaError_t rc = cudaGetDeviceCount(n);
    if (rc != cudaSuccess) {
        cudaGetLastError(); // no GPU is a normal state: clear the sticky error
        *n = 0;
        snprintf(why, why_size, "cudaGetDeviceCount: %s", cudaGetErrorString(rc));
    } else if (*n == 0) {
        snprintf(why, why_size, "cudaGetDeviceCount found 0 devices");
    }
}

int comm_cuda_set_device(int device, struct err *e) {
    TRY_CUDA(cudaSetDevice(device), "cudaSetDevice");
    return 0;
}

// Why this rank cannot join (0 when it can): no current device, or a device
// shared with another member on its node. Collective over g.
static int check_member(const struct comm_group *g, int *device, char *why, size_t why_size,
                        struct err *e) {
    int n = 0, code = 0;
    comm_cuda_count_devices(&n, why, why_size);
    *device = -1;
    if (n == 0) {
        code = 1;
    } else {
        cudaError_t rc = cudaGetDevice(device);
        if (rc != cudaSuccess) {
            snprintf(why, why_size, "cudaGetDevice: %s", cudaGetErrorString(rc));
            *device = -1;
            code = 1;
        }
    }
    MPI_Comm local;
    TRY_MPI(MPI_Comm_split_type(g->comm, MPI_COMM_TYPE_SHARED, g->rank, MPI_INFO_NULL, &local),
            "MPI_Comm_split_type");
    int local_size = 0;
    MPI_Comm_size(local, &local_size);
    int mine[2] = {*device, g->rank};
    int *all = xmalloc(2 * (size_t)local_size * sizeof *all);
    int rc = MPI_Allgather(mine, 2, MPI_INT, all, 2, MPI_INT, local);
    MPI_Comm_free(&local);
    for (int j = 0; rc == MPI_SUCCESS && code == 0 && j < local_size; j++) {
        if (all[2 * j + 1] < g->rank && all[2 * j] == *device) {
            snprintf(why, why_size,
                     "shares CUDA device %d with rank %d on its node (NCCL needs one device per "
                     "rank: run at most as many ranks per node as it has GPUs)",
                     *device, all[2 * j + 1]);
            code = 2;
        }
    }
    free(all);
    if (rc != MPI_SUCCESS) return comm_mpi_error(e, "MPI_Allgather", rc);
    return code;
}

int comm_nccl_create(const struct comm_group *g, struct comm_nccl **out, struct err *e) {
    *out = NULL;
    if (g->comm == MPI_COMM_NULL)
        return err_internal(e, "comm_nccl_create: this rank is not a member of the group");
    // Agree before any NCCL call, so that one rank's missing device fails
    // every member rather than leaving them waiting for it.
    char why[200] = "";
    int device = -1;
    int code = check_member(g, &device, why, sizeof why, e);
    if (code < 0) return code;
    int mine[2] = {code, g->rank}, worst[2];
    TRY_MPI(MPI_Allreduce(mine, worst, 1, MPI_2INT, MPI_MAXLOC, g->comm), "MPI_Allreduce");
    if (worst[0] != 0) {
        TRY_MPI(MPI_Bcast(why, (int)sizeof why, MPI_CHAR, worst[1], g->comm), "MPI_Bcast");
        why[sizeof why - 1] = '\0';
        if (worst[0] == 1)
            return err_user(e,
                            "cannot create an NCCL communicator over %d ranks: rank %d has no "
                            "CUDA device (%s)",
                            g->size, worst[1], why);
        return err_user(e, "cannot create an NCCL communicator over %d ranks: rank %d %s", g->size,
                        worst[1], why);
    }
    struct {
        int rc;
        ncclUniqueId id;
    } msg;
    memset(&msg, 0, sizeof msg);
    if (g->rank == 0) msg.rc = (int)ncclGetUniqueId(&msg.id);
    TRY_MPI(MPI_Bcast(&msg, (int)sizeof msg, MPI_BYTE, 0, g->comm), "MPI_Bcast");
    if (msg.rc != ncclSuccess)
        return err_internal(e, "ncclGetUniqueId failed on group rank 0: %s",
                            ncclGetErrorString((ncclResult_t)msg.rc));
    struct comm_nccl *c = xcalloc(1, sizeof *c);
    c->rank = g->rank;
    c->size = g->size;
    int rc = 0;
    ncclResult_t nrc = ncclCommInitRank(&c->comm, g->size, msg.id, g->rank);
    if (nrc != ncclSuccess) {
        c->comm = NULL;
        rc = nccl_fail(e, NULL, "ncclCommInitRank", nrc);
        goto fail;
    }
    cudaError_t crc = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
    if (crc != cudaSuccess) {
        c->stream = NULL;
        rc = cuda_fail(e, "cudaStreamCreateWithFlags", crc);
        goto fail;
    }
    crc = cudaEventCreateWithFlags(&c->event, cudaEventDisableTiming);
    if (crc != cudaSuccess) {
        c->event = NULL;
        rc = cuda_fail(e, "cudaEventCreateWithFlags", crc);
        goto fail;
    }
    *out = c;
    return 0;
fail:
    comm_nccl_destroy(&c);
    return rc;
}

void comm_nccl_destroy(struct comm_nccl **cp) {
    struct comm_nccl *c = *cp;
    if (!c) return;
    if (c->stream) cudaStreamSynchronize(c->stream);
    if (c->comm) {
        ncclResult_t async = ncclSuccess;
        ncclCommGetAsyncError(c->comm, &async);
        // A broken communicator cannot finalise (its peers may be gone).
        if (async == ncclSuccess && ncclCommFinalize(c->comm) == ncclSuccess)
            ncclCommDestroy(c->comm);
        else
            ncclCommAbort(c->comm);
    }
    if (c->event) cudaEventDestroy(c->event);
    if (c->stream) cudaStreamDestroy(c->stream);
    free(c);
    *cp = NULL;
}

int comm_nccl_rank(const struct comm_nccl *c) {
    return c->rank;
}

int comm_nccl_size(const struct comm_nccl *c) {
    return c->size;
}

void *comm_nccl_stream(const struct comm_nccl *c) {
    return c->stream;
}

static ncclDataType_t nccl_type(enum comm_dtype t) {
    CHECK(t == COMM_F32 || t == COMM_BF16, "comm_dtype %d", (int)t);
    return t == COMM_BF16 ? ncclBfloat16 : ncclFloat32;
}

// NCCL does not check pointers unless NCCL_CHECK_POINTERS=1; a host pointer
// would fault inside a kernel, far from the caller.
static int check_device_ptr(const char *fn, const void *buf, struct err *e) {
    struct cudaPointerAttributes a;
    cudaError_t rc = cudaPointerGetAttributes(&a, buf);
    if (rc != cudaSuccess) {
        cudaGetLastError();
        return cuda_fail(e, "cudaPointerGetAttributes", rc);
    }
    if (a.type != cudaMemoryTypeDevice && a.type != cudaMemoryTypeManaged)
        return err_internal(e, "%s: buffer %p is not device memory", fn, buf);
    return 0;
}

int comm_nccl_allreduce_sum(struct comm_nccl *c, void *buf, size_t n, enum comm_dtype t,
                            void *stream, struct err *e) {
    if (n == 0) return 0;
    TRY(check_device_ptr("comm_nccl_allreduce_sum", buf, e));
    TRY_NCCL(c, ncclAllReduce(buf, buf, n, nccl_type(t), ncclSum, c->comm, (cudaStream_t)stream),
             "ncclAllReduce");
    return 0;
}

int comm_nccl_bcast(struct comm_nccl *c, void *buf, size_t n, enum comm_dtype t, int root,
                    void *stream, struct err *e) {
    if (root < 0 || root >= c->size)
        return err_internal(e, "comm_nccl_bcast: root %d is outside the group of %d ranks", root,
                            c->size);
    if (n == 0) return 0;
    TRY(check_device_ptr("comm_nccl_bcast", buf, e));
    TRY_NCCL(c, ncclBroadcast(buf, buf, n, nccl_type(t), root, c->comm, (cudaStream_t)stream),
             "ncclBroadcast");
    return 0;
}

int comm_nccl_stream_wait(struct comm_nccl *c, void *stream, void *after, struct err *e) {
    if (stream == after) return 0;
    TRY_CUDA(cudaEventRecord(c->event, (cudaStream_t)after), "cudaEventRecord");
    TRY_CUDA(cudaStreamWaitEvent((cudaStream_t)stream, c->event, 0), "cudaStreamWaitEvent");
    return 0;
}

int comm_nccl_wait(struct comm_nccl *c, void *stream, struct err *e) {
    TRY_CUDA(cudaStreamSynchronize((cudaStream_t)stream), "cudaStreamSynchronize");
    ncclResult_t async = ncclSuccess;
    TRY_NCCL(c, ncclCommGetAsyncError(c->comm, &async), "ncclCommGetAsyncError");
    if (async != ncclSuccess) return nccl_fail(e, c, "an NCCL collective", async);
    return 0;
}
