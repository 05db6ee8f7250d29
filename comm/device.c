// comm_device_bind: every rank of the world agrees on whether there are CUDA
// devices and takes one by its node-local rank.
#include <stdio.h>
#include <string.h>

#include "comm/nccl.h"
#include "comm/nccl_internal.h"

static int mpi_fail(struct err *e, const char *what, int code) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, msg, &len);
    return err_internal(e, "comm_device_bind: %s failed: %s", what, msg);
}

int comm_device_bind(const struct comm_world *w, struct comm_device *out, struct err *e) {
    memset(out, 0, sizeof *out);
    out->device = -1;
    char why[sizeof out->why] = "";
    comm_cuda_count_devices(&out->n_devices, why, sizeof why);
    MPI_Comm world = w->world.comm, local;
    int rc = MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, w->rank, MPI_INFO_NULL, &local);
    if (rc != MPI_SUCCESS) return mpi_fail(e, "MPI_Comm_split_type", rc);
    MPI_Comm_rank(local, &out->local_rank);
    MPI_Comm_size(local, &out->local_size);
    MPI_Comm_free(&local);
    // The fewest devices and the first rank that has them; whether any node
    // has more ranks than devices.
    int mine[2] = {out->n_devices, w->rank}, least[2];
    rc = MPI_Allreduce(mine, least, 1, MPI_2INT, MPI_MINLOC, world);
    if (rc != MPI_SUCCESS) return mpi_fail(e, "MPI_Allreduce", rc);
    int shared = out->local_size > out->n_devices, any_shared = 0;
    rc = MPI_Allreduce(&shared, &any_shared, 1, MPI_INT, MPI_MAX, world);
    if (rc != MPI_SUCCESS) return mpi_fail(e, "MPI_Allreduce", rc);
    out->min_devices = least[0];
    out->is_shared = any_shared != 0;
    if (least[0] == 0) {
        rc = MPI_Bcast(why, (int)sizeof why, MPI_CHAR, least[1], world);
        if (rc != MPI_SUCCESS) return mpi_fail(e, "MPI_Bcast", rc);
        why[sizeof why - 1] = '\0';
        snprintf(out->why, sizeof out->why, "rank %d sees no CUDA device: %.200s", least[1], why);
        return 0;
    }
    out->device = out->local_rank % out->n_devices;
    return comm_cuda_set_device(out->device, e);
}
