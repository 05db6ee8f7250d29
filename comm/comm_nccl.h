// NCCL communicators over a role's MPI group (design.md §2: gradient allreduce among learners,
// weight broadcast learner -> rollout workers, on device buffers). Rank 0 of the group makes
// the unique id and MPI broadcasts it; every rank binds one CUDA device. MPI stays for control
// messages and host buffers. CUDA builds only: elsewhere comm_nccl_create returns ERR_USER.
#pragma once

#include <stddef.h>

#include "comm/comm.h"
#include "core/err.h"

struct comm_nccl; // opaque: the NCCL communicator, its rank, size and device

// Collective over g (every rank of g calls it). device: the CUDA device this rank uses
// (e.g. its node-local rank modulo the devices of the node).
int comm_nccl_create(const struct comm_group *g, int device, struct comm_nccl **out, struct err *e);
void comm_nccl_destroy(struct comm_nccl **c);

// In-place sum of n floats of a device buffer over the group, and broadcast from root;
// enqueued on stream (a cudaStream_t, NULL for the default stream), not waited for. The sum's
// order is NCCL's (not rank order), so it is not bitwise equal to comm_allreduce_sum_f32.
int comm_nccl_allreduce_sum_f32(struct comm_nccl *c, float *buf, size_t n, void *stream,
                                struct err *e);
int comm_nccl_bcast_f32(struct comm_nccl *c, float *buf, size_t n, int root, void *stream,
                        struct err *e);
