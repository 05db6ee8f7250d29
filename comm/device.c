// comm_device_bind: every rank of the world agrees on whether there are CUDA
// devices and takes one by its node-local rank.
#include <stdio.h>
#include <string.h>

#include "comm/nccl.h"
#include "comm/comm_internal.h"

int comm_device_bind(const struct comm_world *w, struct comm_device *out, struct err *e) {
    memset(out, 0, sizeof *out);
    out->device = -1;
    char why[sizeof out->why] = "";
    comm_cuda_count_devices(&out->n_devices, why, sizeof why);
    MPI_Comm world = w->world.comm, local;
    TRY_MPI(MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, w->rank, MPI_INFO_NULL, &local),
            "comm_device_bind: MPI_Comm_split_type");
    MPI_Comm_rank(local, &out->local_rank);
    MPI_Comm_size(local, &out->local_size);
    MPI_Comm_free(&local);
    // The fewest devices and the first rank that has them; whether any node
    // has more ranks than devices.
    int mine[2] = {out->n_devices, w->rank}, least[2];
    TRY_MPI(MPI_Allreduce(mine, least, 1, MPI_2INT, MPI_MINLOC, world),
            "comm_device_bind: MPI_Allreduce");
    int shared = out->local_size > out->n_devices, any_shared = 0;
    TRY_MPI(MPI_Allreduce(&shared, &any_shared, 1, MPI_INT, MPI_MAX, world),
            "comm_device_bind: MPI_Allreduce");
    out->min_devices = least[0];
    out->is_shared = any_shared != 0;
    if (least[0] == 0) {
        TRY_MPI(MPI_Bcast(why, (int)sizeof why, MPI_CHAR, least[1], world),
                "comm_device_bind: MPI_Bcast");
        why[sizeof why - 1] = '\0';
        snprintf(out->why, sizeof out->why, "rank %d sees no CUDA device: %.200s", least[1], why);
        return 0;
    }
    out->device = out->local_rank % out->n_devices;
    return comm_cuda_set_device(out->device, e);
}
