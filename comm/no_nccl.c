// CPU-only builds: no NCCL.
#include "comm/comm.h"
#include "comm/comm_nccl.h"

int comm_nccl_version(void) {
    return 0;
}

// comm/comm_nccl.h without CUDA: creating a communicator is a user error (wrong build).
int comm_nccl_create(const struct comm_group *g, int device, struct comm_nccl **out,
                     struct err *e) {
    (void)g, (void)device;
    *out = NULL;
    return err_user(e, "nccl: this build has no CUDA (reconfigure with -Dcuda=enabled)");
}

void comm_nccl_destroy(struct comm_nccl **c) {
    if (c) *c = NULL;
}

int comm_nccl_allreduce_sum_f32(struct comm_nccl *c, float *buf, size_t n, void *stream,
                                struct err *e) {
    (void)c, (void)buf, (void)n, (void)stream;
    return err_internal(e, "nccl: this build has no CUDA");
}

int comm_nccl_bcast_f32(struct comm_nccl *c, float *buf, size_t n, int root, void *stream,
                        struct err *e) {
    (void)c, (void)buf, (void)n, (void)root, (void)stream;
    return err_internal(e, "nccl: this build has no CUDA");
}
