// NCCL communicators built from the MPI role groups, and collectives on
// device buffers: the gradient allreduce among learners and the flat-weight
// broadcast from learner 0 to the rollout workers. MPI (comm/comm.h) stays
// for control messages and host buffers.
//
// Set-up, once per process, then once per group that talks over NCCL:
//     struct comm_device dev;
//     TRY(comm_device_bind(world, &dev, e));   // collective over the world
//     if (dev.min_devices == 0) -> run on the CPU, or refuse (dev.why says why)
//     TRY(comm_nccl_create(&world->learners, &nccl, e)); // collective over g
//
// Streams are cudaStream_t passed as void * so that C callers need no CUDA
// headers; NULL is CUDA's legacy default stream. Every collective is only
// enqueued: the buffer may be read after comm_nccl_wait on that stream, or by
// later work on a stream ordered after it (comm_nccl_stream_wait). Overlap
// with compute: enqueue a layer's gradient allreduce on comm_nccl_stream(c)
// after comm_nccl_stream_wait(c, comm_nccl_stream(c), compute_stream) as soon
// as backward has enqueued that layer, and order the optimizer after it with
// comm_nccl_stream_wait(c, compute_stream, comm_nccl_stream(c)).
//
// One device, several communicators (learner 0 is in the learner group and
// in the weight-sync group): NCCL kernels of two communicators running at
// once can wait on each other, so enqueue them on one stream, or order the
// streams, on every rank that holds both.
//
// Determinism: comm_allreduce_sum_f32 on the CPU adds in rank order, bitwise
// equal across runs and layouts of the same size. NCCL's summation order
// depends on the algorithm (ring, tree, NVLS, CollNet) and protocol it picks
// for the topology and message size, so its sums are reproducible only on the
// same machines, GPU layout, NCCL version and NCCL_ALGO / NCCL_PROTO settings
// (pin both for bitwise-reproducible runs), and differ from the CPU sum in the
// last bits for three or more ranks (two ranks: a + b is exact to the bit).
// Within one run every rank receives the same reduced buffer, so the
// learners' replica hash check (identical weights after the same AdamW step)
// still holds on the GPU path.
//
// Built without CUDA (GRPO_HAVE_CUDA 0) every function here exists:
// comm_device_bind reports no device (why: "built without CUDA") and every
// comm_nccl_* call is an ERR_USER saying so.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "comm/comm.h"
#include "core/err.h"

// Element types of the device collectives.
enum comm_dtype {
    COMM_F32,  // float
    COMM_BF16, // bfloat16 (2 bytes; sums accumulate in NCCL's own precision)
};

// This rank's CUDA device, chosen by comm_device_bind.
struct comm_device {
    int device;      // the CUDA device this rank uses, -1 when min_devices is 0
    int n_devices;   // devices this rank sees (0 without a GPU, a driver or CUDA)
    int min_devices; // the fewest devices any rank of the world sees
    int local_rank;  // rank among this node's ranks of the world
    int local_size;  // ranks of the world on this node
    bool is_shared;  // some node runs more ranks than it has devices
    char why[256];   // when min_devices is 0: which rank sees none and why
};

// Collective over the world (every rank calls it, once, before any CUDA
// work). Counts the devices each rank sees; when every rank sees at least one,
// picks device = local_rank % n_devices (the node-local rank in the world,
// so that learners and rollout workers on one node take different GPUs when
// there are enough; CUDA_VISIBLE_DEVICES narrows the choice) and makes it the
// current device. No device anywhere is not an error: min_devices is 0, device
// is -1 and why says which rank and why, so that all ranks decide alike.
// Errors: MPI failures and a cudaSetDevice failure (err_internal).
int comm_device_bind(const struct comm_world *w, struct comm_device *out, struct err *e);

struct comm_nccl;

// Collective over g (every member calls it; ranks outside g must not). Uses
// the current CUDA device (comm_device_bind's). Rank 0 of g creates the NCCL
// unique id, MPI_Bcast sends it over g->comm and every rank joins with
// ncclCommInitRank; NCCL rank = g->rank. Before any NCCL call the members
// agree (MPI_Allreduce) that each has a device and that no two of them on one
// node share a device (NCCL needs one device per rank of a communicator): if
// one cannot, every member returns the same error (ERR_USER) instead of
// hanging. Creates the communicator's own non-blocking stream. Errors from
// NCCL or CUDA: err_internal naming the call. A failure of ncclCommInitRank on
// one rank only (a network fault) may leave the others waiting in NCCL.
int comm_nccl_create(const struct comm_group *g, struct comm_nccl **out, struct err *e);
// Releases the communicator, its stream and event; sets *c to NULL. Waits for
// work enqueued on the communicator's stream first. Every member calls it
// (ncclCommFinalize may wait for the peers); after an asynchronous NCCL error
// it aborts the communicator instead, which waits for no one.
void comm_nccl_destroy(struct comm_nccl **c);

int comm_nccl_rank(const struct comm_nccl *c);
int comm_nccl_size(const struct comm_nccl *c);
// The communicator's own stream (non-blocking: no implicit order with the
// legacy default stream), for collectives that overlap compute.
void *comm_nccl_stream(const struct comm_nccl *c);

// In-place sum over the group of n elements of type t at device pointer buf,
// enqueued on stream. Same n and t on every rank.
int comm_nccl_allreduce_sum(struct comm_nccl *c, void *buf, size_t n, enum comm_dtype t,
                            void *stream, struct err *e);
// Broadcast of n elements of type t at device pointer buf from group rank root
// (0 <= root < size, else err_internal) to every rank, enqueued on stream.
int comm_nccl_bcast(struct comm_nccl *c, void *buf, size_t n, enum comm_dtype t, int root,
                    void *stream, struct err *e);
// Work enqueued on stream after this call waits for the work enqueued so far
// on after (an event recorded on after; neither stream blocks the host).
int comm_nccl_stream_wait(struct comm_nccl *c, void *stream, void *after, struct err *e);
// Blocks until the work enqueued on stream has finished, then reports an
// error NCCL raised asynchronously on the communicator (a peer failed, a
// network fault) as err_internal.
int comm_nccl_wait(struct comm_nccl *c, void *stream, struct err *e);
