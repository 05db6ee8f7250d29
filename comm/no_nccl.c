// CPU-only builds: no NCCL and no CUDA device. comm_device_bind reports no
// device; every comm_nccl_* call is an ERR_USER.
#include <stdio.h>

#include "comm/comm.h"
#include "comm/nccl.h"
#include "comm/comm_internal.h"

#define NO_CUDA "built without CUDA (reconfigure with nvcc on PATH and -Dcuda=enabled)"

int comm_nccl_version(void) {
    return 0;
}

void comm_cuda_count_devices(int *n, char *why, size_t why_size) {
    *n = 0;
    snprintf(why, why_size, "%s", NO_CUDA);
}

int comm_cuda_set_device(int device, struct err *e) {
    return err_user(e, "cannot use CUDA device %d: %s", device, NO_CUDA);
}

int comm_nccl_create(const struct comm_group *g, struct comm_nccl **out, struct err *e) {
    (void)g;
    *out = NULL;
    return err_user(e, "cannot create an NCCL communicator: %s", NO_CUDA);
}

void comm_nccl_destroy(struct comm_nccl **c) {
    *c = NULL;
}

int comm_nccl_rank(const struct comm_nccl *c) {
    (void)c;
    return -1;
}

int comm_nccl_size(const struct comm_nccl *c) {
    (void)c;
    return 0;
}

void *comm_nccl_stream(const struct comm_nccl *c) {
    (void)c;
    return NULL;
}

int comm_nccl_allreduce_sum(struct comm_nccl *c, void *buf, size_t n, enum comm_dtype t,
                            void *stream, struct err *e) {
    (void)c, (void)buf, (void)n, (void)t, (void)stream;
    return err_user(e, "comm_nccl_allreduce_sum: %s", NO_CUDA);
}

int comm_nccl_bcast(struct comm_nccl *c, void *buf, size_t n, enum comm_dtype t, int root,
                    void *stream, struct err *e) {
    (void)c, (void)buf, (void)n, (void)t, (void)root, (void)stream;
    return err_user(e, "comm_nccl_bcast: %s", NO_CUDA);
}

int comm_nccl_stream_wait(struct comm_nccl *c, void *stream, void *after, struct err *e) {
    (void)c, (void)stream, (void)after;
    return err_user(e, "comm_nccl_stream_wait: %s", NO_CUDA);
}

int comm_nccl_wait(struct comm_nccl *c, void *stream, struct err *e) {
    (void)c, (void)stream;
    return err_user(e, "comm_nccl_wait: %s", NO_CUDA);
}
